// One invocation's report: the facts of one invocation (or of one init no invocation paid
// for), built once along the request path. The pool fills in what it observed, the scheduler
// completes it (identity, start, the trigger's verdict on the output, the bill); then the
// ledger line, the function's log lines and the response are all read from it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "common/invocation.h"
#include "common/time.h"

namespace sofaas {

// Who asked for an invocation, as the gateway authenticated them: the API key (or the
// temporary access key of a session), and for a session the role it assumed and the signed-in
// user's subject. A queued event keeps its enqueuer's. A schedule's firing names the schedule
// instead, in a field of its own, so that no key id can pass for one. All empty for an
// anonymous caller (a public route), the admin token and sofaas itself (warm-ups, deploys,
// destinations' records).
struct Principal {
    std::string key_id;
    std::string role;
    std::string user_sub;
    std::string schedule;  // the id of the invoked function's schedule that fired it
};

struct InvocationReport {
    // What ran, and why.
    std::string request_id;
    std::string function;
    uint32_t version = 0;
    Trigger trigger = Trigger::invoke;
    // A queued event's run: 1, 2, ... (its request id is the event's, the same for every
    // run, as on Lambda). 0 for everything else.
    uint32_t attempt = 0;
    WallTime start;  // when the invocation got its slot; an unpaid init: when it began
    Principal principal;

    // The outcome, set by the code that observed it (host_fault only by the pool).
    InvocationStatus status = InvocationStatus::ok;
    std::string error_type;  // status != ok: Lambda errorType / errorMessage, when known
    std::string error_message;
    // The failure ended the environment's init, before the handler ran (set by the pool).
    bool failed_in_init = false;
    // throttled or unavailable: why it was not run, for the function's log (the caller is
    // told only error_message, as on Lambda).
    std::string refusal_reason;

    // Measured on the daemon's clock and by the environment's cgroup, never taken from the
    // worker's word.
    double duration_ms = 0;          // handler time, to the kill on a timeout
    std::optional<double> init_ms;   // set when this invocation paid a cold start
    uint64_t billed_ms = 0;          // duration + init rounded up to 1 ms; 0 when not billed
    uint32_t memory_mb = 0;          // the function's memory size
    uint32_t max_memory_used_mb = 0;
    // With cgroups: the CPU time the environment used since it last reported (Ready, or
    // the previous Result), so this event's and whatever ran before it was frozen.
    std::optional<double> cpu_ms;
    uint64_t cost_pico_usd = 0;  // common/money.h: rounded once, here, summed exactly everywhere after

    // What the invocation produced. Empty in a record read back from the ledger.
    std::string output;  // status ok: the function's output bytes (up to 6 MiB: moved, never copied)
    std::string captured_stdout;
    std::string captured_stderr;
};

struct InvocationError {
    std::string error_type;
    std::string error_message;
};

// A copy of the report without its output (up to 6 MiB, the caller's alone) and, unless
// kept, without its captured stdout and stderr: what outlives the response.
enum class Captures { keep, drop };
InvocationReport facts_of(const InvocationReport& report, Captures captures);

// How a failed invocation is told (the response's body, the log's ERROR line): its own
// errorType and errorMessage, else its status's defaults, as Lambda names them.
InvocationError error_of(const InvocationReport& report);

}  // namespace sofaas
