// sofaas-worker: one execution environment. The pool starts it with
//   fd 0 /dev/null, fd 1 and fd 2 the function's stdout/stderr (memfds), fd 3 the socket,
// it loads the function once, inside its sandbox (sandbox.h), sending Ready, then answers
// each Invoke with a Result until the daemon closes the socket. Deadlines are enforced from outside: the pool
// SIGKILLs a worker that overruns, so nothing here needs to be interruptible.
#include <cstdio>
#include <string>
#include <variant>

#include "worker/frame_channel.h"
#include "worker/function_runtime.h"
#include "worker/protocol.h"
#include "worker/sandbox.h"
#include "worker/worker_options.h"

#if defined(__SANITIZE_ADDRESS__)
// In sanitizer builds a function's SIGSEGV must still kill the worker by the signal, as
// the pool reports it ("signal: segmentation fault"), not as an ASan report and exit 1.
// LeakSanitizer stops the world with ptrace, which the seccomp filter denies: its
// failure at exit would turn every clean exit into exit 1.
extern "C" const char* __asan_default_options() {
    return "handle_segv=0:detect_leaks=0";
}
#endif

namespace {

using namespace sofaas;
using namespace sofaas::worker;

constexpr int daemon_fd = 3;
constexpr int exit_bad_usage = 2;       // bad command line, or the daemon broke the protocol
constexpr int exit_orphaned = 1;        // the daemon died before we got going
constexpr int exit_daemon_gone = 1;

template <typename Frame>
bool send_frame(FrameChannel& channel, const Frame& frame, std::string& buffer) {
    buffer.clear();
    protocol::encode(frame, buffer);
    return channel.write(buffer);
}

int serve(FrameChannel& channel, FunctionRuntime& runtime) {
    std::string outgoing;  // reused: a Result can be megabytes
    for (;;) {
        protocol::FrameHeader header;
        std::string_view body;
        switch (channel.read(header, body)) {
        case FrameChannel::ReadStatus::frame: break;
        case FrameChannel::ReadStatus::closed: return 0;
        case FrameChannel::ReadStatus::broken: return exit_bad_usage;
        }
        if (header.type != static_cast<uint32_t>(protocol::FrameType::invoke))
            return exit_bad_usage;
        const auto event = protocol::decode_invoke(body);
        if (!event) return exit_bad_usage;
        if (!send_frame(channel, runtime.invoke(*event), outgoing)) return exit_daemon_gone;
    }
}

}  // namespace

int main(int argc, char** argv) {
    auto parsed = parse_options(argc, argv);
    if (const auto* error = std::get_if<std::string>(&parsed)) {
        std::fprintf(stderr, "sofaas-worker: %s\n", error->c_str());
        return exit_bad_usage;
    }
    const WorkerOptions& options = std::get<WorkerOptions>(parsed);
    if (!stay_with_parent(options.parent_pid)) return exit_orphaned;

    FrameChannel channel(daemon_fd);
    FunctionRuntime runtime(options);
    std::string outgoing;
    const protocol::Ready ready = runtime.start();
    if (!send_frame(channel, ready, outgoing)) return exit_daemon_gone;
    if (!ready.ok) return 0;
    return serve(channel, runtime);
}
