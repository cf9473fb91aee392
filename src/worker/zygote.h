// The zygote: `sofaas-worker --zygote --parent-pid PID [--user NAME]`, started once by the
// daemon with fd 3 a SOCK_SEQPACKET socket (zygote_protocol.h). It does once what every
// cold start would otherwise repeat and what does not depend on the function: the
// dynamic loader's work (libstdc++, libseccomp, ... are loaded and relocated), the worker
// user's lookup, the seccomp filter's compilation. Then, per request, it forks a worker
// as the daemon's child (sibling_fork.h) that sets up exactly the state an exec'd worker
// starts with and continues as one (worker_session.h).
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
