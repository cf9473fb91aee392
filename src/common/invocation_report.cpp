#include "common/invocation_report.h"

namespace sofaas {

InvocationReport facts_of(const InvocationReport& report, Captures captures) {
    const bool keep = captures == Captures::keep;
    return InvocationReport{
        .request_id = report.request_id,
        .function = report.function,
        .version = report.version,
        .trigger = report.trigger,
        .attempt = report.attempt,
        .start = report.start,
        .status = report.status,
        .error_type = report.error_type,
        .error_message = report.error_message,
        .failed_in_init = report.failed_in_init,
        .refusal_reason = report.refusal_reason,
        .duration_ms = report.duration_ms,
        .init_ms = report.init_ms,
        .billed_ms = report.billed_ms,
        .memory_mb = report.memory_mb,
        .max_memory_used_mb = report.max_memory_used_mb,
        .cpu_ms = report.cpu_ms,
        .cost_usd = report.cost_usd,
        .output = {},
        .captured_stdout = keep ? report.captured_stdout : std::string(),
        .captured_stderr = keep ? report.captured_stderr : std::string(),
    };
}

InvocationError error_of(const InvocationReport& report) {
    auto pick = [&report](std::string_view default_type, std::string_view default_message) {
        return InvocationError{report.error_type.empty() ? std::string(default_type) : report.error_type,
                               report.error_message.empty() ? std::string(default_message) : report.error_message};
    };
    switch (report.status) {
        case InvocationStatus::host_fault: return pick(host_fault_error_type, "The host could not run the function");
        case InvocationStatus::ok:
        case InvocationStatus::error: return pick("FunctionError", "The function returned an error");
        case InvocationStatus::timeout: return pick("Sandbox.Timedout", "Task timed out");
        case InvocationStatus::crash: return pick("Runtime.ExitError", "Runtime exited with error");
        case InvocationStatus::oom:
            return pick("Runtime.OutOfMemory", "Runtime exited with error: out of memory (memory_mb " +
                                                   std::to_string(report.memory_mb) + ")");
        case InvocationStatus::throttled: return pick("TooManyRequestsException", "Rate Exceeded.");
        case InvocationStatus::unavailable:
            return pick(unavailable_error_type, "Billing cannot be recorded now; retry later.");
    }
    return pick("FunctionError", "The function returned an error");
}

}  // namespace sofaas
