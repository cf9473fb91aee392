#include "common/append_only_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>

#include "common/file_io.h"

namespace sofaas {
namespace {

[[noreturn]] void fail(const std::string& what, const std::filesystem::path& path) {
    throw std::system_error(errno, std::generic_category(), what + " " + path.string());
}

bool ends_with_newline(int fd, const std::filesystem::path& path) {
    struct stat status {};
    if (::fstat(fd, &status) != 0) fail("cannot stat", path);
    if (status.st_size == 0) return true;
    char last = 0;
    if (::pread(fd, &last, 1, status.st_size - 1) != 1) fail("cannot read", path);
    return last == '\n';
}

}  // namespace

AppendOnlyFile::AppendOnlyFile(const std::filesystem::path& file) : path_(file) {
    std::error_code ec;
    std::filesystem::create_directories(file.parent_path(), ec);
    if (ec) throw std::system_error(ec, "cannot create directory " + file.parent_path().string());
    fd_ = ::open(file.c_str(), O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (fd_ < 0) fail("cannot open", file);
    try {
        if (!ends_with_newline(fd_, path_)) write_all(fd_, "\n", path_);
    } catch (...) {
        ::close(fd_);
        throw;
    }
}

AppendOnlyFile::~AppendOnlyFile() {
    ::close(fd_);
}

void AppendOnlyFile::append(std::string_view bytes) {
    write_all(fd_, bytes, path_);
}

void AppendOnlyFile::sync() {
    if (::fdatasync(fd_) != 0) fail("cannot fsync", path_);
    // The file may be new: its directory entry must be durable too, once.
    if (!directory_synced_) {
        fsync_directory(path_.parent_path());
        directory_synced_ = true;
    }
}

}  // namespace sofaas
