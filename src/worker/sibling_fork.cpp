#include "worker/sibling_fork.h"

#include <dlfcn.h>
#include <linux/sched.h>
#include <pthread.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>

namespace sofaas::worker {

std::variant<SiblingFork, std::string> SiblingFork::prepare() {
    // glibc describes struct pthread's fields for libthread_db (the debugger's view of
    // threads): {size in bits, count, offset}. It is the one published record of where
    // the tid lives, whatever the glibc version.
    const auto* field = static_cast<const uint32_t*>(dlsym(RTLD_DEFAULT, "_thread_db_pthread_tid"));
    if (!field) return std::string("glibc does not describe its thread structure (_thread_db_pthread_tid)");
    auto* cached_tid = reinterpret_cast<pid_t*>(reinterpret_cast<char*>(pthread_self()) + field[2]);
    if (field[0] != 8 * sizeof(pid_t) || field[1] != 1 || *cached_tid != gettid())
        return std::string("glibc's cached thread id is not where _thread_db_pthread_tid says");
    void* robust_list = nullptr;
    size_t robust_list_size = 0;
    if (syscall(SYS_get_robust_list, 0, &robust_list, &robust_list_size) != 0)
        return std::string("cannot read this thread's robust futex list: ") + std::strerror(errno);
    return SiblingFork(cached_tid, robust_list, robust_list_size);
}

pid_t SiblingFork::fork(uint64_t flags, int* pidfd, int cgroup_directory) const {
    // clone3, not clone: its arguments are laid out the same way on every architecture.
    clone_args arguments{};
    arguments.flags = flags | CLONE_CHILD_SETTID;
    if (cgroup_directory >= 0) {
        arguments.flags |= CLONE_INTO_CGROUP;
        arguments.cgroup = static_cast<uint64_t>(cgroup_directory);
    }
    // With CLONE_PARENT the child's exit signal is the zygote's own (SIGCHLD, as it was
    // posix_spawned); clone3 refuses to be given one. A child of the zygote's own
    // signals it as any child does.
    arguments.exit_signal = (flags & CLONE_PARENT) ? 0 : SIGCHLD;
    arguments.pidfd = reinterpret_cast<uintptr_t>(pidfd);
    arguments.child_tid = reinterpret_cast<uintptr_t>(cached_tid_);
    const auto pid = static_cast<pid_t>(syscall(SYS_clone3, &arguments, sizeof arguments));
    if (pid == 0 && robust_list_ != nullptr) syscall(SYS_set_robust_list, robust_list_, robust_list_size_);
    return pid;
}

}  // namespace sofaas::worker
