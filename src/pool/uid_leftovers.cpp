#include "pool/uid_leftovers.h"

#include <sched.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <thread>
#include <vector>

#include "pool/child_processes.h"

namespace sofaas {
namespace {

constexpr int exit_done = 0;
constexpr int exit_no_uid = 1;
// A uid whose processes keep appearing faster than they die is not handed out.
constexpr int max_rounds = 50;

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
        syscall(SYS_exit_group, exit_no_uid);
    }
    syscall(SYS_kill, -1, SIGKILL);
    syscall(SYS_exit_group, exit_done);
    return 0;
}

std::string failed(uid_t uid, const char* step, int error) {
    return "cannot end what runs as uid " + std::to_string(uid) + ": " + step + ": " + std::strerror(error);
}

enum class Helped { done, killed, failed };

// The helper's kill(-1, SIGKILL) as `uid`: done, or the helper was killed first.
Helped kill_with_helper(uid_t uid, std::string& error) {
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
    if (pid < 0) {
        error = failed(uid, "clone", clone_error);
        return Helped::failed;
    }
    birth.born(pid);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    ChildProcesses::of_this_process().reaped(pid);
    if (helper.error != 0) {
        error = failed(uid, "setresuid", helper.error);
        return Helped::failed;
    }
    // Killed: by a process of `uid`, which may have outlived the helper.
    return WIFEXITED(status) && WEXITSTATUS(status) == exit_done ? Helped::done : Helped::killed;
}

// From /proc/PID/status: whether the process is alive (not a zombie) and runs as `uid`
// (real, effective or saved).
bool runs_as(const std::filesystem::path& status_file, uid_t uid) {
    std::ifstream file(status_file);
    bool alive = false;
    bool as_uid = false;
    for (std::string line; std::getline(file, line);) {
        if (line.starts_with("State:")) {
            alive = line.find('Z') == std::string::npos;
        } else if (line.starts_with("Uid:")) {
            std::istringstream ids(line.substr(4));
            for (int i = 0; i < 3; ++i) {
                unsigned long id = 0;
                if (ids >> id && id == uid) as_uid = true;
            }
            break;  // Uid: comes after State:
        }
    }
    return alive && as_uid;
}

// One walk through /proc; returns how many processes of `uid` it killed.
int kill_by_pidfd(uid_t uid) {
    int killed = 0;
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator("/proc", ec)) {
        const std::string name = entry.path().filename().string();
        if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
        const auto pid = static_cast<pid_t>(std::strtol(name.c_str(), nullptr, 10));
        if (!runs_as(entry.path() / "status", uid)) continue;
        // The pidfd pins the process: checked again through it, the pid cannot have been
        // reused by someone else meanwhile.
        const int pidfd = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
        if (pidfd < 0) continue;
        if (runs_as(entry.path() / "status", uid) && syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, nullptr, 0) == 0)
            ++killed;
        close(pidfd);
    }
    return killed;
}

}  // namespace

std::optional<std::string> kill_processes_of(uid_t uid) {
    std::string error;
    switch (kill_with_helper(uid, error)) {
    case Helped::done: return std::nullopt;
    case Helped::failed: return error;
    case Helped::killed: break;
    }
    for (int round = 0; round < max_rounds; ++round) {
        if (kill_by_pidfd(uid) == 0) return std::nullopt;
        // SIGKILL lands at once; dying takes a moment.
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return "cannot end what runs as uid " + std::to_string(uid) + ": its processes keep appearing";
}

}  // namespace sofaas
