// One worker's life once fds 0-3 and its command line are in place, whether it was exec'd
// (main.cpp) or forked by the zygote (zygote.h): check the daemon is still its parent,
// cold start, Ready, then one Result per Invoke until the daemon closes the socket.
#pragma once

#include "worker/worker_options.h"

namespace sofaas::worker {

inline constexpr int exit_bad_usage = 2;  // bad command line, or the daemon broke the protocol
inline constexpr int exit_orphaned = 1;   // the daemon died before we got going

// Returns the worker's exit code.
int run_worker(const WorkerOptions& options);

}  // namespace sofaas::worker
