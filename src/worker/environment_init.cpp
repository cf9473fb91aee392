#include "worker/environment_init.h"

#include <poll.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <climits>

#include "worker/environment_mounts.h"

namespace sofaas::worker {
namespace {

constexpr pid_t worker_pid = 2;  // the namespace's second process (environment_init.h)

}  // namespace

void run_environment_init(int zygote) {
    // Nothing of the zygote's: not its socket to the daemon, not its other inits' sockets.
    if (zygote > 0) close_range(0, static_cast<unsigned>(zygote) - 1, 0);
    close_range(static_cast<unsigned>(zygote) + 1, UINT_MAX, 0);
    prctl(PR_SET_NAME, "sofaas-init");
    if (mount_environment_proc()) _exit(1);
    const char ready = 1;
    if (write(zygote, &ready, 1) != 1) _exit(1);

    char byte = 0;
    ssize_t got;
    do {
        got = read(zygote, &byte, 1);
    } while (got < 0 && errno == EINTR);
    if (got != 1) _exit(0);
    close(zygote);

    // A pidfd of a process that has exited (not yet reaped) still reports it; one reaped
    // already cannot be opened.
    const int worker = static_cast<int>(syscall(SYS_pidfd_open, worker_pid, 0));
    if (worker < 0) _exit(0);
    pollfd exited{worker, POLLIN, 0};
    while (poll(&exited, 1, -1) < 0 && errno == EINTR) {
    }
    _exit(0);
}

}  // namespace sofaas::worker
