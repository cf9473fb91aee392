// The host side of the ABI: the sofaas_context a function receives and the services of
// ctx->host (respond, fail, log, remaining_ms), collecting what the function answered.
#pragma once

#include <sofaas/sofaas.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "common/invocation_report.h"
#include "worker/worker_options.h"

namespace sofaas::worker {

// What the function reported through ctx->host during one call of init or the handler.
struct FunctionAnswer {
    std::string output;
    size_t oversized_output = 0;  // size of a refused output over max_output_bytes
    bool failed = false;          // fail() was called
    std::string error_type;
    std::string error_message;
};

class FunctionHost {
public:
    explicit FunctionHost(const WorkerOptions& options);
    FunctionHost(const FunctionHost&) = delete;
    FunctionHost& operator=(const FunctionHost&) = delete;

    // Context for sofaas_init: no request id, no deadline, no caller.
    const sofaas_context* begin_init();
    // Context for one invocation; the previous answer is discarded.
    const sofaas_context* begin_invocation(const std::string& request_id, int64_t deadline_unix_ms,
                                           const Principal& caller);

    FunctionAnswer& answer() { return answer_; }

private:
    static void respond(const sofaas_context* ctx, const void* data, size_t len);
    static void fail(const sofaas_context* ctx, const char* error_type, const char* message);
    static void log(const sofaas_context* ctx, const char* message, size_t len);
    static int64_t remaining_ms(const sofaas_context* ctx);
    static FunctionHost& of(const sofaas_context* ctx);
    void point_at_caller();

    static const sofaas_host services_;
    std::string function_name_;
    std::string request_id_;
    Principal caller_;
    int64_t deadline_unix_ms_ = 0;  // 0: none (init)
    sofaas_context context_{};
    FunctionAnswer answer_;
};

}  // namespace sofaas::worker
