// The files that only grow, one per day: the billing ledger and the function logs.
// Each append is one write(2) on an O_APPEND descriptor, so concurrent lines never
// interleave and a crash can tear at most the last line.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

namespace sofaas {

class AppendOnlyFile {
public:
    // Creates the file (and its directory) if needed. A file left with a torn last line by
    // a crash gets a '\n' first, so the torn line cannot swallow the next record.
    // Throws std::system_error naming the path.
    explicit AppendOnlyFile(const std::filesystem::path& file);
    ~AppendOnlyFile();
    AppendOnlyFile(const AppendOnlyFile&) = delete;
    AppendOnlyFile& operator=(const AppendOnlyFile&) = delete;

    void append(std::string_view bytes);  // throws std::system_error
    void sync();  // file and (the first time) its directory; throws std::system_error
    const std::filesystem::path& path() const { return path_; }

private:
    std::filesystem::path path_;
    int fd_ = -1;
    bool directory_synced_ = false;
};

}  // namespace sofaas
