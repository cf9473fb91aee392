#include "pool/captured_output.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

namespace sofaas {
namespace {

// One page more than is kept, so that a function that wrote exactly the capacity is told
// from one whose output was cut. A page, not a byte: the kernel copies a write page by
// page and refuses a page's worth that would cross the sealed end, so the last, partial
// page of a file could only be filled by writes that stop short of it.
off_t capture_file_size() {
    return static_cast<off_t>(capture_capacity_bytes) + ::sysconf(_SC_PAGESIZE);
}

}  // namespace

UniqueFd create_capture(const char* name) {
    UniqueFd fd(::memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING));
    if (!fd) return fd;
    // Sparse: pages are only allocated as the function writes. F_SEAL_SEAL keeps the
    // function from adding F_SEAL_WRITE, which would stop the daemon releasing them.
    if (::ftruncate(fd.get(), capture_file_size()) != 0 ||
        ::fcntl(fd.get(), F_ADD_SEALS, F_SEAL_GROW | F_SEAL_SHRINK | F_SEAL_SEAL) != 0) {
        fd.reset();
    }
    return fd;
}

std::string drain_capture(int memfd, size_t max_bytes) {
    struct stat info {};
    const off_t end = ::lseek(memfd, 0, SEEK_CUR);  // the worker's offset: what it wrote
    if (end <= 0 || ::fstat(memfd, &info) != 0) {
        return {};
    }
    const auto written = static_cast<size_t>(std::min<off_t>(end, info.st_size));
    std::string text(std::min(written, max_bytes), '\0');
    size_t have = 0;
    while (have < text.size()) {
        ssize_t n = ::pread(memfd, text.data() + have, text.size() - have, static_cast<off_t>(have));
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            break;
        }
        have += static_cast<size_t>(n);
    }
    text.resize(have);
    if (written > have) {
        if (!text.empty() && text.back() != '\n') {
            text += '\n';
        }
        text += "[sofaas: output cut at " + std::to_string(have) + " bytes per invocation]\n";
    }
    (void)::fallocate(memfd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, info.st_size);
    ::lseek(memfd, 0, SEEK_SET);
    return text;
}

}  // namespace sofaas
