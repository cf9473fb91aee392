// A uid the daemon hands a worker for itself alone (worker_uids.h) may still be the uid of
// processes: what a worker of an older sofaasd left behind, or anything else that runs as
// it. Such a process could signal the new worker (kill(-1) reaches every process of its
// uid in its pid namespace and below) or share its process limit. So before a worker
// gets such a uid, everything running as it is killed.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>

namespace sofaas {

// A helper that shares the daemon's memory and none of its credentials becomes `uid` and
// calls kill(-1, SIGKILL), which reaches exactly the processes whose real or saved uid is
// `uid`, in the daemon's pid namespace and the ones below it: one system call, whatever
// runs. (kill(-1, 0) cannot tell first whether there is any: it succeeds whenever there is
// a process it may not signal.) A process of `uid` can kill the helper first; then the
// daemon, as root, which nothing of `uid` can signal, walks /proc and SIGKILLs through a
// pidfd every live process whose real, effective or saved uid is `uid`, until none is
// left. Needs root. Thread-safe. Returns why it could not.
std::optional<std::string> kill_processes_of(uid_t uid);

}  // namespace sofaas
