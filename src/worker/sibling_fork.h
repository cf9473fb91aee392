// How the zygote forks a worker that is the DAEMON's child, not its own: clone with
// CLONE_PARENT. The daemon then waits for it (pidfd, waitid), classifies its exit and
// kills its process group exactly as for a worker it exec'd itself. The same fork, with
// other flags, makes the init of a worker's pid namespace (zygote.h).
#pragma once

#include <linux/sched.h>
#include <sys/types.h>

#include <cstdint>

#include <cstddef>
#include <string>
#include <variant>

namespace sofaas::worker {

class SiblingFork {
public:
    // Finds where glibc keeps this thread's id, or says why a fork without glibc's fork()
    // would leave the child with a wrong one. Call in the process that will fork.
    static std::variant<SiblingFork, std::string> prepare();

    // Like fork(): 0 in the child, the child's pid in the caller, -1 with errno set.
    // Only in a single-threaded process: no atfork handlers run, no lock is reset.
    pid_t fork() const { return fork(CLONE_PARENT); }
    // With clone3's `flags` instead of CLONE_PARENT (CLONE_NEWPID, CLONE_NEWNS, ...); with
    // CLONE_PIDFD, `pidfd` receives a pidfd of the child. With a cgroup v2 directory, the
    // child starts in that cgroup (CLONE_INTO_CGROUP): it is counted there from its first
    // instruction, and no migration takes the kernel's cgroup-wide lock.
    pid_t fork(uint64_t flags, int* pidfd = nullptr, int cgroup_directory = -1) const;

private:
    SiblingFork(pid_t* cached_tid, void* robust_list, size_t robust_list_size)
        : cached_tid_(cached_tid), robust_list_(robust_list), robust_list_size_(robust_list_size) {}
    // glibc's own copy of the calling thread's id (struct pthread's tid). fork() has the
    // kernel write the child's id there (CLONE_CHILD_SETTID), as glibc's fork() does:
    // with the zygote's id left in it, the worker's recursive, error-checking and PI
    // mutexes and pthread_kill to its main thread would name the wrong thread.
    pid_t* cached_tid_;
    // The thread's robust futex list, which the kernel forgets in a forked child and
    // glibc's fork() registers again: without it, a robust mutex the worker holds when it
    // dies would not be marked owner-dead for the processes sharing it.
    void* robust_list_;
    size_t robust_list_size_;
};

}  // namespace sofaas::worker
