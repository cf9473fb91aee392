// The daemon's side of the zygote (src/worker/zygote.h): one long-lived
// `sofaas-worker --zygote` child that forks workers on request, each of them a child of
// the daemon, in the state an exec'd worker starts in. It saves a cold start the exec,
// the dynamic loader, the worker user's lookup and the seccomp filter's compilation.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <variant>

#include "common/unique_fd.h"
#include "pool/worker_spawn.h"

namespace sofaas {

class Zygote {
public:
    // Starts it (from a thread that lives as long as the daemon: the zygote dies when
    // that thread does, PR_SET_PDEATHSIG) and waits for its hello. With `own_namespaces`
    // each worker gets pid, mount and IPC namespaces of its own (worker/zygote.h), which
    // needs root. `thaw_on_exit`: cgroup v1's freezer directory of the daemon (zygote.h),
    // if any. On failure, why.
    static std::variant<std::unique_ptr<Zygote>, std::string> start(const std::filesystem::path& worker_binary,
                                                                   const std::string& worker_user,
                                                                   bool own_namespaces = false,
                                                                   const std::filesystem::path& thaw_on_exit = {});
    ~Zygote();  // SIGKILL and reap
    Zygote(const Zygote&) = delete;
    Zygote& operator=(const Zygote&) = delete;

    struct Fork {
        std::optional<WorkerProcess> process;
        std::string error;    // why there is no process
        bool broken = false;  // the zygote is dead or did not answer: it serves no more
    };
    // Asks for one worker. Not thread-safe: one request at a time.
    Fork fork_worker(const WorkerCommand& command, WorkerChannels channels);

    pid_t pid() const { return pid_; }

private:
    Zygote(pid_t pid, UniqueFd socket) : pid_(pid), socket_(std::move(socket)) {}
    pid_t pid_;
    UniqueFd socket_;  // SOCK_SEQPACKET; the zygote holds the other end as its fd 3
};

}  // namespace sofaas
