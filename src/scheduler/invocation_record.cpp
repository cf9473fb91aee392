#include "scheduler/invocation_record.h"

#include <exception>
#include <utility>

#include <spdlog/spdlog.h>

#include "billing/billing_record.h"
#include "billing/ledger.h"
#include "common/request_id.h"
#include "logs/function_logs.h"

namespace sofaas {
namespace {

// A host fault (no worker, no sandbox) is sofaas failing, not the function: it is
// recorded like every answered invocation, but charges nothing (Lambda does not bill its
// service errors either).
bool is_billable(const InvocationResult& result) {
    return result.status != InvocationStatus::host_fault;
}

}  // namespace

InvocationResult result_of(const InvocationRequest& request, Execution&& execution) {
    const FunctionSpec& spec = request.version->spec;
    InvocationResult result;
    result.request_id = request.request_id;
    result.function = spec.name;
    result.version = spec.version;
    result.status = execution.status;
    result.output = std::move(execution.output);
    result.error_type = std::move(execution.error_type);
    result.error_message = std::move(execution.error_message);
    if (result.status == InvocationStatus::ok && request.output_reader) {
        if (std::optional<std::string> why = request.output_reader->read(result.output)) {
            // The function answered, in a form its trigger cannot send: its own error.
            result.status = InvocationStatus::error;
            result.error_type = invalid_response_error_type;
            result.error_message = std::move(*why);
        }
    }
    result.duration_ms = execution.duration_ms;
    result.init_ms = execution.init_ms;
    result.billed_ms = is_billable(result) ? billed_milliseconds(execution.duration_ms, execution.init_ms) : 0;
    result.memory_mb = spec.memory_mb;
    result.max_memory_used_mb = execution.max_memory_used_mb;
    return result;
}

InvocationResult throttled_result(const InvocationRequest& request) {
    InvocationResult result;
    result.request_id = request.request_id;
    result.function = request.version->spec.name;
    result.version = request.version->spec.version;
    result.status = InvocationStatus::throttled;
    result.error_type = "TooManyRequestsException";
    result.error_message = "Rate Exceeded.";
    result.memory_mb = request.version->spec.memory_mb;
    return result;
}

bool record_invocation(Ledger& ledger, FunctionLogStore& logs, const InvocationRequest& request,
                       const InvocationResult& result, WallTime start, std::string_view captured_stdout,
                       std::string_view captured_stderr, const Prices& prices) {
    BillingRecord record;
    record.request_id = result.request_id;
    record.function = result.function;
    record.version = result.version;
    record.trigger = request.trigger;
    record.start = start;
    record.duration_ms = result.duration_ms;
    record.billed_ms = result.billed_ms;
    record.memory_mb = result.memory_mb;
    record.max_memory_used_mb = result.max_memory_used_mb;
    record.init_ms = result.init_ms;
    record.status = result.status;
    record.cost_usd = is_billable(result) ? cost_usd(prices, result.memory_mb, result.billed_ms) : 0.0;
    bool recorded = false;
    try {
        recorded = ledger.append(record);
    } catch (const std::exception& e) {
        spdlog::error("[{}] billing record for {}:{} not written: {}", result.request_id, result.function,
                      result.version, e.what());
    }
    try {
        logs.append(InvocationLog{&result, start, captured_stdout, captured_stderr});
    } catch (const std::exception& e) {
        spdlog::error("[{}] function log for {}:{} not written: {}", result.request_id, result.function,
                      result.version, e.what());
    }
    return recorded;
}

void record_unpaid_init(Ledger& ledger, FunctionLogStore& logs, InitReport report, const Prices& prices) {
    const WallTime start = wall_now() - std::chrono::duration_cast<WallTime::duration>(
                                            std::chrono::duration<double, std::milli>(report.init_ms));
    InvocationRequest request{report.version, "",
                              report.purpose == InitPurpose::warm ? Trigger::warm : Trigger::deploy, new_request_id()};
    Execution execution;
    execution.status = report.status;
    execution.error_type = std::move(report.error_type);
    execution.error_message = std::move(report.error_message);
    execution.init_ms = report.init_ms;
    const InvocationResult result = result_of(request, std::move(execution));
    Prices init_prices = prices;
    init_prices.per_request = 0;
    record_invocation(ledger, logs, request, result, start, report.captured_stdout, report.captured_stderr,
                      init_prices);
}

}  // namespace sofaas
