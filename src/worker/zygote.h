// The zygote: `sofaas-worker --zygote --parent-pid PID [--user NAME] [--namespaces own]`,
// started by the daemon with fd 3 a SOCK_SEQPACKET socket (zygote_protocol.h): once, to
// serve every cold start, or once per worker without that ("zygote": false). It does once
// what every cold start would otherwise repeat and what does not depend on the function:
// the dynamic loader's work (libstdc++, libseccomp, ... are loaded and relocated), the
// worker user's lookup, the seccomp filter's compilation. Then, per request, it forks a
// worker as the daemon's child (sibling_fork.h) that sets up exactly the state an exec'd
// worker starts with and continues as one (worker_session.h).
//
// With `--namespaces own` (a root daemon), every worker is an execution environment of its
// own: the zygote moves into a mount namespace where the host is read-only
// (environment_mounts.h); for each worker it makes new pid, mount (a copy of that one)
// and IPC namespaces whose init is the zygote's child (environment_init.h), ahead of the
// request that uses them, and forks the worker into them as the pid namespace's second
// process. The worker then mounts its own /tmp before it drops its privileges (sandbox.h).
//
// The zygote itself is not sandboxed: it holds the daemon's privileges, as a worker does
// before it opens its library. It is never reachable from function code: a worker closes
// the zygote's socket before anything else runs, and only the daemon holds the other end.
//
// It ends when the daemon does. With --thaw-on-exit (cgroup v1), it is the one to notice:
// a worker frozen in its environment's cgroup acts on its parent-death SIGKILL only once
// thawed, so when the daemon's end of the socket closes, the zygote thaws every cgroup
// in the daemon's freezer directory before it exits.
#pragma once

namespace sofaas::worker {

// Returns the zygote's exit code: 0 when the daemon closed the socket.
int run_zygote(int argc, char** argv);

}  // namespace sofaas::worker
