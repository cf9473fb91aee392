// The vocabulary of one invocation, shared along the request path
// (gateway -> scheduler -> pool -> billing); its facts are an InvocationReport
// (common/invocation_report.h).
#pragma once

#include <string>
#include <string_view>

namespace sofaas {

// What started the work a ledger record bills. `lambda_api` is AWS's Invoke operation
// (written "lambda-api"); `async` is a queued event (an asynchronous
// invocation, a destination's record, a redriven dead letter), `schedule` a schedule's
// firing. `warm` and `deploy` are cold starts no invocation paid for: a min_warm
// environment's and a deploy's trial load.
enum class Trigger { http, invoke, lambda_api, async, schedule, warm, deploy };

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

// The errorType of a host fault: nothing is wrong with the function, and nothing it can
// change fixes it. A function may name its own errors so too; only
// InvocationStatus::host_fault makes one the host's.
inline constexpr std::string_view host_fault_error_type = "ServiceException";

// The errorType of an output its trigger cannot use (a function URL's output that is no
// HTTP response): the function's error, billed and answered as any other.
inline constexpr std::string_view invalid_response_error_type = "Runtime.InvalidResponse";

// The errorType of an invocation refused, or its output withheld, because its billing
// record cannot be written: answered 503 with Retry-After.
inline constexpr std::string_view unavailable_error_type = "ServiceUnavailableException";

// Lambda's message for a timeout: "Task timed out after 1.00 seconds".
std::string timeout_message(double timeout_s);

}  // namespace sofaas
