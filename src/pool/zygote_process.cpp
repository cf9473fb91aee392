#include "pool/zygote_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "pool/child_processes.h"
#include "pool/child_spawn.h"
#include "worker/zygote_protocol.h"

namespace sofaas {
namespace {

// Preparing takes the zygote a few milliseconds; a loaded machine (or a sanitizer build)
// can stretch that a lot, and the daemon waits only once, at startup.
constexpr int hello_timeout_ms = 10'000;
// A fork is a fraction of a millisecond. A zygote silent for this long is stuck (stopped,
// or starved): it is killed, and the worker is started the other way.
constexpr int reply_timeout_ms = 2'000;

constexpr int zygote_socket_fd = 3;

enum class Wait { ready, timeout, error };
Wait wait_readable(int fd, int timeout_ms) {
    pollfd watched{fd, POLLIN, 0};
    int ready;
    do {
        ready = ::poll(&watched, 1, timeout_ms);
    } while (ready < 0 && errno == EINTR);
    if (ready == 0) return Wait::timeout;
    return ready > 0 ? Wait::ready : Wait::error;
}

void kill_and_reap(pid_t pid) {
    ::kill(pid, SIGKILL);
    while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
    }
    ChildProcesses::of_this_process().reaped(pid);
}

// The zygote's own contract: fd 0 and 1 /dev/null, fd 2 the daemon's stderr (where a
// zygote that cannot parse its command line says so), fd 3 its socket, nothing else; an
// empty environment (each worker gets its function's); the rest as for every child
// (child_spawn.h).
std::variant<pid_t, std::string> spawn_zygote(const std::filesystem::path& worker_binary,
                                              const std::string& worker_user, bool own_namespaces,
                                              const std::filesystem::path& thaw_on_exit, int zygote_end) {
    SpawnFileActions actions;
    ::posix_spawn_file_actions_addopen(actions.get(), 0, "/dev/null", O_RDONLY, 0);
    ::posix_spawn_file_actions_addopen(actions.get(), 1, "/dev/null", O_WRONLY, 0);
    ::posix_spawn_file_actions_adddup2(actions.get(), zygote_end, zygote_socket_fd);
    ::posix_spawn_file_actions_addclosefrom_np(actions.get(), zygote_socket_fd + 1);

    std::vector<std::string> arguments = {worker_binary.string(), "--zygote", "--parent-pid",
                                          std::to_string(::getpid())};
    if (!worker_user.empty()) arguments.insert(arguments.end(), {"--user", worker_user});
    if (own_namespaces) arguments.insert(arguments.end(), {"--namespaces", "own"});
    if (!thaw_on_exit.empty()) arguments.insert(arguments.end(), {"--thaw-on-exit", thaw_on_exit.string()});
    const SpawnedChild spawned = spawn_child(std::move(arguments), {}, actions);
    if (spawned.error != 0) return system_error("cannot start " + worker_binary.string() + " --zygote", spawned.error);
    return spawned.pid;
}

}  // namespace

std::variant<std::unique_ptr<Zygote>, std::string> Zygote::start(const std::filesystem::path& worker_binary,
                                                                const std::string& worker_user,
                                                                bool own_namespaces,
                                                                const std::filesystem::path& thaw_on_exit) {
    int pair[2];
    if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) != 0) {
        return system_error("socketpair", errno);
    }
    UniqueFd daemon_end(pair[0]);
    UniqueFd zygote_end(pair[1]);
    // posix_spawn's dup2 onto fd 3 must not find its source among 0..3.
    if (zygote_end.get() <= zygote_socket_fd) {
        zygote_end.reset(::fcntl(zygote_end.get(), F_DUPFD_CLOEXEC, zygote_socket_fd + 1));
        if (!zygote_end) return system_error("fcntl(F_DUPFD_CLOEXEC)", errno);
    }
    auto spawned = spawn_zygote(worker_binary, worker_user, own_namespaces, thaw_on_exit, zygote_end.get());
    if (auto* error = std::get_if<std::string>(&spawned)) return std::move(*error);
    zygote_end.reset();
    std::unique_ptr<Zygote> zygote(new Zygote(std::get<pid_t>(spawned), std::move(daemon_end)));

    // Its hello says it is ready, or why it cannot serve.
    std::string hello;
    std::vector<int> no_fds;
    if (wait_readable(zygote->socket_.get(), hello_timeout_ms) != Wait::ready) {
        return std::string("the zygote did not get ready in time");
    }
    const auto received = zygote::receive_message(zygote->socket_.get(), hello, no_fds);
    for (const int fd : no_fds) ::close(fd);
    if (received != zygote::Received::message) return std::string("the zygote exited before it was ready");
    if (hello != zygote::ready_hello) return "the zygote cannot serve: " + hello;
    return zygote;
}

Zygote::~Zygote() {
    // Its workers are the daemon's children: they do not notice.
    kill_and_reap(pid_);
}

Zygote::Fork Zygote::fork_worker(const WorkerCommand& command, WorkerChannels channels) {
    zygote::SpawnRequest spawn{command.arguments, command.environment, command.nice};
    std::vector<int> fds = {channels.worker_end.get(), channels.stdout_capture.get(), channels.stderr_capture.get()};
    // cgroup v2: cloned straight into its cgroup, the worker has nothing to join.
    if (channels.cgroup.directory) {
        spawn.clone_into_cgroup = true;
        fds.push_back(channels.cgroup.directory.get());
    } else {
        spawn.cgroup_files = static_cast<uint32_t>(channels.cgroup.procs_files.size());
        for (const UniqueFd& file : channels.cgroup.procs_files) fds.push_back(file.get());
    }
    const std::string request = zygote::encode(spawn);
    ChildProcesses::Birth birth = ChildProcesses::of_this_process().expect_birth();
    if (const int error = zygote::send_message(socket_.get(), request, fds.data(), fds.size()); error != 0) {
        // EMSGSIZE: this request is too large for the socket; the zygote is fine.
        return {std::nullopt, system_error("zygote request", error), error != EMSGSIZE};
    }
    std::string message;
    std::vector<int> no_fds;
    const Wait waited = wait_readable(socket_.get(), reply_timeout_ms);
    const auto received = waited == Wait::ready ? zygote::receive_message(socket_.get(), message, no_fds)
                                                : zygote::Received::broken;
    for (const int fd : no_fds) ::close(fd);
    const auto reply = received == zygote::Received::message ? zygote::decode_spawn_reply(message) : std::nullopt;
    if (!reply) {
        return {std::nullopt, waited == Wait::timeout ? "the zygote did not answer" : "the zygote is gone", true};
    }
    if (reply->pid <= 0) return {std::nullopt, system_error("zygote fork", reply->error), false};
    birth.born(reply->pid, reply->process_group);
    // The worker joins its group (its own, or its namespace init's) first thing; doing it
    // from here too means it is in it when this returns.
    ::setpgid(reply->pid, reply->process_group);

    SpawnOutcome adopted = adopt_worker(reply->pid, reply->process_group, std::move(channels));
    return {std::move(adopted.process), std::move(adopted.error), false};
}

}  // namespace sofaas
