// Schedules: each due time of each schedule becomes one queued event (trigger `schedule`),
// so a firing gets the retries, destinations and dead letters of any asynchronous
// invocation.
//
// Exactly one firing per due time: the store records a due time as fired in the same commit
// that queues its event, and refuses the same due time twice (EventStore::fire), across
// restarts and kill -9 alike. Due times that passed while no daemon ran are not all made
// up for: the most recent fires once at start, the older ones are counted as missed. A
// paused schedule fires nothing; resumed, it fires at its next due time.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "common/config.h"
#include "events/event_store.h"

namespace sofaas {

class Dispatcher;

class ScheduleRunner {
public:
    ScheduleRunner(EventStore& store, Dispatcher& dispatcher, const Config& config);
    ~ScheduleRunner();  // stop()s

    void start();
    void stop();
    // Schedules were added, paused, resumed or deleted: look at them again now.
    void changed();

    // When `schedule` fires next after `after` (nullopt: never again, or its expression or
    // time zone no longer reads). For the control API's listings.
    static std::optional<UnixMillis> next_due(const Schedule& schedule, UnixMillis after);

    // EventBridge's scheduled event for a firing at `due`: version, id, detail-type
    // "Scheduled Event", source "aws.events", account, time, region, resources, detail {}.
    static std::string scheduled_event(const Schedule& schedule, UnixMillis due, const std::string& event_id,
                                       const Config& config);

private:
    struct State;
    std::shared_ptr<State> state_;
};

}  // namespace sofaas
