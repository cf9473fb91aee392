// The sofaas-worker command line, as the pool writes it:
//   sofaas-worker --library PATH --handler SYMBOL --function NAME --version N
//                 --memory-mb M --parent-pid PID [--user NAME] [--ephemeral-storage-mb MB]
//                 [--limits cgroup|rlimits]
// and, when the worker execs itself again inside its sandbox (loader_exec.h), the same
// followed by --library-fd FD.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <variant>

namespace sofaas::worker {

// Who holds the function to its memory and process limits: the environment's cgroup
// (a root daemon on a host with cgroups), else this process's rlimits.
enum class LimitsBy { rlimits, cgroup };

struct WorkerOptions {
    std::string library;
    std::string handler;
    std::string function;
    uint32_t version = 0;
    uint32_t memory_mb = 0;
    pid_t parent_pid = 0;
    std::string user;  // empty: keep the daemon's user (see sandbox.h)
    LimitsBy limits = LimitsBy::rlimits;
    // The size of the environment's own /tmp, /var/tmp and /dev/shm (together), when it
    // has a mount namespace of its own (environment_mounts.h).
    uint32_t ephemeral_storage_mb = 512;
    // Set when the worker was exec'd again inside its sandbox: the library, opened before
    // the privilege drop, and nothing of the sandbox left to enter.
    int library_fd = -1;

    // Set by the zygote's child, never on the command line:
    bool own_namespaces = false;  // its own pid and mount namespaces, /tmp and /proc to mount
    int daemon_pidfd = -1;        // the daemon, which a worker in a pid namespace of its own
                                  // cannot name by pid (getppid() is 0 there)
};

// Every option but --user and --limits is required; the error names the first one missing or malformed.
std::variant<WorkerOptions, std::string> parse_options(int argc, char** argv);

// The zygote's command line (zygote.h):
//   sofaas-worker --zygote --parent-pid PID [--user NAME] [--namespaces own|shared]
//                 [--thaw-on-exit DIR]
// `own`: each worker in pid and mount namespaces of its own (zygote.h); it needs root.
struct ZygoteOptions {
    pid_t parent_pid = 0;
    std::string user;
    bool own_namespaces = false;
    std::string thaw_on_exit;  // cgroup v1: the daemon's freezer directory (zygote.h)
};
std::variant<ZygoteOptions, std::string> parse_zygote_options(int argc, char** argv);

}  // namespace sofaas::worker
