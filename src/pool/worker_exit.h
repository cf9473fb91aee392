// Why a worker process ended, in the words a Lambda user knows (errorType/errorMessage).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>

#include "common/invocation.h"

namespace sofaas {

// What wait4 reported about a reaped worker.
struct WorkerExit {
    int wait_status = 0;
    long max_rss_kb = 0;  // ru_maxrss: the worker's peak resident memory
};

struct ExitDiagnosis {
    InvocationStatus status = InvocationStatus::crash;  // crash or oom
    std::string error_type;
    std::string error_message;
};

// Exit code 87 (allocation failed) means the function ran out of memory. So does an
// out-of-memory kill in the environment's cgroup (`oom_kills`, when it has one). Without
// a cgroup a kernel OOM kill arrives as a plain SIGKILL, and a peak RSS of at least 90% of
// the limit is the only evidence. Anything else is a crash, named by signal or exit status.
ExitDiagnosis diagnose_exit(const WorkerExit& exit, uint32_t memory_mb, std::optional<uint64_t> oom_kills = std::nullopt);

// Runtime.OutOfMemory, status oom.
ExitDiagnosis out_of_memory(uint32_t memory_mb);

// "segmentation fault (SIGSEGV)"
std::string describe_signal(int signal_number);

uint32_t kb_to_mb_rounded_up(uint64_t kb);

// Peak resident memory of a live process (VmHWM in /proc/PID/status), 0 when unreadable.
// A timed-out worker never sends its Result, and its answer does not wait for the reap.
uint64_t peak_rss_kb(pid_t pid);

}  // namespace sofaas
