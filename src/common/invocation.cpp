#include "common/invocation.h"

#include <cstdio>

namespace sofaas {

std::string_view to_string(Trigger trigger) {
    switch (trigger) {
        case Trigger::http: return "http";
        case Trigger::invoke: return "invoke";
        case Trigger::warm: return "warm";
        case Trigger::deploy: return "deploy";
    }
    return "invoke";
}

std::string_view to_string(InvocationStatus status) {
    switch (status) {
        case InvocationStatus::ok: return "ok";
        case InvocationStatus::error: return "error";
        case InvocationStatus::timeout: return "timeout";
        case InvocationStatus::crash: return "crash";
        case InvocationStatus::oom: return "oom";
        case InvocationStatus::host_fault: return "host_fault";
        case InvocationStatus::throttled: return "throttled";
        case InvocationStatus::unavailable: return "unavailable";
    }
    return "error";
}

ErrorResponse InvocationResult::error_response() const {
    // Lambda's conventions: the function's own failure is a bad gateway (502), running out
    // of time is a gateway timeout (504), overload asks the client to retry later (429).
    auto pick = [this](std::string_view default_type, std::string_view default_message) {
        return std::pair{error_type.empty() ? std::string(default_type) : error_type,
                         error_message.empty() ? std::string(default_message) : error_message};
    };
    switch (status) {
        case InvocationStatus::host_fault: {
            auto [type, message] = pick(host_fault_error_type, "The host could not run the function");
            return {500, type, message};
        }
        case InvocationStatus::ok:
        case InvocationStatus::error: {
            auto [type, message] = pick("FunctionError", "The function returned an error");
            return {502, type, message};
        }
        case InvocationStatus::timeout: {
            auto [type, message] = pick("Sandbox.Timedout", "Task timed out");
            return {504, type, message};
        }
        case InvocationStatus::crash: {
            auto [type, message] = pick("Runtime.ExitError", "Runtime exited with error");
            return {502, type, message};
        }
        case InvocationStatus::oom: {
            auto [type, message] = pick("Runtime.OutOfMemory",
                                        "Runtime exited with error: out of memory (memory_mb " +
                                            std::to_string(memory_mb) + ")");
            return {502, type, message};
        }
        case InvocationStatus::throttled: {
            auto [type, message] = pick("TooManyRequestsException", "Rate Exceeded.");
            return {429, type, message};
        }
        case InvocationStatus::unavailable: {
            auto [type, message] = pick(unavailable_error_type, "Billing cannot be recorded now; retry later.");
            return {503, type, message};
        }
    }
    return {502, "FunctionError", error_message};
}

std::string timeout_message(double timeout_s) {
    char text[64];
    std::snprintf(text, sizeof text, "Task timed out after %.2f seconds", timeout_s);
    return text;
}

}  // namespace sofaas
