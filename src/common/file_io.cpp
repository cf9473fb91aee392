#include "common/file_io.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <system_error>

namespace sofaas {

void throw_file_error(int error, const std::string& what, const std::filesystem::path& path) {
    throw std::system_error(error, std::generic_category(), what + " " + path.string());
}

void throw_file_error(const std::string& what, const std::filesystem::path& path) {
    throw_file_error(errno, what, path);
}

namespace {

class FileDescriptor {
public:
    explicit FileDescriptor(int fd) : fd_(fd) {}
    ~FileDescriptor() {
        if (fd_ >= 0) ::close(fd_);
    }
    FileDescriptor(const FileDescriptor&) = delete;
    FileDescriptor& operator=(const FileDescriptor&) = delete;
    int get() const { return fd_; }

private:
    int fd_;
};

}  // namespace

void write_all(int fd, std::string_view bytes, const std::filesystem::path& path) {
    // A regular file takes the whole buffer in one write(2) unless the disk is full; the
    // loop only finishes what a short write left, it never splits lines on purpose.
    while (!bytes.empty()) {
        ssize_t written = ::write(fd, bytes.data(), bytes.size());
        if (written < 0) {
            if (errno == EINTR) continue;
            throw_file_error("cannot write", path);
        }
        bytes.remove_prefix(static_cast<size_t>(written));
    }
}

std::string read_whole_file(const std::filesystem::path& file) {
    FileDescriptor fd(::open(file.c_str(), O_RDONLY | O_CLOEXEC));
    if (fd.get() < 0) throw_file_error("cannot open", file);
    std::string contents;
    char buffer[65536];
    while (true) {
        ssize_t n = ::read(fd.get(), buffer, sizeof buffer);
        if (n < 0) {
            if (errno == EINTR) continue;
            throw_file_error("cannot read", file);
        }
        if (n == 0) return contents;
        contents.append(buffer, static_cast<size_t>(n));
    }
}

void write_file_synced(const std::filesystem::path& file, std::string_view bytes, unsigned mode) {
    FileDescriptor fd(::open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode));
    if (fd.get() < 0) throw_file_error("cannot create", file);
    // Exactly `mode`, whatever the umask (the daemon's is 077).
    if (::fchmod(fd.get(), mode) != 0) throw_file_error("cannot chmod", file);
    write_all(fd.get(), bytes, file);
    if (::fsync(fd.get()) != 0) throw_file_error("cannot fsync", file);
}

void fsync_directory(const std::filesystem::path& directory) {
    FileDescriptor fd(::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (fd.get() < 0) throw_file_error("cannot open directory", directory);
    if (::fsync(fd.get()) != 0) throw_file_error("cannot fsync directory", directory);
}

void replace_file_atomically(const std::filesystem::path& file, std::string_view bytes, unsigned mode) {
    std::filesystem::path temporary = file;
    temporary += ".tmp-" + std::to_string(::getpid());
    write_file_synced(temporary, bytes, mode);
    if (::rename(temporary.c_str(), file.c_str()) != 0) {
        int saved = errno;
        ::unlink(temporary.c_str());
        errno = saved;
        throw_file_error("cannot rename into", file);
    }
    fsync_directory(file.parent_path());
}

}  // namespace sofaas
