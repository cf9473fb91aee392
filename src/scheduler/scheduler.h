// The scheduler: admission control and the invocation record.
// Per function version it lets at most max_concurrency invocations run, queues up to
// limits.max_queue more, and answers 429 beyond that. Each admitted invocation runs in
// the pool; its report is written to the ledger and the function's logs *before* the
// caller's completion runs, so no client ever sees a response without its record.
// Billing fails closed: while the ledger cannot write, nothing is admitted (503, no
// function code runs), and an invocation whose record could not be written is answered
// 503 instead of with its output.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "common/config.h"
#include "common/function_spec.h"
#include "common/invocation_report.h"
#include "scheduler/throttle_history.h"

namespace sofaas {

class Pool;
class Ledger;
class FunctionLogStore;
class Metrics;

// How a trigger reads a successful output. A function URL's output must be an HTTP
// response (gateway/http_event.h); one that is not is the function's error. The scheduler
// asks before it writes the record, so the ledger, the log and the caller all see the
// same outcome.
class OutputReader {
public:
    virtual ~OutputReader() = default;
    // Called once, with a successful invocation's output, on the io thread that completes
    // it; may take the output. nullopt when the trigger can use it, else why not (the
    // errorMessage of a Runtime.InvalidResponse).
    virtual std::optional<std::string> read(std::string& output) = 0;
};

struct InvocationRequest {
    FunctionVersionPtr version;
    std::string payload;
    Trigger trigger = Trigger::invoke;
    std::string request_id;
    std::shared_ptr<OutputReader> output_reader;  // none: any output will do
    uint32_t attempt = 0;  // a queued event's run (InvocationReport::attempt)
    Principal principal;   // who called (InvocationReport::principal)
};

class Scheduler {
public:
    // Every answered invocation, throttle and unpaid init is counted in `metrics` too.
    Scheduler(Pool& pool, Ledger& ledger, FunctionLogStore& logs, Metrics& metrics, const Config& config);
    ~Scheduler();

    // `done` runs exactly once, on an io thread, after the record is written, with the
    // invocation's complete report.
    void invoke(InvocationRequest request, std::function<void(InvocationReport)> done);

    // A new version became $LATEST (previous = the one it replaces, 0 if none).
    void activate(FunctionVersionPtr version, uint32_t previous);
    void remove(const std::string& function);

    // Invocations admitted (running or waiting in a queue) and not yet answered; shutdown
    // waits for 0.
    size_t in_flight() const;

    // The requests this scheduler throttled (429), per function and second.
    const ThrottleHistory& throttles() const;

private:
    struct State;
    std::shared_ptr<State> state_;
};

}  // namespace sofaas
