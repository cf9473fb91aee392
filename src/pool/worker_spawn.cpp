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

// Workers run this much nicer than the daemon (CFS weight about 1/3 at +5).
constexpr int worker_nice_offset = 5;

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
                                          "--ephemeral-storage-mb", std::to_string(spec.ephemeral_storage_mb),
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
    return channels;
}

SpawnOutcome adopt_worker(pid_t pid, pid_t process_group, WorkerChannels channels) {
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
    process.process_group = process_group;
    process.pidfd = std::move(pidfd);
    process.socket = std::move(channels.daemon_end);
    process.stdout_capture = std::move(channels.stdout_capture);
    process.stderr_capture = std::move(channels.stderr_capture);
    return {std::move(process), {}};
}

}  // namespace sofaas
