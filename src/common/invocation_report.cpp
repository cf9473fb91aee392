#include "common/invocation_report.h"

namespace sofaas {

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
    }
    return pick("FunctionError", "The function returned an error");
}

}  // namespace sofaas
