// The sofaas-worker command line, as the pool writes it:
//   sofaas-worker --library PATH --handler SYMBOL --function NAME --version N
//                 --memory-mb M --parent-pid PID [--user NAME]
// and, when the worker execs itself again inside its sandbox (loader_exec.h), the same
// followed by --library-fd FD.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <variant>

namespace sofaas::worker {

struct WorkerOptions {
    std::string library;
    std::string handler;
    std::string function;
    uint32_t version = 0;
    uint32_t memory_mb = 0;
    pid_t parent_pid = 0;
    std::string user;  // empty: keep the daemon's user (see sandbox.h)
    // Set when the worker was exec'd again inside its sandbox: the library, opened before
    // the privilege drop, and nothing of the sandbox left to enter.
    int library_fd = -1;
};

// Every option but --user is required; the error names the first one missing or malformed.
std::variant<WorkerOptions, std::string> parse_options(int argc, char** argv);

// The zygote's command line (zygote.h): sofaas-worker --zygote --parent-pid PID [--user NAME]
struct ZygoteOptions {
    pid_t parent_pid = 0;
    std::string user;
};
std::variant<ZygoteOptions, std::string> parse_zygote_options(int argc, char** argv);

}  // namespace sofaas::worker
