#include "pool/worker_spawn.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "pool/captured_output.h"
#include "pool/child_processes.h"
#include "pool/child_spawn.h"

namespace sofaas {
namespace {

// The worker's descriptors, by contract.
constexpr int worker_stdin = 0;
constexpr int worker_stdout = 1;
constexpr int worker_stderr = 2;
constexpr int worker_socket = 3;
constexpr int first_unshared_fd = 4;
// Workers run this much nicer than the daemon (CFS weight about 1/3 at +5).
constexpr int worker_nice_offset = 5;

// posix_spawn's dup2 actions run in order, so a source descriptor that is itself one of
// the targets could be overwritten before it is duplicated (a daemon started with closed
// stdio would hand out such numbers). Moving sources above every target rules that out.
bool move_above_worker_fds(UniqueFd& fd, int first_free = first_unshared_fd) {
    if (fd.get() >= first_free) {
        return true;
    }
    int moved = ::fcntl(fd.get(), F_DUPFD_CLOEXEC, first_free);
    if (moved < 0) {
        return false;
    }
    fd.reset(moved);
    return true;
}

// glibc 2.36 declares pidfd_open without C linkage in <sys/pidfd.h>, so C++ cannot link
// against it; the system call itself is what we want anyway.
int open_pidfd(pid_t pid) {
    return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
}

std::vector<std::string> worker_arguments(const std::filesystem::path& worker_binary,
                                          const FunctionVersion& version, const std::string& worker_user,
                                          bool in_cgroup) {
    const FunctionSpec& spec = version.spec;
    std::vector<std::string> arguments = {worker_binary.string(),
                                          "--library", version.library.string(),
                                          "--handler", spec.handler,
                                          "--function", spec.name,
                                          "--version", std::to_string(spec.version),
                                          "--memory-mb", std::to_string(spec.memory_mb),
                                          "--parent-pid", std::to_string(::getpid())};
    if (!worker_user.empty()) {
        arguments.insert(arguments.end(), {"--user", worker_user});
    }
    if (in_cgroup) {
        arguments.insert(arguments.end(), {"--limits", "cgroup"});
    }
    return arguments;
}

// The function's own variables first; PATH and LANG only when the function did not set
// them; the SOFAAS_* variables always describe the real function.
std::vector<std::string> worker_environment(const FunctionSpec& spec) {
    std::vector<std::string> env;
    bool has_path = false;
    bool has_lang = false;
    for (const auto& [key, value] : spec.env) {
        if (key.starts_with("SOFAAS_FUNCTION_")) {
            continue;
        }
        has_path = has_path || key == "PATH";
        has_lang = has_lang || key == "LANG";
        env.push_back(key + "=" + value);
    }
    if (!has_path) {
        env.push_back("PATH=/usr/local/bin:/usr/bin:/bin");
    }
    if (!has_lang) {
        env.push_back("LANG=C.UTF-8");
    }
    env.push_back("SOFAAS_FUNCTION_NAME=" + spec.name);
    env.push_back("SOFAAS_FUNCTION_VERSION=" + std::to_string(spec.version));
    env.push_back("SOFAAS_FUNCTION_MEMORY_MB=" + std::to_string(spec.memory_mb));
    return env;
}

}  // namespace

WorkerCommand worker_command(const std::filesystem::path& worker_binary, const FunctionVersion& version,
                             const std::string& worker_user, bool in_cgroup) {
    // Function code runs below the daemon: a deadline's SIGKILL and its 504, and every
    // other request, must not queue for a CPU behind functions that spin.
    const int daemon_nice = ::getpriority(PRIO_PROCESS, 0);
    return {worker_arguments(worker_binary, version, worker_user, in_cgroup), worker_environment(version.spec),
            std::min(daemon_nice + worker_nice_offset, 19)};
}

std::variant<WorkerChannels, std::string> open_worker_channels() {
    int pair[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0) {
        return system_error("socketpair", errno);
    }
    WorkerChannels channels{UniqueFd(pair[0]), UniqueFd(pair[1]), create_capture("sofaas-stdout"),
                            create_capture("sofaas-stderr")};
    if (!channels.stdout_capture || !channels.stderr_capture) {
        return system_error("memfd_create", errno);
    }
    if (!move_above_worker_fds(channels.worker_end) || !move_above_worker_fds(channels.stdout_capture) ||
        !move_above_worker_fds(channels.stderr_capture)) {
        return system_error("fcntl(F_DUPFD_CLOEXEC)", errno);
    }
    return channels;
}

SpawnOutcome spawn_worker(WorkerCommand command, WorkerChannels channels) {
    std::vector<UniqueFd>& cgroup_files = channels.cgroup.procs_files;
    const int first_free = first_unshared_fd + static_cast<int>(cgroup_files.size());
    for (UniqueFd& file : cgroup_files) {
        if (!move_above_worker_fds(file, first_free)) return {std::nullopt, system_error("fcntl(F_DUPFD_CLOEXEC)", errno)};
    }
    SpawnFileActions actions;
    ::posix_spawn_file_actions_addopen(actions.get(), worker_stdin, "/dev/null", O_RDONLY, 0);
    ::posix_spawn_file_actions_adddup2(actions.get(), channels.stdout_capture.get(), worker_stdout);
    ::posix_spawn_file_actions_adddup2(actions.get(), channels.stderr_capture.get(), worker_stderr);
    ::posix_spawn_file_actions_adddup2(actions.get(), channels.worker_end.get(), worker_socket);
    for (size_t i = 0; i < cgroup_files.size(); ++i) {
        ::posix_spawn_file_actions_adddup2(actions.get(), cgroup_files[i].get(), first_unshared_fd + static_cast<int>(i));
    }
    // Asio and libraries open descriptors without CLOEXEC; the worker must hold none of
    // them (a leaked listening socket or ledger file would outlive the daemon).
    ::posix_spawn_file_actions_addclosefrom_np(actions.get(), first_free);

    // The worker sets PR_SET_PDEATHSIG, which fires when the *thread* that spawned it
    // exits, not the process. Workers are spawned from io threads, which live as long as
    // the daemon, so that is the daemon's death.
    const std::string binary = command.arguments.front();
    const SpawnedChild spawned = spawn_child(std::move(command.arguments), std::move(command.environment), actions);
    if (spawned.error != 0) return {std::nullopt, system_error("cannot start " + binary, spawned.error)};
    const pid_t pid = spawned.pid;
    // Best effort.
    ::setpriority(PRIO_PROCESS, static_cast<id_t>(pid), command.nice);
    return adopt_worker(pid, std::move(channels));
}

SpawnOutcome adopt_worker(pid_t pid, WorkerChannels channels) {
    UniqueFd pidfd(open_pidfd(pid));
    if (!pidfd) {
        int open_error = errno;
        ::kill(pid, SIGKILL);
        ::waitpid(pid, nullptr, 0);
        ChildProcesses::of_this_process().reaped(pid);
        return {std::nullopt, system_error("pidfd_open", open_error)};
    }

    WorkerProcess process;
    process.pid = pid;
    process.pidfd = std::move(pidfd);
    process.socket = std::move(channels.daemon_end);
    process.stdout_capture = std::move(channels.stdout_capture);
    process.stderr_capture = std::move(channels.stderr_capture);
    return {std::move(process), {}};
}

}  // namespace sofaas
