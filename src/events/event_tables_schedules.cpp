// The schedules' writes, and their firings.
#include "events/event_tables.h"

namespace sofaas {

bool EventTables::add_schedule(const Schedule& schedule) {
    auto query = db_.query(
        "INSERT INTO schedules (function_name, schedule_id, expression, timezone, payload, paused, created_ms, "
        "last_due_ms, fired, missed) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (function_name, schedule_id) DO NOTHING");
    std::optional<Blob> payload;
    if (schedule.payload) payload = Blob{*schedule.payload};
    query.bind(schedule.function, schedule.id, schedule.expression, schedule.timezone, payload, schedule.paused,
               schedule.created_ms, schedule.last_due_ms, schedule.fired, schedule.missed)
        .run();
    return query.changes() > 0;
}

bool EventTables::set_paused(std::string_view function, std::string_view id, bool paused) {
    auto query = db_.query("UPDATE schedules SET paused = ? WHERE function_name = ? AND schedule_id = ?");
    query.bind(paused, function, id).run();
    return query.changes() > 0;
}

bool EventTables::delete_schedule(std::string_view function, std::string_view id) {
    auto query = db_.query("DELETE FROM schedules WHERE function_name = ? AND schedule_id = ?");
    query.bind(function, id).run();
    return query.changes() > 0;
}

bool EventTables::fire(std::string_view function, std::string_view id, UnixMillis due, uint64_t skipped,
                       const NewEvent& event) {
    {
        auto query = db_.query("SELECT paused, last_due_ms FROM schedules WHERE function_name = ? AND schedule_id = ?");
        query.bind(function, id);
        if (!query.next() || query.integer(0) != 0 || query.integer(1) >= due) return false;
    }
    EnqueueResult stored = enqueue(event, std::nullopt);
    if (stored.outcome == EnqueueOutcome::duplicate) {
        // Its key says this due time fired already (a schedule deleted and added again
        // under the same id): no second event, but the schedule moves past it.
        db_.query("UPDATE schedules SET last_due_ms = ? WHERE function_name = ? AND schedule_id = ?")
            .bind(due, function, id)
            .run();
        return false;
    }
    db_.query(
           "UPDATE schedules SET last_due_ms = ?, fired = fired + 1, missed = missed + ? "
           "WHERE function_name = ? AND schedule_id = ?")
        .bind(due, skipped, function, id)
        .run();
    return true;
}

}  // namespace sofaas
