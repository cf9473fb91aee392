// The files that only grow, one per day: the billing ledger and the function logs.
// Each append is one write(2) on an O_APPEND descriptor, so concurrent lines never
// interleave and a crash can tear at most the last line.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <mutex>
#include <string>
#include <string_view>

namespace sofaas {

// The system calls an AppendOnlyFile makes to change its file. Unit tests replace them to
// act out a failing disk (ENOSPC, a short write, EIO from fsync); everything else uses
// real_file_calls.
struct FileCalls {
    ssize_t (*write)(int fd, const void* bytes, size_t size);
    int (*fdatasync)(int fd);
    int (*ftruncate)(int fd, off_t length);
};
extern const FileCalls real_file_calls;

class AppendOnlyFile {
public:
    // Creates the file (and its directory) if needed. A file left with a torn last line by
    // a crash gets a '\n' first, so the torn line cannot swallow the next record.
    // Throws std::system_error naming the path.
    explicit AppendOnlyFile(const std::filesystem::path& file, const FileCalls& calls = real_file_calls);
    ~AppendOnlyFile();
    AppendOnlyFile(const AppendOnlyFile&) = delete;
    AppendOnlyFile& operator=(const AppendOnlyFile&) = delete;

    // Appends all of `bytes` or nothing: a write that fails part way (a full disk) is cut
    // off the file again, so no torn line is left for the next one to follow; should even
    // that fail, the next append starts with '\n'. Throws std::system_error.
    void append(std::string_view bytes);
    void sync();  // file and (the first time) its directory; throws std::system_error
    // False once the path names another file or none: rotated away or deleted.
    bool still_at_path() const;
    const std::filesystem::path& path() const { return path_; }

private:
    void cut_back(size_t written);

    std::filesystem::path path_;
    const FileCalls& calls_;
    int fd_ = -1;
    bool directory_synced_ = false;
    // The kernel serializes writes to one file on its inode lock (ext4, tmpfs), so this
    // costs no parallelism; it lets a failed write be cut back before anyone appends
    // behind it.
    std::mutex write_mutex_;
    bool torn_tail_ = false;  // under write_mutex_
};

}  // namespace sofaas
