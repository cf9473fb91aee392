// What one sofaas-worker process is started with, under the worker contract: the exact
// command line, fd 0 = /dev/null, fd 1/2 = capture memfds, fd 3 = the protocol socket,
// from fd 4 the cgroup.procs files of its environment's cgroup if it must enter it itself
// (it does first thing), nothing else; an environment of exactly the function's variables
// plus the SOFAAS_* ones. A zygote forks it (zygote_process.h).
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "cgroup/environment_cgroup.h"
#include "cgroup/environment_cgroups.h"
#include "common/function_spec.h"
#include "common/unique_fd.h"

namespace sofaas {

struct WorkerProcess {
    pid_t pid = -1;
    // The group to SIGKILL to end the whole environment: the worker's own, or the one
    // led by the init of its pid namespace (worker/environment_init.h).
    pid_t process_group = -1;
    std::optional<uid_t> own_uid;  // the uid it has to itself (worker_uids.h), if any
    UniqueFd pidfd;           // becomes readable when the process exits
    UniqueFd socket;          // the daemon's end of the worker's fd 3
    UniqueFd stdout_capture;  // memfd behind the worker's fd 1
    UniqueFd stderr_capture;  // memfd behind the worker's fd 2
    cgroup::EnvironmentCgroupPtr cgroup;  // everything it starts is in it; null without cgroups
};

struct SpawnOutcome {
    std::optional<WorkerProcess> process;
    std::string error;  // why there is no process
};

// What a worker is started with.
struct WorkerCommand {
    std::vector<std::string> arguments;    // argv; argv[0] is the worker binary
    std::vector<std::string> environment;  // "KEY=value"
    int nice = 0;                          // absolute: the daemon's own plus 5
};

// `worker_user` (when not empty) becomes the worker's --user: function code runs as that user.
// `in_cgroup`: the environment's cgroup holds the function to its memory and process limits
// (--limits cgroup), not the worker's rlimits.
WorkerCommand worker_command(const std::filesystem::path& worker_binary, const FunctionVersion& version,
                             const std::string& worker_user = {}, bool in_cgroup = false);

// A worker's descriptors before it exists: the worker gets worker_end as fd 3 and the
// captures as fds 1 and 2; the daemon keeps daemon_end and the captures. The placement
// into its environment's cgroup goes to the zygote, for the worker's fork alone.
struct WorkerChannels {
    UniqueFd daemon_end;
    UniqueFd worker_end;
    UniqueFd stdout_capture;
    UniqueFd stderr_capture;
    cgroup::Placement cgroup;
};
std::variant<WorkerChannels, std::string> open_worker_channels();

// `pid`, a child of this process started by someone else (the zygote), now runs as the
// worker in `process_group`: its pidfd and the daemon's ends of its channels. The child
// is killed and reaped if it cannot be watched.
SpawnOutcome adopt_worker(pid_t pid, pid_t process_group, WorkerChannels channels);

}  // namespace sofaas
