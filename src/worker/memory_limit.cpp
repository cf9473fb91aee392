#include "worker/memory_limit.h"

#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <new>

#include "worker/protocol.h"

namespace sofaas::worker {
namespace {

// Total virtual size in bytes: the first field of /proc/self/statm, in pages.
std::optional<uint64_t> current_virtual_size() {
    const int fd = open("/proc/self/statm", O_RDONLY | O_CLOEXEC);
    if (fd < 0) return std::nullopt;
    char text[128];
    const ssize_t size = read(fd, text, sizeof text);
    close(fd);
    if (size <= 0) return std::nullopt;
    uint64_t pages = 0;
    if (std::from_chars(text, text + size, pages).ec != std::errc{}) return std::nullopt;
    return pages * static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
}

// Runs when operator new cannot allocate. Throwing std::bad_alloc into function code
// could leave it half-working; ending the process tells the pool exactly what happened.
void out_of_memory() {
    _exit(protocol::exit_out_of_memory);
}

}  // namespace

// Under AddressSanitizer (SOFAAS_SANITIZE) the cap still holds, but ASan's operator new
// never calls the new_handler: an allocation past the limit hangs in ASan's report until
// the deadline kills the worker, so out-of-memory shows as a timeout in those builds.
std::optional<std::string> apply_memory_limit(uint32_t memory_mb, LimitsBy limits_by) {
    std::set_new_handler(out_of_memory);
    if (limits_by == LimitsBy::cgroup) return std::nullopt;
    const auto mapped = current_virtual_size();
    if (!mapped) return std::string("cannot read /proc/self/statm: ") + std::strerror(errno);
    const rlim_t limit = *mapped + static_cast<rlim_t>(memory_mb) * 1024 * 1024;
    const rlimit address_space{limit, limit};
    if (setrlimit(RLIMIT_AS, &address_space) != 0)
        return std::string("cannot set RLIMIT_AS: ") + std::strerror(errno);
    return std::nullopt;
}

}  // namespace sofaas::worker
