// Turning what happened in an execution environment into what the client, the bill and
// the function's log say about it.
#pragma once

#include <string_view>

#include "common/config.h"
#include "common/invocation.h"
#include "common/time.h"
#include "pool/pool.h"
#include "scheduler/scheduler.h"

namespace sofaas {

class Ledger;
class FunctionLogStore;

// Takes the execution's output and error text (an output can be 6 MiB: it is moved, not
// copied). A successful output the request's OutputReader refuses makes the invocation the
// function's error (Runtime.InvalidResponse).
InvocationResult result_of(const InvocationRequest& request, Execution&& execution);

// Overload never reaches a worker: no billing record, no log lines.
InvocationResult throttled_result(const InvocationRequest& request);

// Appends the billing record and the log lines of a finished invocation. Failures are
// logged (with the request id), never thrown. Returns whether the billing record was
// written: without it the caller must not get the invocation's answer (scheduler.cpp).
bool record_invocation(Ledger& ledger, FunctionLogStore& logs, const InvocationRequest& request,
                       const InvocationResult& result, WallTime start, std::string_view captured_stdout,
                       std::string_view captured_stderr, const Prices& prices);

// Bills an init no invocation paid for (a min_warm environment's, a deploy's trial load)
// as a record of its own, trigger `warm` or `deploy`: its init time at the memory size's
// price, without the per-request price, since nothing was requested.
void record_unpaid_init(Ledger& ledger, FunctionLogStore& logs, InitReport report, const Prices& prices);

}  // namespace sofaas
