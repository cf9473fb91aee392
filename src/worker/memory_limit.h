// The function's memory limit, enforced inside the worker.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace sofaas::worker {

// Caps the address space (RLIMIT_AS) at what the worker has mapped now plus `memory_mb`,
// so the function gets its full allowance on top of the runtime and its own library, and
// makes a failed operator new end the process with protocol::exit_out_of_memory, which
// the pool reports as Runtime.OutOfMemory. Returns why the limit could not be applied.
std::optional<std::string> apply_memory_limit(uint32_t memory_mb);

}  // namespace sofaas::worker
