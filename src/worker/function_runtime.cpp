#include "worker/function_runtime.h"

#include <sys/resource.h>

#include <chrono>
#include <cstdio>

#include "worker/loader_exec.h"
#include "worker/memory_limit.h"
#include "worker/sandbox.h"

namespace sofaas::worker {
namespace {

using Clock = std::chrono::steady_clock;

double elapsed_ms(Clock::time_point since) {
    return std::chrono::duration<double, std::milli>(Clock::now() - since).count();
}

uint32_t peak_memory_kb() {
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    return static_cast<uint32_t>(usage.ru_maxrss);  // Linux reports kilobytes
}

// The daemon reads the stdout/stderr memfds as soon as a Ready or Result frame arrives,
// so whatever the function left in its stdio buffers must be written out first.
void flush_function_output() {
    std::fflush(stdout);
    std::fflush(stderr);
}

}  // namespace

FunctionRuntime::FunctionRuntime(const WorkerOptions& options)
    : options_(options), host_(options) {}

protocol::Ready FunctionRuntime::start() {
    const auto started = Clock::now();
    const auto failure = load_and_init();
    protocol::Ready ready;
    ready.init_ms = elapsed_ms(started);
    if (failure) {
        ready.ok = false;
        ready.error_type = failure->error_type;
        ready.error_message = failure->error_message;
    }
    return ready;
}

std::optional<LoadFailure> FunctionRuntime::load_and_init() {
    // Exec'd again inside the sandbox (loader_exec.h): the library is open, the walls are up.
    const bool sandboxed = options_.library_fd >= 0;
    auto opened = sandboxed ? LibraryFile(options_.library_fd, options_.library) : open_library(options_.library);
    if (auto* failure = std::get_if<LoadFailure>(&opened)) return std::move(*failure);
    if (!sandboxed) {
        const auto sandbox_error = [](std::string message) {
            return LoadFailure{std::string(protocol::sandbox_error_type), std::move(message)};
        };
        const bool needs_loader = environment_needs_loader();
        const std::optional<int> executable = needs_loader ? open_own_executable() : std::nullopt;
        if (needs_loader && !executable) return sandbox_error("cannot open the worker's own executable");
        // Before dlopen: the library's constructors are function code too.
        if (auto error = enter_sandbox(options_)) return sandbox_error(*error);
        if (needs_loader) return sandbox_error(exec_inside_sandbox(*executable, std::get<LibraryFile>(opened)));
    }
    auto loaded = load_function(std::get<LibraryFile>(opened), options_.handler);
    if (auto* failure = std::get_if<LoadFailure>(&loaded)) return std::move(*failure);
    function_ = std::get<FunctionLibrary>(loaded);

    // After dlopen, so the library's own mappings are not charged to the function.
    if (auto error = apply_memory_limit(options_.memory_mb))
        return LoadFailure{"Runtime.MemoryLimitError", *error};

    if (!function_.init) return std::nullopt;
    const int status = function_.init(host_.begin_init());
    flush_function_output();
    if (status == SOFAAS_OK && !host_.answer().failed) return std::nullopt;
    const FunctionAnswer& answer = host_.answer();
    return LoadFailure{"Runtime.InitError", answer.failed && !answer.error_message.empty()
                                                ? answer.error_message
                                                : "sofaas_init returned an error"};
}

protocol::Result FunctionRuntime::invoke(const protocol::Invoke& event) {
    const sofaas_context* ctx = host_.begin_invocation(event.request_id, event.deadline_unix_ms);
    const auto started = Clock::now();
    const int status = function_.handler(
        ctx, reinterpret_cast<const uint8_t*>(event.payload.data()), event.payload.size());
    protocol::Result result;
    result.duration_ms = elapsed_ms(started);
    flush_function_output();
    result.max_memory_used_kb = peak_memory_kb();

    FunctionAnswer& answer = host_.answer();
    if (answer.failed || status != SOFAAS_OK) {
        result.ok = false;
        result.error_type = answer.failed ? answer.error_type : "FunctionError";
        result.error_message = answer.failed ? answer.error_message : "function returned an error";
    } else if (answer.oversized_output > 0) {
        result.ok = false;
        result.error_type = "Runtime.ResponseTooLarge";
        result.error_message = "Response payload size (" +
                               std::to_string(answer.oversized_output) +
                               " bytes) exceeded maximum allowed payload size (" +
                               std::to_string(protocol::max_output_bytes) + " bytes).";
    } else {
        result.output = std::move(answer.output);
    }
    return result;
}

}  // namespace sofaas::worker
