// The dispatcher: runs queued events (asynchronous invocations, schedule firings,
// destinations' records) through the scheduler, as synchronous calls run, and settles each
// run: done, run again later, a destination's event or a dead letter (event_outcome.h).
//
// At least once: an event leaves the queue only in the commit that settles a run, and a run
// is settled only after its billing record is written. A daemon killed while events ran
// leaves their leases behind; they are released at the next start and those events run
// again, with a new attempt number. So an event runs twice only when a daemon died during
// its run: at most events.max_running duplicates per crash.
//
// Order and fairness: a function's due events are claimed oldest first. They use at most
// events.concurrency_share_percent of its max_concurrency at once (at least one run), so
// callers waiting for an answer always keep the rest; and at most events.max_running runs
// of queued events are in flight in all.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "common/config.h"
#include "events/event_store.h"

namespace sofaas {

class Registry;
class Scheduler;
class Metrics;

class Dispatcher {
public:
    // Events refused (queue full), expired and dead-lettered are counted in `metrics`.
    Dispatcher(EventStore& store, Registry& registry, Scheduler& scheduler, Metrics& metrics, const Config& config);
    ~Dispatcher();  // stop()s

    // Releases the leases a previous daemon left, learns which functions have events
    // waiting, and starts dispatching.
    void start();
    // Claims nothing more. The runs in flight go on (running() tells when they are settled);
    // a lease whose run is never settled is released at the next start.
    void stop();

    // Stores an asynchronous invocation (durably, see EventStore::enqueue) and runs `done`
    // on the store's thread; the event runs soon after.
    void enqueue(NewEvent event, std::function<void(EnqueueResult)> done);
    // Events of `function` were stored by someone else (a schedule, a redrive): look soon.
    void notify(const std::string& function);

    // Runs of queued events in flight now.
    size_t running() const;

private:
    struct State;
    std::shared_ptr<State> state_;
};

}  // namespace sofaas
