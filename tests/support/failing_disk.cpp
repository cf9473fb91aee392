#include "support/failing_disk.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>

namespace sofaas::testing {
namespace {

ssize_t failing_write(int fd, const void* bytes, size_t size) {
    if (const int error = disk_faults.write_error.load()) {
        if (const long part = disk_faults.short_write.exchange(0); part > 0) {
            return ::write(fd, bytes, std::min(size, static_cast<size_t>(part)));
        }
        errno = error;
        return -1;
    }
    return ::write(fd, bytes, size);
}

int failing_fdatasync(int fd) {
    if (const int error = disk_faults.fsync_error.load()) {
        errno = error;
        return -1;
    }
    return ::fdatasync(fd);
}

int failing_ftruncate(int fd, off_t length) {
    if (const int error = disk_faults.truncate_error.load()) {
        errno = error;
        return -1;
    }
    return ::ftruncate(fd, length);
}

}  // namespace

DiskFaults disk_faults;
const FileCalls failing_disk{failing_write, failing_fdatasync, failing_ftruncate};

}  // namespace sofaas::testing
