#include "common/append_only_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>

#include "common/file_io.h"

namespace sofaas {

const FileCalls real_file_calls{::write, ::fdatasync, ::ftruncate};

namespace {

bool ends_with_newline(int fd, const std::filesystem::path& path) {
    struct stat status {};
    if (::fstat(fd, &status) != 0) throw_file_error("cannot stat", path);
    if (status.st_size == 0) return true;
    char last = 0;
    if (::pread(fd, &last, 1, status.st_size - 1) != 1) throw_file_error("cannot read", path);
    return last == '\n';
}

}  // namespace

AppendOnlyFile::AppendOnlyFile(const std::filesystem::path& file, const FileCalls& calls)
    : path_(file), calls_(calls) {
    std::error_code ec;
    std::filesystem::create_directories(file.parent_path(), ec);
    if (ec) throw std::system_error(ec, "cannot create directory " + file.parent_path().string());
    fd_ = ::open(file.c_str(), O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (fd_ < 0) throw_file_error("cannot open", file);
    try {
        torn_tail_ = !ends_with_newline(fd_, path_);
    } catch (...) {
        ::close(fd_);
        throw;
    }
}

AppendOnlyFile::~AppendOnlyFile() {
    ::close(fd_);
}

void AppendOnlyFile::append(std::string_view bytes) {
    std::lock_guard lock(write_mutex_);
    std::string sealed;
    if (torn_tail_) {
        sealed.reserve(bytes.size() + 1);
        sealed.append("\n").append(bytes);
        bytes = sealed;
    }
    // A regular file takes the whole buffer in one write(2) unless the disk is full; the
    // loop only finishes what a short write left, it never splits lines on purpose.
    size_t written = 0;
    while (written < bytes.size()) {
        const ssize_t n = calls_.write(fd_, bytes.data() + written, bytes.size() - written);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            const int error = n < 0 ? errno : EIO;
            cut_back(written);
            throw_file_error(error, "cannot write", path_);
        }
        written += static_cast<size_t>(n);
    }
    torn_tail_ = false;
}

// The part of a line that did reach the file is the last thing in it (writes to this file
// wait for write_mutex_): cut it off, so that the file ends where it ended before.
void AppendOnlyFile::cut_back(size_t written) {
    if (written == 0) return;
    struct stat status {};
    if (::fstat(fd_, &status) == 0 && status.st_size >= static_cast<off_t>(written) &&
        calls_.ftruncate(fd_, status.st_size - static_cast<off_t>(written)) == 0) {
        return;  // a tail that was torn before this write still is: torn_tail_ stays
    }
    torn_tail_ = true;
}

void AppendOnlyFile::sync() {
    if (calls_.fdatasync(fd_) != 0) throw_file_error("cannot fsync", path_);
    // The file may be new: its directory entry must be durable too, once.
    if (!directory_synced_) {
        fsync_directory(path_.parent_path());
        directory_synced_ = true;
    }
}

bool AppendOnlyFile::still_at_path() const {
    struct stat open_file {};
    struct stat at_path {};
    if (::fstat(fd_, &open_file) != 0 || ::stat(path_.c_str(), &at_path) != 0) return false;
    return open_file.st_nlink > 0 && open_file.st_ino == at_path.st_ino && open_file.st_dev == at_path.st_dev;
}

}  // namespace sofaas
