// The walls around function code. A worker enters its environment's cgroup first thing,
// when it has one, and raises the rest once, after opening the library file and before
// the library's own code (its constructors, sofaas_init) first runs, so nothing a
// function does ever executes outside them:
//   0. in namespaces of its own (zygote.h): its own /tmp, /var/tmp and /dev/shm, the rest
//      of the file system read-only (environment_mounts.h; its /proc is its init's);
//   1. drop to the worker user (--user), when the daemon runs as root;
//   2. resource limits: descriptors, core dumps, file size; processes, unless the
//      environment's cgroup counts them (--limits cgroup);
//   3. no_new_privs: no exec'd program can gain privileges;
//   4. a seccomp filter that makes system calls a function has no business making fail
//      with EPERM.
// A worker whose sandbox cannot be completed does not run the function: its Ready frame
// says Runtime.SandboxError.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>

#include "worker/worker_options.h"

namespace sofaas::worker {

// The worker must not outlive the daemon: PR_SET_PDEATHSIG(SIGKILL), then a check that
// the daemon did not die before that. False when the parent is no longer parent_pid.
bool stay_with_parent(pid_t parent_pid);
// The same for a worker: by options.daemon_pidfd when it has one (in a pid namespace of
// its own the daemon has no pid), else by options.parent_pid.
bool stay_with_parent(const WorkerOptions& options);

// The cgroup.procs files of the environment's cgroup are the worker's descriptors from 4
// up (one per cgroup v1 hierarchy; none when the zygote cloned the worker straight into
// its cgroup v2): the worker writes itself into each and closes it. Call before anything
// else opens a descriptor. Returns why the worker is not in its cgroup.
std::optional<std::string> join_environment_cgroup();

// Steps 0 to 4 above, in that order. Closes options.daemon_pidfd, which the function must
// not hold, once the parent-death signal is set for good. Returns why the sandbox is
// incomplete.
std::optional<std::string> enter_sandbox(const WorkerOptions& options);

}  // namespace sofaas::worker
