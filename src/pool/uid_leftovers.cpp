#include "pool/uid_leftovers.h"

#include <sched.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>

#include "pool/child_processes.h"

namespace sofaas {
namespace {

struct Helper {
    uid_t uid;
    int error = 0;  // why it could not become `uid`
};

// The helper's whole life, on a stack of its own. Only system calls: it shares the
// daemon's memory (CLONE_VM), and glibc's setresuid() would try to change the credentials
// of the daemon's threads too.
int kill_as(void* argument) {
    auto* helper = static_cast<Helper*>(argument);
    // All three ids, so no capability is left (the kernel clears them when no id is 0)
    // and kill() checks the uid alone.
    if (syscall(SYS_setresuid, helper->uid, helper->uid, helper->uid) != 0) {
        helper->error = errno;
        syscall(SYS_exit_group, 1);
    }
    if (syscall(SYS_kill, -1, 0) == 0) syscall(SYS_kill, -1, SIGKILL);
    syscall(SYS_exit_group, 0);
    return 0;
}

std::string failed(uid_t uid, const char* step, int error) {
    return "cannot end what runs as uid " + std::to_string(uid) + ": " + step + ": " + std::strerror(error);
}

}  // namespace

std::optional<std::string> kill_processes_of(uid_t uid) {
    constexpr size_t stack_size = 64 * 1024;
    const auto stack = std::make_unique<char[]>(stack_size);
    Helper helper{uid};
    // As posix_spawn does: no signal handler of the daemon's may run in the helper, which
    // shares its memory.
    sigset_t all, previous;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &previous);
    ChildProcesses::Birth birth = ChildProcesses::of_this_process().expect_birth();
    // CLONE_VFORK: this thread waits until the helper is gone.
    const pid_t pid = clone(kill_as, stack.get() + stack_size, CLONE_VM | CLONE_VFORK | SIGCHLD, &helper);
    const int clone_error = errno;
    pthread_sigmask(SIG_SETMASK, &previous, nullptr);
    if (pid < 0) return failed(uid, "clone", clone_error);
    birth.born(pid);
    while (waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
    }
    ChildProcesses::of_this_process().reaped(pid);
    if (helper.error != 0) return failed(uid, "setresuid", helper.error);
    return std::nullopt;
}

}  // namespace sofaas
