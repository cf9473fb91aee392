// Completing what the pool observed of an invocation into its report, and writing the
// report where it must be before the caller hears of it: the ledger and the function's log.
#pragma once

#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/config.h"
#include "common/invocation_report.h"
#include "common/time.h"
#include "scheduler/scheduler.h"

namespace sofaas {

class Ledger;
class FunctionLogStore;

// Fills in the report's identity (request id, function, version, memory size), its trigger
// and start, and its bill. A successful output the request's OutputReader refuses makes the
// invocation the function's error (Runtime.InvalidResponse), billed as any other.
void complete_report(InvocationReport& report, const InvocationRequest& request, WallTime start,
                     const Prices& prices);

// An invocation refused before it ran (overload, a ledger that cannot record): no billing
// record; one log line (record_refusal).
InvocationReport refused_report(const InvocationRequest& request, InvocationStatus status,
                                std::string_view error_type, std::string_view error_message);
// Overload.
InvocationReport throttled_report(const InvocationRequest& request);

// How many refusal lines a function's log gets: refusals cost the daemon almost nothing,
// so an anonymous caller can make them by the ten thousand a second, and a line each
// would fill the disk the ledger needs. Each function gets `lines_per_second`; the first
// line after a quiet stretch says how many were left out. Thread-safe.
class RefusalLogBudget {
public:
    // `seconds`: a monotonic clock in whole seconds (steady_clock's when empty).
    explicit RefusalLogBudget(uint32_t lines_per_second = 10, std::function<int64_t()> seconds = {});
    // Whether `report` gets its line; when it does, how many before it did not.
    std::optional<uint64_t> admit(const InvocationReport& report);
    // The budget of a deleted function.
    void forget(const std::string& function);

private:
    struct FunctionBudget {
        int64_t second = 0;
        uint32_t lines = 0;
        uint64_t left_out = 0;
    };
    const uint32_t lines_per_second_;
    const std::function<int64_t()> seconds_;
    std::mutex mutex_;
    std::unordered_map<std::string, FunctionBudget> functions_;
};

// Writes the one log line of an invocation that was refused before it ran (throttled,
// or not admitted while the ledger cannot write), within the function's budget: no
// billing record, since nothing ran, but its function's owner learns why in the
// function's log. Never throws.
void record_refusal(FunctionLogStore& logs, RefusalLogBudget& budget, const InvocationReport& report);

// Appends the billing record and the log lines of a finished invocation. Failures are
// logged (with the request id), never thrown. Returns whether the billing record was
// written: without it the caller must not get the invocation's answer (scheduler.cpp).
bool record_invocation(Ledger& ledger, FunctionLogStore& logs, const InvocationReport& report);

// Bills and records an init no invocation paid for (a min_warm environment's, a deploy's
// trial load; the pool's report, trigger `warm` or `deploy`): its init time at the memory
// size's price, without the per-request price, since nothing was requested.
// `report` gets its bill.
void record_unpaid_init(Ledger& ledger, FunctionLogStore& logs, InvocationReport& report, const Prices& prices);

}  // namespace sofaas
