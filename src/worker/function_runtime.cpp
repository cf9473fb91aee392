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

namespace {
protocol::Ready ready_after(std::optional<LoadFailure> failure, Clock::time_point started) {
    protocol::Ready ready;
    ready.init_ms = elapsed_ms(started);
    if (failure) {
        ready.ok = false;
        ready.error_type = std::move(failure->error_type);
        ready.error_message = std::move(failure->error_message);
    }
    return ready;
}
}  // namespace

std::optional<protocol::Ready> FunctionRuntime::prepare() {
    const auto started = Clock::now();
    auto failure = open_and_enter_sandbox();
    if (!failure) return std::nullopt;
    return ready_after(std::move(failure), started);
}

std::optional<protocol::Ready> FunctionRuntime::exec_for_the_loader() {
    if (!own_executable_) return std::nullopt;
    const auto started = Clock::now();
    LoadFailure failure{std::string(protocol::sandbox_error_type),
                        exec_inside_sandbox(*own_executable_, *library_file_)};  // returns only on failure
    return ready_after(std::move(failure), started);
}

protocol::Ready FunctionRuntime::start() {
    const auto started = Clock::now();
    return ready_after(load_and_init(), started);
}

std::optional<LoadFailure> FunctionRuntime::open_and_enter_sandbox() {
    // Exec'd again inside the sandbox (loader_exec.h): the library is open, the walls are up.
    if (resumed_inside_sandbox()) {
        library_file_.emplace(options_.library_fd, options_.library);
        return std::nullopt;
    }
    auto opened = open_library(options_.library);
    if (auto* failure = std::get_if<LoadFailure>(&opened)) return std::move(*failure);
    library_file_.emplace(std::get<LibraryFile>(std::move(opened)));
    const auto sandbox_error = [](std::string message) {
        return LoadFailure{std::string(protocol::sandbox_error_type), std::move(message)};
    };
    if (environment_needs_loader()) {
        own_executable_ = open_own_executable();
        if (!own_executable_) return sandbox_error("cannot open the worker's own executable");
    }
    // Before dlopen: the library's constructors are function code too.
    if (auto error = enter_sandbox(options_)) return sandbox_error(*error);
    return std::nullopt;
}

std::optional<LoadFailure> FunctionRuntime::load_and_init() {
    auto loaded = load_function(*library_file_, options_.handler);
    library_file_.reset();  // the function must not inherit the descriptor
    if (auto* failure = std::get_if<LoadFailure>(&loaded)) return std::move(*failure);
    function_ = std::get<FunctionLibrary>(loaded);

    // After dlopen, so the library's own mappings are not charged to the function.
    if (auto error = apply_memory_limit(options_.memory_mb, options_.limits))
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
    const sofaas_context* ctx = host_.begin_invocation(event.request_id, event.deadline_unix_ms, event.caller);
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
