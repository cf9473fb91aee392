// Starting one sofaas-worker process under the worker contract: the exact command line,
// fd 0 = /dev/null, fd 1/2 = capture memfds, fd 3 = the protocol socket, nothing else;
// an environment of exactly the function's variables plus the SOFAAS_* ones.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <optional>
#include <string>

#include "common/function_spec.h"
#include "pool/unique_fd.h"

namespace sofaas {

struct WorkerProcess {
    pid_t pid = -1;
    UniqueFd pidfd;           // becomes readable when the process exits
    UniqueFd socket;          // the daemon's end of the worker's fd 3
    UniqueFd stdout_capture;  // memfd behind the worker's fd 1
    UniqueFd stderr_capture;  // memfd behind the worker's fd 2
};

struct SpawnOutcome {
    std::optional<WorkerProcess> process;
    std::string error;  // why there is no process
};

// `worker_user` (when not empty) becomes the worker's --user: function code runs as that user.
SpawnOutcome spawn_worker(const std::filesystem::path& worker_binary, const FunctionVersion& version,
                          const std::string& worker_user = {});

}  // namespace sofaas
