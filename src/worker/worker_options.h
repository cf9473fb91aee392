// The sofaas-worker command line, as the pool writes it:
//   sofaas-worker --library PATH --handler SYMBOL --function NAME --version N
//                 --memory-mb M --parent-pid PID [--user NAME] [--limits cgroup|rlimits]
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
};

// Every option but --user and --limits is required; the error names the first one missing or malformed.
std::variant<WorkerOptions, std::string> parse_options(int argc, char** argv);

// The zygote's command line (zygote.h):
//   sofaas-worker --zygote --parent-pid PID [--user NAME] [--thaw-on-exit DIR]
struct ZygoteOptions {
    pid_t parent_pid = 0;
    std::string user;
    std::string thaw_on_exit;  // cgroup v1: the daemon's freezer directory (zygote.h)
};
std::variant<ZygoteOptions, std::string> parse_zygote_options(int argc, char** argv);

}  // namespace sofaas::worker
