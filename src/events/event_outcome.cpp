#include "events/event_outcome.h"

#include <algorithm>
#include <chrono>

#include <nlohmann/json.hpp>

#include "common/request_id.h"
#include "common/time.h"

namespace sofaas {
namespace {

using ordered_json = nlohmann::ordered_json;

constexpr UnixMillis requeue_first_ms = 1000;
constexpr UnixMillis requeue_max_ms = 5 * 60 * 1000;
// Records a chain of destinations may nest (A's to B, B's to A, ...), as Lambda stops a
// recursive loop after about 16 invocations.
constexpr size_t max_destination_chain = 16;

UnixMillis event_age_limit_ms(const FunctionSpec& spec) {
    return static_cast<UnixMillis>(spec.max_event_age_s) * 1000;
}

// A payload that is JSON goes into the record as JSON, anything else as a string (with
// invalid UTF-8 replaced when the record is written).
ordered_json embedded(const std::string& payload) {
    ordered_json parsed = ordered_json::parse(payload, nullptr, /*allow_exceptions=*/false);
    if (parsed.is_discarded()) return payload;
    return parsed;
}

// Why a destination's record is not sent, if it is not: each record holds the one before
// it, so a chain of destinations that loops (A to B to A) would run for ever, its event
// growing by the function's output (up to 6 MiB) at each step.
std::optional<std::string> unsendable(const std::string& record) {
    if (record.size() > max_event_payload_bytes) {
        return "its invocation record has " + std::to_string(record.size()) + " bytes, over the " +
               std::to_string(max_event_payload_bytes) + " of an asynchronous invocation";
    }
    size_t nested = 0;
    const ordered_json parsed = ordered_json::parse(record, nullptr, /*allow_exceptions=*/false);
    for (const ordered_json* at = &parsed; at->is_object() && at->contains("requestContext") &&
                                           at->contains("requestPayload");
         at = &(*at)["requestPayload"]) {
        ++nested;
    }
    if (nested > max_destination_chain) {
        return "a chain of " + std::to_string(max_destination_chain) + " destinations' records ends here";
    }
    return std::nullopt;
}

Settlement settled_for_good(const QueuedEvent& event, const FunctionSpec& spec, const InvocationReport* report,
                            std::optional<FailureCondition> condition, UnixMillis now, const Config& config,
                            const std::function<bool(const std::string&)>& destination_exists) {
    Settlement settlement;
    settlement.now_ms = now;
    const std::string& destination = condition ? spec.on_failure : spec.on_success;
    std::optional<std::string> not_sent;
    if (!destination.empty() && destination_exists(destination)) {
        std::string record = destination_record(event, spec, report, condition, now, config);
        not_sent = unsendable(record);
        if (!not_sent) {
            settlement.kind = SettlementKind::done;
            NewEvent next;
            next.request_id = new_request_id();
            next.function = destination;
            next.trigger = Trigger::async;
            next.payload = std::move(record);
            next.enqueued_ms = now;
            settlement.then_enqueue = std::move(next);
            return settlement;
        }
    }
    if (!condition) return settlement;  // a success without a destination: done
    settlement.kind = SettlementKind::dead_letter;
    settlement.condition = *condition;
    if (report) {
        const InvocationError error = error_of(*report);
        settlement.error_type = error.error_type;
        settlement.error_message = error.error_message;
    } else {
        settlement.error_type = event.last_error_type;
        settlement.error_message = event.last_error_message;
    }
    if (not_sent) {
        settlement.error_message += " (not sent to on_failure destination " + destination + ": " + *not_sent + ")";
    } else if (!destination.empty()) {
        settlement.error_message += " (on_failure destination " + destination + " does not exist)";
    }
    return settlement;
}

}  // namespace

RunVerdict verdict_of(InvocationStatus status) {
    switch (status) {
        case InvocationStatus::ok: return RunVerdict::succeeded;
        case InvocationStatus::error:
        case InvocationStatus::timeout:
        case InvocationStatus::crash:
        case InvocationStatus::oom: return RunVerdict::function_failed;
        case InvocationStatus::host_fault:
        case InvocationStatus::throttled:
        case InvocationStatus::unavailable: return RunVerdict::not_run;
    }
    return RunVerdict::not_run;
}

bool too_old(const QueuedEvent& event, const FunctionSpec& spec, UnixMillis now) {
    return now - event.event.enqueued_ms > event_age_limit_ms(spec);
}

Settlement settle_after_run(const QueuedEvent& event, const FunctionSpec& spec, const InvocationReport& report,
                            UnixMillis now, const Config& config,
                            const std::function<bool(const std::string&)>& destination_exists) {
    switch (verdict_of(report.status)) {
        case RunVerdict::succeeded:
            return settled_for_good(event, spec, &report, std::nullopt, now, config, destination_exists);
        case RunVerdict::function_failed: {
            const uint32_t failures = event.failures + 1;
            if (failures > spec.async_retries) {
                return settled_for_good(event, spec, &report, FailureCondition::retries_exhausted, now, config,
                                        destination_exists);
            }
            Settlement retry;
            retry.kind = SettlementKind::retry;
            retry.now_ms = now;
            const UnixMillis delay = static_cast<UnixMillis>(config.events.retry_delay_s) * 1000 << (failures - 1);
            retry.not_before_ms = now + delay;
            const InvocationError error = error_of(report);
            retry.error_type = error.error_type;
            retry.error_message = error.error_message;
            return retry;
        }
        case RunVerdict::not_run: {
            Settlement requeue;
            requeue.kind = SettlementKind::requeue;
            requeue.now_ms = now;
            const uint32_t doublings = std::min<uint32_t>(event.runs > 0 ? event.runs - 1 : 0, 16);
            requeue.not_before_ms = now + std::min(requeue_max_ms, requeue_first_ms << doublings);
            return requeue;
        }
    }
    return Settlement{};
}

Settlement settle_expired(const QueuedEvent& event, const FunctionSpec& spec, UnixMillis now, const Config& config,
                          const std::function<bool(const std::string&)>& destination_exists) {
    return settled_for_good(event, spec, nullptr, FailureCondition::event_age_exceeded, now, config,
                            destination_exists);
}

std::string destination_record(const QueuedEvent& event, const FunctionSpec& spec,
                               const InvocationReport* report, std::optional<FailureCondition> condition,
                               UnixMillis now, const Config& config) {
    const std::string executed_version = report ? std::to_string(report->version) : std::to_string(spec.version);
    ordered_json response_context = {{"statusCode", report ? 200 : 0}, {"executedVersion", executed_version}};
    ordered_json response_payload = nullptr;
    if (report && report->status == InvocationStatus::ok) {
        response_payload = embedded(report->output);
    } else if (report || !event.last_error_type.empty()) {
        response_context["functionError"] = "Unhandled";
        const InvocationError error =
            report ? error_of(*report) : InvocationError{event.last_error_type, event.last_error_message};
        response_payload = {{"errorMessage", error.error_message}, {"errorType", error.error_type}};
    }
    ordered_json record = {
        {"version", "1.0"},
        {"timestamp", format_rfc3339(WallTime(std::chrono::milliseconds(now)))},
        {"requestContext",
         {{"requestId", event.event.request_id},
          {"functionArn", function_arn(config, spec.name) + ":" + executed_version},
          {"condition", condition ? std::string(to_string(*condition)) : std::string("Success")},
          {"approximateInvokeCount", event.runs}}},
        {"requestPayload", embedded(event.event.payload)},
        {"responseContext", std::move(response_context)},
        {"responsePayload", std::move(response_payload)},
    };
    return record.dump(-1, ' ', false, ordered_json::error_handler_t::replace);
}

}  // namespace sofaas
