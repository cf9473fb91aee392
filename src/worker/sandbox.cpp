#include "worker/sandbox.h"

#include <fcntl.h>
#include <linux/magic.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>

#include "worker/environment_mounts.h"
#include "worker/syscall_filter.h"
#include "worker/worker_user.h"

namespace sofaas::worker {
namespace {

constexpr int first_cgroup_file = 4;

struct ProcessLimit {
    int resource;
    const char* name;
    rlim_t value;  // 0 for RLIMIT_FSIZE: the function's ephemeral storage
};

// Soft and hard limit alike, so the function cannot raise them again (a worker running
// as root could: that is one more reason for the worker user).
constexpr ProcessLimit process_limits[] = {
    // Bounds a fork bomb: fork() and pthread_create() fail with EAGAIN past it. The kernel
    // counts the processes and threads of the real uid, not of this worker: every worker
    // sharing the worker user shares the budget (and without a worker user, so does the
    // daemon's own user). So the limit cannot be per-function-small without starving
    // functions that use a few threads once many workers are warm, and it is Lambda's
    // 1024 processes/threads: a fork bomb stops there, far below the machine's pid_max,
    // at the price of one function's bomb leaving the others of the same user without
    // new threads until its worker is killed. Root ignores this limit altogether, which
    // is why a root daemon's workers drop to the worker user first. An environment with a
    // cgroup has its own 1024 there instead (pids.max), and no per-user budget.
    {RLIMIT_NPROC, "RLIMIT_NPROC", 1024},
    // Descriptors: Lambda's 1024. Bounds what one worker can pin in the kernel.
    {RLIMIT_NOFILE, "RLIMIT_NOFILE", 1024},
    // No core dumps of function memory (events, secrets from the environment).
    {RLIMIT_CORE, "RLIMIT_CORE", 0},
    // Largest file a function can write: as large as its ephemeral storage (Lambda's /tmp,
    // 512 MB by default), which under a root daemon holds every file it can write. (The
    // stdout/stderr memfds have a much smaller bound of their own: pool/captured_output.h.)
    {RLIMIT_FSIZE, "RLIMIT_FSIZE", 0},
};

std::optional<std::string> apply_process_limits(uint32_t ephemeral_storage_mb, LimitsBy limits_by) {
    for (const ProcessLimit& limit : process_limits) {
        if (limit.resource == RLIMIT_NPROC && limits_by == LimitsBy::cgroup) continue;
        rlimit current{};
        getrlimit(limit.resource, &current);
        const rlim_t wanted =
            limit.resource == RLIMIT_FSIZE ? static_cast<rlim_t>(ephemeral_storage_mb) * 1024 * 1024 : limit.value;
        // Never above what the daemon was given: raising a hard limit needs privilege.
        const rlim_t value = std::min(wanted, current.rlim_max);
        const rlimit lowered{value, value};
        if (setrlimit(limit.resource, &lowered) != 0)
            return std::string("cannot set ") + limit.name + ": " + std::strerror(errno);
    }
    // Past RLIMIT_FSIZE a write fails with EFBIG rather than killing the worker with
    // SIGXFSZ: an error the function can see and report.
    std::signal(SIGXFSZ, SIG_IGN);
    return std::nullopt;
}

bool is_cgroup_file(int fd) {
    struct statfs filesystem {};
    if (::fstatfs(fd, &filesystem) != 0) return false;
    return filesystem.f_type == CGROUP_SUPER_MAGIC || filesystem.f_type == CGROUP2_SUPER_MAGIC;
}

}  // namespace

std::optional<std::string> join_environment_cgroup() {
    // Only cgroup files: a worker started by hand (a test) may have inherited anything.
    for (int fd = first_cgroup_file; ::fcntl(fd, F_GETFD) != -1 && is_cgroup_file(fd); ++fd) {
        // "0" is the writer itself, in whatever pid namespace it sees.
        const bool joined = ::write(fd, "0", 1) == 1;
        const int error = errno;
        ::close(fd);
        if (!joined) return std::string("cannot enter the environment's cgroup: ") + std::strerror(error);
    }
    return std::nullopt;
}

bool stay_with_parent(pid_t parent_pid) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    // PDEATHSIG only fires for a parent death after the prctl: check for an earlier one.
    return getppid() == parent_pid;
}

bool stay_with_parent(const WorkerOptions& options) {
    if (options.daemon_pidfd < 0) return stay_with_parent(options.parent_pid);
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    pollfd exited{options.daemon_pidfd, POLLIN, 0};
    return poll(&exited, 1, 0) == 0;
}

std::optional<std::string> enter_sandbox(const WorkerOptions& options) {
    if (options.own_namespaces) {
        if (auto error = mount_environment_directories(options.ephemeral_storage_mb)) return error;
    }
    if (!options.user.empty()) {
        if (auto error = become_user(options.user)) return error;
        // Changing credentials clears PR_SET_PDEATHSIG: set it again.
        if (!stay_with_parent(options)) return "the daemon exited during the cold start";
    }
    if (options.daemon_pidfd >= 0) close(options.daemon_pidfd);
    if (auto error = apply_process_limits(options.ephemeral_storage_mb, options.limits)) return error;
    // No program the function execs gains privileges (setuid binaries, file capabilities);
    // it is also what lets an unprivileged process install a seccomp filter.
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
        return std::string("cannot set no_new_privs: ") + std::strerror(errno);
    return install_syscall_filter();
}

}  // namespace sofaas::worker
