// Loader variables (common/loader_variables.h: LD_PRELOAD, GLIBC_TUNABLES, MALLOC_*, ...)
// act when a program starts, and a worker forked by the zygote never starts: it is a copy
// of a program that started long ago with an empty environment. A function that sets
// them (where the daemon allows it) gets a worker that, once inside its sandbox, execs
// itself again with the function's environment. The dynamic loader then loads and runs
// what they name as the worker's user, under its limits and its seccomp filter, in its
// namespaces, and never before: no worker is ever exec'd with privileges and the
// function's environment.
#pragma once

#include <optional>
#include <string>

#include "worker/function_library.h"

namespace sofaas::worker {

// Whether this process's environment (the function's, by now) sets a loader variable.
bool environment_needs_loader();

// sofaas-worker itself, opened while the worker may still read anything: O_PATH, so it
// can be exec'd after the privilege drop without its path having to be reachable.
std::optional<int> open_own_executable();

// Execs `executable` with this worker's command line plus --library-fd and this
// environment. The library descriptor stays open across the exec. Returns only on
// failure, with why.
std::string exec_inside_sandbox(int executable, const LibraryFile& library);

}  // namespace sofaas::worker
