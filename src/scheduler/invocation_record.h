// Completing what the pool observed of an invocation into its report, and writing the
// report where it must be before the caller hears of it: the ledger and the function's log.
#pragma once

#include <string_view>

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

// Writes the one log line of an invocation that was refused before it ran (throttled,
// or not admitted while the ledger cannot write): no billing record, since nothing ran,
// but its function's owner learns why in the function's log. Never throws.
void record_refusal(FunctionLogStore& logs, const InvocationReport& report);

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
