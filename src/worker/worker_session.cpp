#include "worker/worker_session.h"

#include <string>

#include "worker/frame_channel.h"
#include "worker/function_runtime.h"
#include "worker/protocol.h"
#include "worker/sandbox.h"

namespace sofaas::worker {
namespace {

constexpr int daemon_fd = 3;
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

int run_worker(const WorkerOptions& options) {
    // A worker exec'd again inside its sandbox is still watched by the parent-death signal
    // it set before (it survives exec), and cannot see the daemon as its parent.
    if (options.library_fd < 0 && !stay_with_parent(options)) return exit_orphaned;

    FrameChannel channel(daemon_fd);
    std::string outgoing;
    // First: everything the worker does from here on, and all the function starts, is
    // counted in the environment's cgroup.
    if (auto error = join_environment_cgroup()) {
        protocol::Ready refused;
        refused.ok = false;
        refused.error_type = protocol::sandbox_error_type;
        refused.error_message = *error;
        send_frame(channel, refused, outgoing);
        return 0;
    }
    FunctionRuntime runtime(options);
    if (auto failure = runtime.prepare()) {
        send_frame(channel, *failure, outgoing);
        return 0;
    }
    // From here on function code may run and may write frames of its own to the socket (a
    // loader variable's library runs before main() of the exec below): the daemon believes
    // no claim of a host fault after this frame, sent once, before that exec.
    if (!runtime.resumed_inside_sandbox()) {
        outgoing.clear();
        protocol::encode_sandboxed(outgoing);
        if (!channel.write(outgoing)) return exit_daemon_gone;
    }
    if (auto failure = runtime.exec_for_the_loader()) {
        send_frame(channel, *failure, outgoing);
        return 0;
    }
    const protocol::Ready ready = runtime.start();
    if (!send_frame(channel, ready, outgoing)) return exit_daemon_gone;
    if (!ready.ok) return 0;
    return serve(channel, runtime);
}

}  // namespace sofaas::worker
