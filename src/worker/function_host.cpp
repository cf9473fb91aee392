#include "worker/function_host.h"

#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <limits>

#include "worker/protocol.h"

namespace sofaas::worker {

const sofaas_host FunctionHost::services_ = {
    &FunctionHost::respond,
    &FunctionHost::fail,
    &FunctionHost::log,
    &FunctionHost::remaining_ms,
};

FunctionHost::FunctionHost(const WorkerOptions& options) : function_name_(options.function) {
    context_.abi_version = SOFAAS_ABI_VERSION;
    context_.request_id = request_id_.c_str();
    context_.function_name = function_name_.c_str();
    context_.function_version = options.version;
    context_.memory_limit_mb = options.memory_mb;
    context_.host = &services_;
    context_.host_data = this;
    point_at_caller();
}

const sofaas_context* FunctionHost::begin_init() {
    return begin_invocation({}, 0, {});
}

const sofaas_context* FunctionHost::begin_invocation(const std::string& request_id, int64_t deadline_unix_ms,
                                                     const Principal& caller) {
    request_id_ = request_id;
    context_.request_id = request_id_.c_str();
    caller_ = caller;
    point_at_caller();
    deadline_unix_ms_ = deadline_unix_ms;
    answer_ = FunctionAnswer{};
    return &context_;
}

// The strings are assigned in place, so their buffers may have moved.
void FunctionHost::point_at_caller() {
    context_.caller_key_id = caller_.key_id.c_str();
    context_.caller_role = caller_.role.c_str();
    context_.caller_user_sub = caller_.user_sub.c_str();
    context_.caller_schedule = caller_.schedule.c_str();
}

FunctionHost& FunctionHost::of(const sofaas_context* ctx) {
    return *static_cast<FunctionHost*>(ctx->host_data);
}

void FunctionHost::respond(const sofaas_context* ctx, const void* data, size_t len) {
    FunctionAnswer& answer = of(ctx).answer_;
    // Refused here rather than copied: a runaway output must not eat the memory limit.
    if (len > protocol::max_output_bytes) {
        answer.output.clear();
        answer.oversized_output = len;
        return;
    }
    answer.oversized_output = 0;
    answer.output.assign(static_cast<const char*>(data), data ? len : 0);
}

void FunctionHost::fail(const sofaas_context* ctx, const char* error_type, const char* message) {
    FunctionAnswer& answer = of(ctx).answer_;
    answer.failed = true;
    answer.error_type = error_type && *error_type ? error_type : "FunctionError";
    answer.error_message = message ? message : "";
}

void FunctionHost::log(const sofaas_context*, const char* message, size_t len) {
    if (!message) len = 0;
    // One writev, so the line stays whole next to the function's own stderr writes.
    iovec parts[2] = {{const_cast<char*>(message), len}, {const_cast<char*>("\n"), 1}};
    const int count = len > 0 && message[len - 1] == '\n' ? 1 : 2;
    ssize_t written;
    do {
        written = writev(STDERR_FILENO, parts, count);
    } while (written < 0 && errno == EINTR);
}

int64_t FunctionHost::remaining_ms(const sofaas_context* ctx) {
    const int64_t deadline = of(ctx).deadline_unix_ms_;
    if (deadline == 0) return std::numeric_limits<int64_t>::max();
    // The deadline is wall-clock because the daemon set it in its own process.
    const auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
    return deadline > now ? deadline - now : 0;
}

}  // namespace sofaas::worker
