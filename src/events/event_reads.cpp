#include "events/event_reads.h"

#include <algorithm>
#include <cstdint>

namespace sofaas {

const std::string principal_columns = "principal_key_id, principal_role, principal_user_sub, principal_schedule";

namespace {

const std::string dead_letter_columns =
    "id, request_id, function_name, function_version, trigger_kind, payload, idempotency_key, enqueued_ms, runs, "
    "failure_condition, error_type, error_message, failed_ms, " + principal_columns;

// Columns 1-7 of both tables: request_id .. enqueued_ms; the principal's from `principal_at`.
void read_event_columns(const SqliteQuery& row, int principal_at, NewEvent& event) {
    event.request_id = row.text(1);
    event.function = row.text(2);
    event.version = static_cast<uint32_t>(row.integer(3));
    event.trigger = stored_trigger_named(row.text(4));
    event.payload = row.text(5);
    event.idempotency_key = row.optional_text(6);
    event.enqueued_ms = row.integer(7);
    event.principal.key_id = row.text(principal_at);
    event.principal.role = row.text(principal_at + 1);
    event.principal.user_sub = row.text(principal_at + 2);
    event.principal.schedule = row.text(principal_at + 3);
}

DeadLetter dead_letter_row(const SqliteQuery& row) {
    DeadLetter letter;
    letter.id = row.integer(0);
    read_event_columns(row, 13, letter.event);
    letter.runs = static_cast<uint32_t>(row.integer(8));
    letter.condition = failure_condition_named(row.text(9));
    letter.error_type = row.text(10);
    letter.error_message = row.text(11);
    letter.failed_ms = row.integer(12);
    return letter;
}

const std::string schedule_columns =
    "function_name, schedule_id, expression, timezone, payload, paused, created_ms, last_due_ms, fired, missed";

Schedule schedule_row(const SqliteQuery& row) {
    Schedule schedule;
    schedule.function = row.text(0);
    schedule.id = row.text(1);
    schedule.expression = row.text(2);
    schedule.timezone = row.text(3);
    schedule.payload = row.optional_text(4);
    schedule.paused = row.integer(5) != 0;
    schedule.created_ms = row.integer(6);
    schedule.last_due_ms = row.integer(7);
    schedule.fired = static_cast<uint64_t>(row.integer(8));
    schedule.missed = static_cast<uint64_t>(row.integer(9));
    return schedule;
}

}  // namespace

const std::string event_columns =
    "id, request_id, function_name, function_version, trigger_kind, payload, idempotency_key, enqueued_ms, "
    "not_before_ms, runs, failures, last_error_type, last_error_message, " + principal_columns;

QueuedEvent queued_event(const SqliteQuery& row) {
    QueuedEvent queued;
    queued.id = row.integer(0);
    read_event_columns(row, 13, queued.event);
    queued.event.not_before_ms = row.integer(8);
    queued.runs = static_cast<uint32_t>(row.integer(9));
    queued.failures = static_cast<uint32_t>(row.integer(10));
    queued.last_error_type = row.text(11);
    queued.last_error_message = row.text(12);
    return queued;
}

std::vector<std::pair<std::string, QueueDepth>> read_depths(SqliteConnection& db) {
    std::vector<std::pair<std::string, QueueDepth>> depths;
    auto query = db.query(
        "SELECT function_name, COUNT(*), MIN(enqueued_ms) FROM events GROUP BY function_name ORDER BY function_name");
    while (query.next()) {
        depths.emplace_back(query.text(0), QueueDepth{static_cast<uint64_t>(query.integer(1)), query.integer(2)});
    }
    return depths;
}

std::optional<UnixMillis> read_next_due(SqliteConnection& db, std::string_view function) {
    // A leased event is due again when its lease ends: a run whose settle() failed, or whose
    // node died, is claimed then.
    auto query = db.query(
        "SELECT MIN(CASE WHEN lease_until_ms > not_before_ms THEN lease_until_ms ELSE not_before_ms END) "
        "FROM events WHERE function_name = ?");
    query.bind(function);
    if (!query.next() || query.is_null(0)) return std::nullopt;
    return query.integer(0);
}

std::vector<DeadLetter> read_dead_letters(SqliteConnection& db, std::string_view function, int64_t after_id,
                                          size_t limit) {
    std::vector<DeadLetter> letters;
    auto query = db.query("SELECT " + dead_letter_columns +
                          " FROM dead_letters WHERE function_name = ? AND id > ? ORDER BY id LIMIT ?");
    query.bind(function, after_id, static_cast<int64_t>(std::min<size_t>(limit, INT64_MAX)));
    while (query.next()) letters.push_back(dead_letter_row(query));
    return letters;
}

std::optional<DeadLetter> read_dead_letter(SqliteConnection& db, std::string_view function, int64_t id) {
    auto query = db.query("SELECT " + dead_letter_columns + " FROM dead_letters WHERE function_name = ? AND id = ?");
    query.bind(function, id);
    if (!query.next()) return std::nullopt;
    return dead_letter_row(query);
}

std::vector<Schedule> read_schedules(SqliteConnection& db, std::optional<std::string_view> function) {
    std::vector<Schedule> schedules;
    if (function) {
        auto query = db.query("SELECT " + schedule_columns +
                              " FROM schedules WHERE function_name = ? ORDER BY function_name, schedule_id");
        query.bind(*function);
        while (query.next()) schedules.push_back(schedule_row(query));
    } else {
        auto query = db.query("SELECT " + schedule_columns + " FROM schedules ORDER BY function_name, schedule_id");
        while (query.next()) schedules.push_back(schedule_row(query));
    }
    return schedules;
}

}  // namespace sofaas
