// The function's memory limit, enforced inside the worker.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "worker/worker_options.h"

namespace sofaas::worker {

// Makes a failed operator new end the process with protocol::exit_out_of_memory, which the
// pool reports as Runtime.OutOfMemory. Without a cgroup (LimitsBy::rlimits), also caps the
// address space (RLIMIT_AS) at what the worker has mapped now plus `memory_mb`, so the
// function gets its full allowance on top of the runtime and its own library: a limit of
// this one process's address space, which shared memory and children escape. With one,
// the cgroup's memory limit counts everything the environment uses, and an address-space
// cap would only fail code that reserves more than it touches. Returns why the limit
// could not be applied.
std::optional<std::string> apply_memory_limit(uint32_t memory_mb, LimitsBy limits_by);

}  // namespace sofaas::worker
