// The init of an execution environment's pid namespace (zygote.h). The worker cannot be
// it: the kernel drops every signal a namespace's init has no handler for when it comes
// from inside the namespace, so a function's abort() or raise() would no longer end the
// worker, and an init must reap every orphan, which would take the function's own
// children from under its waitpid(). So the namespace's first process is this small one,
// and the worker is its second (pid 2).
//
// The zygote makes it ahead of the cold start that will use it, in new pid, mount and IPC
// namespaces: it mounts the namespace's own /proc and says it is ready; the zygote then
// forks the worker into its namespaces. It leads the environment's process group, reaps
// the orphans of the namespace (SIGCHLD is ignored: the kernel reaps them), and exits
// once the worker has: the kernel then kills whatever else still runs in the namespace,
// however it detached itself. Function code cannot signal it (an init ignores its
// namespace's signals) nor read it (root, not dumpable).
#pragma once

namespace sofaas::worker {

// Protocol over `zygote` (a stream socket): it sends one byte once its /proc is mounted
// (EOF: it could not); it then gets one byte once the worker exists (EOF: there will be
// none). Never returns.
[[noreturn]] void run_environment_init(int zygote);

}  // namespace sofaas::worker
