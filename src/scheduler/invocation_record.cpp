#include "scheduler/invocation_record.h"

#include <chrono>
#include <exception>
#include <utility>

#include <spdlog/spdlog.h>

#include "billing/billing_record.h"
#include "billing/ledger.h"
#include "logs/function_logs.h"

namespace sofaas {

void complete_report(InvocationReport& report, const InvocationRequest& request, WallTime start,
                     const Prices& prices) {
    const FunctionSpec& spec = request.version->spec;
    report.request_id = request.request_id;
    report.function = spec.name;
    report.version = spec.version;
    report.memory_mb = spec.memory_mb;
    report.trigger = request.trigger;
    report.attempt = request.attempt;
    report.principal = request.principal;
    report.start = start;
    if (report.status == InvocationStatus::ok && request.output_reader) {
        if (std::optional<std::string> why = request.output_reader->read(report.output)) {
            // The function answered, in a form its trigger cannot send: its own error.
            report.status = InvocationStatus::error;
            report.error_type = invalid_response_error_type;
            report.error_message = std::move(*why);
        }
    }
    bill(report, prices);
}

InvocationReport refused_report(const InvocationRequest& request, InvocationStatus status,
                                std::string_view error_type, std::string_view error_message) {
    InvocationReport report;
    report.request_id = request.request_id;
    report.function = request.version->spec.name;
    report.version = request.version->spec.version;
    report.memory_mb = request.version->spec.memory_mb;
    report.trigger = request.trigger;
    report.attempt = request.attempt;
    report.principal = request.principal;
    report.start = wall_now();
    report.status = status;
    report.error_type = error_type;
    report.error_message = error_message;
    return report;
}

InvocationReport throttled_report(const InvocationRequest& request) {
    return refused_report(request, InvocationStatus::throttled, "TooManyRequestsException", "Rate Exceeded.");
}

bool record_invocation(Ledger& ledger, FunctionLogStore& logs, const InvocationReport& report) {
    bool recorded = false;
    try {
        recorded = ledger.append(report);
    } catch (const std::exception& e) {
        spdlog::error("[{}] billing record for {}:{} not written: {}", report.request_id, report.function,
                      report.version, e.what());
    }
    try {
        logs.append(report);
    } catch (const std::exception& e) {
        spdlog::error("[{}] function log for {}:{} not written: {}", report.request_id, report.function,
                      report.version, e.what());
    }
    return recorded;
}

RefusalLogBudget::RefusalLogBudget(uint32_t lines_per_second, std::function<int64_t()> seconds)
    : lines_per_second_(lines_per_second), seconds_(std::move(seconds)) {}

std::optional<uint64_t> RefusalLogBudget::admit(const InvocationReport& report) {
    const int64_t second =
        seconds_ ? seconds_()
                 : std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now().time_since_epoch())
                       .count();
    std::lock_guard lock(mutex_);
    FunctionBudget& budget = functions_[report.function];
    if (budget.second != second) {
        budget.second = second;
        budget.lines = 0;
    }
    if (budget.lines >= lines_per_second_) {
        ++budget.left_out;
        return std::nullopt;
    }
    ++budget.lines;
    return std::exchange(budget.left_out, 0);
}

void RefusalLogBudget::forget(const std::string& function) {
    std::lock_guard lock(mutex_);
    functions_.erase(function);
}

void record_refusal(FunctionLogStore& logs, RefusalLogBudget& budget, const InvocationReport& report) {
    // Admitted before anything is copied: under a flood of refusals most are not logged.
    const std::optional<uint64_t> left_out = budget.admit(report);
    if (!left_out) return;
    try {
        if (*left_out == 0) {
            logs.append(report);
        } else {
            InvocationReport counted = report;
            counted.refusal_reason += (counted.refusal_reason.empty() ? "" : "; ") + std::to_string(*left_out) +
                                      " refusals before this one were not logged";
            logs.append(counted);
        }
    } catch (const std::exception& e) {
        spdlog::error("[{}] function log for {}:{} not written: {}", report.request_id, report.function,
                      report.version, e.what());
    }
}

void record_unpaid_init(Ledger& ledger, FunctionLogStore& logs, InvocationReport& report, const Prices& prices) {
    bill(report, prices);
    record_invocation(ledger, logs, report);
}

}  // namespace sofaas
