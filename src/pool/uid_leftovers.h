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
// `uid`, in the daemon's pid namespace and the ones below it: one system call rather than
// a walk through /proc, and a kill(-1, 0) first, so that no signal is sent when none runs
// (the usual case). Needs root. Thread-safe. Returns why the helper could not run.
std::optional<std::string> kill_processes_of(uid_t uid);

}  // namespace sofaas
