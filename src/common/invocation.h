// The vocabulary of one invocation, shared along the request path
// (gateway -> scheduler -> pool -> billing).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace sofaas {

// What started the work a ledger record bills. `warm` and `deploy` are cold starts no
// invocation paid for: a min_warm environment's and a deploy's trial load.
enum class Trigger { http, invoke, warm, deploy };

// Billing statuses (DESIGN.md) plus `throttled` and `unavailable`, which are answered but
// never billed. `host_fault` is sofaas failing, not the function (no worker or sandbox
// could be set up, the daemon is shutting down): only the pool sets it, from what it
// observed itself, never from bytes a worker sent. It is recorded at no cost and answered
// 500. `unavailable` is the billing ledger unable to record (billing/ledger.h): set by the
// scheduler, answered 503; an invocation it refused never ran, one whose record could not
// be written has its record written later as host_fault.
enum class InvocationStatus { ok, error, timeout, crash, oom, host_fault, throttled, unavailable };

std::string_view to_string(Trigger trigger);
std::string_view to_string(InvocationStatus status);

// The errorType of a host fault. Answered 500, as Lambda answers its own faults, never
// 502: nothing is wrong with the function, and nothing it can change fixes it. A function
// may name its own errors so too; only InvocationStatus::host_fault makes one the host's.
inline constexpr std::string_view host_fault_error_type = "ServiceException";

// The errorType of an output its trigger cannot use (a function URL's output that is no
// HTTP response): the function's error, billed and answered 502 as any other.
inline constexpr std::string_view invalid_response_error_type = "Runtime.InvalidResponse";

// The errorType of an invocation refused, or its output withheld, because its billing
// record cannot be written: answered 503 with Retry-After.
inline constexpr std::string_view unavailable_error_type = "ServiceUnavailableException";

// What the client gets when an invocation does not succeed: decided here, in one place.
struct ErrorResponse {
    int http_status;         // 502, 504, 429, 500 ...
    std::string error_type;  // Lambda errorType
    std::string error_message;
};

struct InvocationResult {
    std::string request_id;
    std::string function;
    uint32_t version = 0;
    InvocationStatus status = InvocationStatus::ok;
    std::string output;         // status ok: the function's output bytes
    std::string error_type;     // otherwise: Lambda errorType / errorMessage
    std::string error_message;
    double duration_ms = 0;
    uint64_t billed_ms = 0;
    std::optional<double> init_ms;  // cold start only
    uint32_t memory_mb = 0;
    uint32_t max_memory_used_mb = 0;

    // {"errorType","errorMessage"} with its HTTP status; only for status != ok.
    ErrorResponse error_response() const;
};

// Lambda's message for a timeout: "Task timed out after 1.00 seconds".
std::string timeout_message(double timeout_s);

}  // namespace sofaas
