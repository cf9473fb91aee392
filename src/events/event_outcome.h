// What becomes of a queued event after one run: the retry policy of asynchronous
// invocations, as Lambda's. Pure functions of the event, its function's settings and the
// run's report, so that every rule is tested without a daemon.
#pragma once

#include <functional>
#include <optional>
#include <string>

#include "common/config.h"
#include "common/function_spec.h"
#include "common/invocation_report.h"
#include "events/event_store.h"

namespace sofaas {

// Why a run ended as it did, from the event's point of view.
enum class RunVerdict {
    succeeded,
    function_failed,  // error, timeout, crash, out of memory: counts against async_retries
    not_run,          // throttled, host fault, ledger unavailable: runs again, uncounted
};
RunVerdict verdict_of(InvocationStatus status);

// A function failure with retries left runs again after retry_delay_s, then twice that;
// anything else that did not run goes back to the queue with a backoff of 1 s doubling up
// to 5 min. An event older than max_event_age_s when it is next due fails with
// EventAgeExceeded at that point instead (expired_before_run).
//
// Settled for good, a success goes to the on_success destination and a failure to the
// on_failure one, each as Lambda's invocation record (destination_record), when the
// function names one that exists (`destination_exists`); a failure without one becomes a
// dead letter. A record over max_event_payload_bytes, or one that would nest more than 16
// records (a chain of destinations that loops), is not sent.
Settlement settle_after_run(const QueuedEvent& event, const FunctionSpec& spec, const InvocationReport& report,
                            UnixMillis now, const Config& config,
                            const std::function<bool(const std::string&)>& destination_exists);

// An event too old to run: EventAgeExceeded, to the on_failure destination or the dead letters.
bool too_old(const QueuedEvent& event, const FunctionSpec& spec, UnixMillis now);
Settlement settle_expired(const QueuedEvent& event, const FunctionSpec& spec, UnixMillis now, const Config& config,
                          const std::function<bool(const std::string&)>& destination_exists);

// Lambda's invocation record for a destination: version, timestamp, requestContext
// {requestId, functionArn, condition, approximateInvokeCount}, requestPayload,
// responseContext {statusCode, executedVersion, functionError}, responsePayload. Payloads
// that are JSON are embedded as JSON, others as strings. `report` is absent when the event
// expired before another run.
std::string destination_record(const QueuedEvent& event, const FunctionSpec& spec,
                               const InvocationReport* report, std::optional<FailureCondition> condition,
                               UnixMillis now, const Config& config);

}  // namespace sofaas
