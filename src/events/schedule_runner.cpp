#include "events/schedule_runner.h"

#include <algorithm>
#include <condition_variable>
#include <map>
#include <mutex>
#include <set>
#include <thread>
#include <utility>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "common/request_id.h"
#include "common/time.h"
#include "events/dispatcher.h"
#include "events/schedule_expression.h"
#include "events/time_zone.h"

namespace sofaas {
namespace {

using std::chrono::milliseconds;
using std::chrono::sys_seconds;

// Counting the due times a long stop skipped goes this far, then stops counting.
constexpr uint64_t max_missed_counted = 1'000'000;
// With nothing due, the schedules are read again this often anyway.
constexpr UnixMillis idle_look_ms = 60 * 1000;

sys_seconds seconds_of(UnixMillis ms) {
    return std::chrono::floor<std::chrono::seconds>(std::chrono::sys_time<milliseconds>(milliseconds(ms)));
}

UnixMillis millis_of(sys_seconds t) {
    return std::chrono::duration_cast<milliseconds>(t.time_since_epoch()).count();
}

// A schedule's expression and zone, parsed once.
struct Timing {
    ScheduleExpression expression;
    TimeZone zone;
    sys_seconds anchor;

    std::optional<UnixMillis> next_after(UnixMillis after) const {
        const auto next = expression.next_after(seconds_of(after), zone, anchor);
        if (!next) return std::nullopt;
        return millis_of(*next);
    }
};

std::optional<Timing> timing_of(const Schedule& schedule) {
    try {
        return Timing{ScheduleExpression::parse(schedule.expression), TimeZone::load_or_throw(schedule.timezone),
                      seconds_of(schedule.created_ms)};
    } catch (const std::exception& e) {
        spdlog::error("schedule {} of {}: {}: it does not fire", schedule.id, schedule.function, e.what());
        return std::nullopt;
    }
}

// The latest due time at or before `now` after `from`, and how many came before it.
struct Overdue {
    UnixMillis latest = 0;
    uint64_t skipped = 0;
};

std::optional<Overdue> overdue(const Timing& timing, UnixMillis from, UnixMillis now) {
    std::optional<UnixMillis> due = timing.next_after(from);
    if (!due || *due > now) return std::nullopt;
    Overdue found{*due, 0};
    if (timing.expression.kind() == ScheduleKind::rate) {
        // Arithmetic, not a walk: a second-rate schedule stopped for a month has 2.6 M.
        const UnixMillis period = std::chrono::duration_cast<milliseconds>(timing.expression.period()).count();
        const uint64_t later = static_cast<uint64_t>((now - *due) / period);
        found.latest = *due + static_cast<UnixMillis>(later) * period;
        found.skipped = later;
        return found;
    }
    while (found.skipped < max_missed_counted) {
        const auto next = timing.next_after(found.latest);
        if (!next || *next > now) break;
        found.latest = *next;
        ++found.skipped;
    }
    return found;
}

}  // namespace

struct ScheduleRunner::State : std::enable_shared_from_this<ScheduleRunner::State> {
    State(EventStore& store_, Dispatcher& dispatcher_, const Config& config_)
        : store(store_), dispatcher(dispatcher_), config(config_) {}

    EventStore& store;
    Dispatcher& dispatcher;
    const Config config;

    std::mutex mutex;
    std::condition_variable wake;
    bool stopping = false;
    bool changed = false;
    std::thread thread;

    // Schedules seen paused at the last look: resumed, they start from now, not from their
    // last firing.
    std::set<std::pair<std::string, std::string>> paused;
    std::map<std::pair<std::string, std::string>, UnixMillis> resumed_at;

    void loop() {
        std::unique_lock lock(mutex);
        while (!stopping) {
            changed = false;
            lock.unlock();
            const UnixMillis wake_at = fire_due();
            lock.lock();
            if (changed || stopping) continue;
            wake.wait_until(lock, std::chrono::system_clock::time_point(milliseconds(wake_at)),
                            [this] { return stopping || changed; });
        }
    }

    // Fires what is due; returns when to look again.
    UnixMillis fire_due() {
        UnixMillis now = unix_now_ms();
        std::vector<Schedule> schedules;
        try {
            schedules = store.schedules(std::nullopt);
        } catch (const EventStoreError& e) {
            spdlog::error("schedules cannot be read: {}", e.what());
            return now + store_failure_pause_ms;
        }
        UnixMillis wake_at = now + idle_look_ms;
        for (const Schedule& schedule : schedules) {
            const auto key = std::pair(schedule.function, schedule.id);
            if (schedule.paused) {
                paused.insert(key);
                continue;
            }
            if (paused.erase(key)) resumed_at[key] = now;
            const std::optional<Timing> timing = timing_of(schedule);
            if (!timing) continue;
            UnixMillis from = std::max(schedule.last_due_ms, schedule.created_ms);
            if (auto resumed = resumed_at.find(key); resumed != resumed_at.end()) from = std::max(from, resumed->second);
            if (const auto due = overdue(*timing, from, now)) {
                if (!fire(schedule, *due)) {
                    wake_at = std::min(wake_at, now + store_failure_pause_ms);
                    continue;
                }
                from = due->latest;
            }
            if (const auto next = timing->next_after(from)) wake_at = std::min(wake_at, *next);
        }
        return wake_at;
    }

    bool fire(const Schedule& schedule, const Overdue& due) {
        NewEvent event;
        event.request_id = new_request_id();
        event.function = schedule.function;
        event.trigger = Trigger::schedule;
        event.principal.schedule = schedule.id;
        event.payload = schedule.payload ? *schedule.payload : scheduled_event(schedule, due.latest, event.request_id, config);
        // Blanks, which a caller's key cannot hold: no one can take a due time's key first.
        event.idempotency_key = "schedule " + schedule.id + " " + std::to_string(due.latest);
        event.enqueued_ms = due.latest;
        try {
            if (store.fire(schedule.function, schedule.id, due.latest, due.skipped, std::move(event))) {
                if (due.skipped > 0) {
                    spdlog::warn("schedule {} of {}: {} due times passed while it could not fire; the latest fired",
                                 schedule.id, schedule.function, due.skipped);
                }
                dispatcher.notify(schedule.function);
            }
            return true;
        } catch (const EventStoreError& e) {
            spdlog::error("schedule {} of {}: not fired: {}", schedule.id, schedule.function, e.what());
            return false;
        }
    }
};

ScheduleRunner::ScheduleRunner(EventStore& store, Dispatcher& dispatcher, const Config& config)
    : state_(std::make_shared<State>(store, dispatcher, config)) {}

ScheduleRunner::~ScheduleRunner() {
    stop();
}

void ScheduleRunner::start() {
    state_->thread = std::thread([state = state_] { state->loop(); });
}

void ScheduleRunner::stop() {
    {
        std::lock_guard lock(state_->mutex);
        state_->stopping = true;
        state_->wake.notify_all();
    }
    if (state_->thread.joinable()) state_->thread.join();
}

void ScheduleRunner::changed() {
    std::lock_guard lock(state_->mutex);
    state_->changed = true;
    state_->wake.notify_all();
}

std::optional<UnixMillis> ScheduleRunner::next_due(const Schedule& schedule, UnixMillis after) {
    const auto timing = timing_of(schedule);
    if (!timing) return std::nullopt;
    return timing->next_after(std::max({after, schedule.last_due_ms, schedule.created_ms}));
}

std::string ScheduleRunner::scheduled_event(const Schedule& schedule, UnixMillis due, const std::string& event_id,
                                            const Config& config) {
    std::string time = format_rfc3339(WallTime(milliseconds(due)));
    time = time.substr(0, 19) + "Z";  // EventBridge's: whole seconds
    const nlohmann::ordered_json event = {
        {"version", "0"},
        {"id", event_id},
        {"detail-type", "Scheduled Event"},
        {"source", "aws.events"},
        {"account", config.account_id},
        {"time", time},
        {"region", config.region},
        {"resources", {"arn:aws:events:" + config.region + ":" + config.account_id + ":rule/" + schedule.function +
                       "-" + schedule.id}},
        {"detail", nlohmann::ordered_json::object()},
    };
    return event.dump();
}

}  // namespace sofaas
