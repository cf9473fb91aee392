#include "common/invocation.h"

#include <cstdio>

namespace sofaas {

std::string_view to_string(Trigger trigger) {
    switch (trigger) {
        case Trigger::http: return "http";
        case Trigger::invoke: return "invoke";
        case Trigger::lambda_api: return "lambda-api";
        case Trigger::async: return "async";
        case Trigger::schedule: return "schedule";
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

std::string timeout_message(double timeout_s) {
    char text[64];
    std::snprintf(text, sizeof text, "Task timed out after %.2f seconds", timeout_s);
    return text;
}

}  // namespace sofaas
