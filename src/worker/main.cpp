// sofaas-worker: one execution environment. The pool starts it with
//   fd 0 /dev/null, fd 1 and fd 2 the function's stdout/stderr (memfds), fd 3 the socket,
// it loads the function once, inside its sandbox (sandbox.h), sending Ready, then answers
// each Invoke with a Result until the daemon closes the socket. Deadlines are enforced from outside: the pool
// SIGKILLs a worker that overruns, so nothing here needs to be interruptible.
//
// `sofaas-worker --zygote ...` is the fork server instead (zygote.h): it prepares what
// every worker needs once and forks workers on the daemon's request.
#include <cstdio>
#include <string>
#include <string_view>
#include <variant>

#include "worker/worker_options.h"
#include "worker/worker_session.h"
#include "worker/zygote.h"

#if defined(__SANITIZE_ADDRESS__)
// In sanitizer builds a function's SIGSEGV must still kill the worker by the signal, as
// the pool reports it ("signal: segmentation fault"), not as an ASan report and exit 1.
// LeakSanitizer stops the world with ptrace, which the seccomp filter denies: its
// failure at exit would turn every clean exit into exit 1.
extern "C" const char* __asan_default_options() {
    return "handle_segv=0:detect_leaks=0";
}
#endif

int main(int argc, char** argv) {
    using namespace sofaas::worker;
    if (argc > 1 && std::string_view(argv[1]) == "--zygote") return run_zygote(argc, argv);
    auto parsed = parse_options(argc, argv);
    if (const auto* error = std::get_if<std::string>(&parsed)) {
        std::fprintf(stderr, "sofaas-worker: %s\n", error->c_str());
        return exit_bad_usage;
    }
    return run_worker(std::get<WorkerOptions>(parsed));
}
