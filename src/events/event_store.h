// The durable state of event-driven invocations: the queue of events waiting to run, the
// dead letters, the idempotency keys and the schedules with their last firings. An
// interface, so that the embedded store (SQLite, sqlite_event_store.h) and a shared
// database server serve the same dispatcher: events are claimed with leases that expire,
// never held by in-memory locks.
//
// Every write is durable (committed and fsync'd) before its completion runs or its call
// returns. Concurrent writes share one commit (group commit), so the enqueue rate is not
// one fsync per event.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "common/invocation.h"
#include "common/invocation_report.h"

namespace sofaas {

// Lambda's limit for an asynchronous invocation's payload.
inline constexpr size_t max_event_payload_bytes = 256 * 1024;

// Unix time in milliseconds: what the store keeps, portable across SQL engines.
using UnixMillis = int64_t;
UnixMillis unix_now_ms();
// After the store failed, the dispatcher and the schedule runner wait this long before they
// ask it again.
constexpr UnixMillis store_failure_pause_ms = 1000;

struct NewEvent {
    std::string request_id;  // answered with 202; every run's record carries it
    std::string function;
    uint32_t version = 0;    // 0: the version that is $LATEST when it runs
    Trigger trigger = Trigger::async;  // async or schedule
    std::string payload;
    std::optional<std::string> idempotency_key;  // per function, remembered 24 h
    UnixMillis enqueued_ms = 0;    // its age counts from here
    UnixMillis not_before_ms = 0;  // not run before (0: at once)
    // Who queued it (the caller of an async invocation), or the schedule that fired it:
    // every run's record and the function's context name it.
    Principal principal;
};

struct QueuedEvent {
    int64_t id = 0;  // the store's; increasing in arrival order
    NewEvent event;
    // Claims so far, this one included: the run's attempt number. Counted when claimed, so
    // a run after a crash has a number of its own.
    uint32_t runs = 0;
    uint32_t failures = 0;  // function failures so far (retries used, plus one)
    std::string last_error_type;
    std::string last_error_message;
};

enum class EnqueueOutcome {
    queued,
    duplicate,  // its idempotency key was used within 24 h: request_id is the first event's
    full,       // the function already has max_queued events waiting
    failed,     // the store could not write (error says why); nothing was stored
};

struct EnqueueResult {
    EnqueueOutcome outcome = EnqueueOutcome::failed;
    std::string request_id;
    std::string error;
};

// Why an event stopped being retried (Lambda's destination record names it).
enum class FailureCondition { retries_exhausted, event_age_exceeded };
std::string_view to_string(FailureCondition condition);
// Read back as the stores keep them: by to_string()'s names. A name no build wrote reads
// as the default (async, retries_exhausted).
FailureCondition failure_condition_named(std::string_view name);
Trigger stored_trigger_named(std::string_view name);

struct DeadLetter {
    int64_t id = 0;
    NewEvent event;
    uint32_t runs = 0;
    FailureCondition condition = FailureCondition::retries_exhausted;
    std::string error_type;
    std::string error_message;
    UnixMillis failed_ms = 0;
};

// What becomes of a claimed event after its run.
enum class SettlementKind {
    done,         // ran (successfully, or failed for good with a destination): removed
    retry,        // a function failure with retries left: failures + 1, runs again at not_before
    requeue,      // not the function's fault (throttled, host fault): runs again at not_before
    dead_letter,  // failed for good, no on-failure destination: moved to the dead letters
};

struct Settlement {
    SettlementKind kind = SettlementKind::done;
    UnixMillis not_before_ms = 0;  // retry, requeue
    FailureCondition condition = FailureCondition::retries_exhausted;  // dead_letter
    std::string error_type;  // retry, dead_letter
    std::string error_message;
    UnixMillis now_ms = 0;
    // Stored in the same commit (a destination's event): it exists if and only if the
    // settlement does.
    std::optional<NewEvent> then_enqueue;
};

struct Schedule {
    std::string function;
    std::string id;          // unique per function
    std::string expression;  // as given: rate(...), cron(...) or five Unix fields
    std::string timezone;    // tz database name; "UTC" by default
    std::optional<std::string> payload;  // none: EventBridge's scheduled-event payload
    bool paused = false;
    UnixMillis created_ms = 0;  // also rate()'s anchor
    UnixMillis last_due_ms = 0; // the due time of its last firing; 0: never fired
    uint64_t fired = 0;
    uint64_t missed = 0;        // due times skipped while no daemon ran
};

struct QueueDepth {
    uint64_t events = 0;
    UnixMillis oldest_enqueued_ms = 0;  // 0 when empty
};

// A storage failure of a blocking call (disk full, I/O error, corrupt file).
class EventStoreError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

class EventStore {
public:
    virtual ~EventStore() = default;

    // --- The queue -------------------------------------------------------------------

    // Stores the event durably, then runs `done` (on the store's own thread: keep it short,
    // post elsewhere). Refuses it, storing nothing, when the function has `max_queued`
    // events waiting already.
    virtual void enqueue(NewEvent event, uint64_t max_queued, std::function<void(EnqueueResult)> done) = 0;

    // Claims up to `limit` of the function's events that are due (not_before <= now) and
    // not leased, oldest first: each gets runs + 1 and a lease held by `owner` until
    // `lease_until`, durably, before this returns. Blocking.
    virtual std::vector<QueuedEvent> claim(std::string_view function, std::string_view owner, UnixMillis now,
                                           UnixMillis lease_until, size_t limit) = 0;

    // Ends a claimed event's run as `settlement` says; `done` runs on the store's thread
    // once durable (empty error) or failed (the event keeps its lease, and is claimed again
    // when it expires).
    virtual void settle(int64_t event_id, Settlement settlement, std::function<void(std::string error)> done) = 0;

    // Leases `owner` holds end now: at start, for the runs a killed daemon left behind.
    virtual void release_leases(std::string_view owner) = 0;

    // Events waiting (leased or not), per function with any. At start and for metrics.
    virtual std::vector<std::pair<std::string, QueueDepth>> depths() = 0;
    // When one of the function's events can next be claimed, if it has any: the earliest
    // not_before, or for a leased event the end of its lease if that is later (a run whose
    // settle() failed, or whose node died, is claimed again then). When to look again.
    virtual std::optional<UnixMillis> next_due(std::string_view function) = 0;

    // Forgets idempotency keys used before `before`.
    virtual void expire_idempotency_keys(UnixMillis before) = 0;

    // --- Dead letters ----------------------------------------------------------------

    // The function's dead letters, oldest first, with id > after_id.
    virtual std::vector<DeadLetter> dead_letters(std::string_view function, int64_t after_id, size_t limit) = 0;
    virtual std::optional<DeadLetter> dead_letter(std::string_view function, int64_t id) = 0;
    // Moves dead letters back into the queue (failures 0, age counted from `now`, runs kept
    // so attempt numbers stay unique): the ones listed, or all when `ids` is empty.
    // Returns how many moved.
    virtual uint64_t redrive(std::string_view function, const std::vector<int64_t>& ids, UnixMillis now) = 0;
    virtual uint64_t purge_dead_letters(std::string_view function) = 0;

    // --- Schedules -------------------------------------------------------------------

    // false when the function already has a schedule with that id.
    virtual bool add_schedule(const Schedule& schedule) = 0;
    virtual std::vector<Schedule> schedules(std::optional<std::string_view> function) = 0;
    // false when there is no such schedule.
    virtual bool set_paused(std::string_view function, std::string_view id, bool paused) = 0;
    virtual bool delete_schedule(std::string_view function, std::string_view id) = 0;

    // Records a firing for due time `due` and stores its event, in one commit, only if the
    // schedule's last_due is earlier (so each due time fires once, whoever asks twice);
    // `skipped` due times before it are added to `missed`. false: already fired, or the
    // schedule is gone or paused.
    virtual bool fire(std::string_view function, std::string_view id, UnixMillis due, uint64_t skipped,
                      NewEvent event) = 0;

    // --- Functions -------------------------------------------------------------------

    // A function was deleted: its queued events, dead letters, idempotency keys and
    // schedules go with it. Returns the number of queued events dropped.
    virtual uint64_t remove_function(std::string_view function) = 0;
};

}  // namespace sofaas
