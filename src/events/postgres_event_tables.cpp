#include "events/postgres_event_tables.h"

#include <algorithm>
#include <array>
#include <climits>

namespace sofaas {

namespace {

// How long an idempotency key answers with its first request id, from that event's
// enqueued_ms.
constexpr UnixMillis idempotency_window_ms = 24 * 60 * 60 * 1000;

// The tables of sqlite's event_schema.cpp (at its version 2) in PostgreSQL's words. What a
// caller, a function or another issuer of tokens chose (payloads, idempotency keys, error
// types and messages, a user's subject) is BYTEA: bytes that need not be valid in the
// database's encoding. event_queue_counts is each function's
// number of waiting events, the one row an enqueue checks against max_queued.
constexpr std::string_view version_1 = R"sql(
CREATE TABLE events (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    request_id TEXT NOT NULL,
    function_name TEXT NOT NULL,
    function_version BIGINT NOT NULL,
    trigger_kind TEXT NOT NULL,
    payload BYTEA NOT NULL,
    idempotency_key BYTEA,
    enqueued_ms BIGINT NOT NULL,
    not_before_ms BIGINT NOT NULL,
    runs BIGINT NOT NULL DEFAULT 0,
    failures BIGINT NOT NULL DEFAULT 0,
    last_error_type BYTEA NOT NULL DEFAULT '',
    last_error_message BYTEA NOT NULL DEFAULT '',
    lease_owner TEXT,
    lease_until_ms BIGINT NOT NULL DEFAULT 0,
    principal_key_id TEXT NOT NULL DEFAULT '',
    principal_role TEXT NOT NULL DEFAULT '',
    principal_user_sub BYTEA NOT NULL DEFAULT '',
    principal_schedule TEXT NOT NULL DEFAULT ''
);
CREATE INDEX events_by_function ON events (function_name, id);
CREATE INDEX events_by_lease_owner ON events (lease_owner);

CREATE TABLE event_queue_counts (
    function_name TEXT PRIMARY KEY,
    waiting BIGINT NOT NULL
);

CREATE TABLE dead_letters (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    request_id TEXT NOT NULL,
    function_name TEXT NOT NULL,
    function_version BIGINT NOT NULL,
    trigger_kind TEXT NOT NULL,
    payload BYTEA NOT NULL,
    idempotency_key BYTEA,
    enqueued_ms BIGINT NOT NULL,
    runs BIGINT NOT NULL,
    failure_condition TEXT NOT NULL,
    error_type BYTEA NOT NULL,
    error_message BYTEA NOT NULL,
    failed_ms BIGINT NOT NULL,
    principal_key_id TEXT NOT NULL DEFAULT '',
    principal_role TEXT NOT NULL DEFAULT '',
    principal_user_sub BYTEA NOT NULL DEFAULT '',
    principal_schedule TEXT NOT NULL DEFAULT ''
);
CREATE INDEX dead_letters_by_function ON dead_letters (function_name, id);

CREATE TABLE idempotency_keys (
    function_name TEXT NOT NULL,
    idempotency_key BYTEA NOT NULL,
    request_id TEXT NOT NULL,
    used_ms BIGINT NOT NULL,
    PRIMARY KEY (function_name, idempotency_key)
);
CREATE INDEX idempotency_keys_by_use ON idempotency_keys (used_ms);

CREATE TABLE schedules (
    function_name TEXT NOT NULL,
    schedule_id TEXT NOT NULL,
    expression TEXT NOT NULL,
    timezone TEXT NOT NULL,
    payload BYTEA,
    paused BOOLEAN NOT NULL DEFAULT FALSE,
    created_ms BIGINT NOT NULL,
    last_due_ms BIGINT NOT NULL DEFAULT 0,
    fired BIGINT NOT NULL DEFAULT 0,
    missed BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (function_name, schedule_id)
);
)sql";

// Migration n takes the schema from version n - 1 to n; append, never edit.
constexpr std::array migrations{version_1};

int64_t clamped(uint64_t value) { return static_cast<int64_t>(std::min<uint64_t>(value, INT64_MAX)); }

}  // namespace

std::span<const std::string_view> postgres_event_migrations() { return migrations; }

namespace {

const std::string principal_columns = "principal_key_id, principal_role, principal_user_sub, principal_schedule";

// Columns 1-7 of both tables (request_id .. enqueued_ms), and the principal's from
// `principal_at`.
void read_event_columns(const PostgresRows& rows, size_t row, int principal_at, NewEvent& event) {
    event.request_id = rows.text(row, 1);
    event.function = rows.text(row, 2);
    event.version = static_cast<uint32_t>(rows.integer(row, 3));
    event.trigger = stored_trigger_named(rows.text(row, 4));
    event.payload = rows.bytes(row, 5);
    event.idempotency_key = rows.optional_bytes(row, 6);
    event.enqueued_ms = rows.integer(row, 7);
    event.principal.key_id = rows.text(row, principal_at);
    event.principal.role = rows.text(row, principal_at + 1);
    event.principal.user_sub = rows.bytes(row, principal_at + 2);
    event.principal.schedule = rows.text(row, principal_at + 3);
}

}  // namespace

const std::string postgres_event_columns =
    "id, request_id, function_name, function_version, trigger_kind, payload, idempotency_key, enqueued_ms, "
    "not_before_ms, runs, failures, last_error_type, last_error_message, " +
    principal_columns;

QueuedEvent postgres_queued_event(const PostgresRows& rows, size_t row) {
    QueuedEvent queued;
    queued.id = rows.integer(row, 0);
    read_event_columns(rows, row, 13, queued.event);
    queued.event.not_before_ms = rows.integer(row, 8);
    queued.runs = static_cast<uint32_t>(rows.integer(row, 9));
    queued.failures = static_cast<uint32_t>(rows.integer(row, 10));
    queued.last_error_type = rows.bytes(row, 11);
    queued.last_error_message = rows.bytes(row, 12);
    return queued;
}

const std::string postgres_dead_letter_columns =
    "id, request_id, function_name, function_version, trigger_kind, payload, idempotency_key, enqueued_ms, runs, "
    "failure_condition, error_type, error_message, failed_ms, " +
    principal_columns;

DeadLetter postgres_dead_letter(const PostgresRows& rows, size_t row) {
    DeadLetter letter;
    letter.id = rows.integer(row, 0);
    read_event_columns(rows, row, 13, letter.event);
    letter.runs = static_cast<uint32_t>(rows.integer(row, 8));
    letter.condition = failure_condition_named(rows.text(row, 9));
    letter.error_type = rows.bytes(row, 10);
    letter.error_message = rows.bytes(row, 11);
    letter.failed_ms = rows.integer(row, 12);
    return letter;
}

PostgresEventTables::PostgresEventTables(PostgresConnection& connection) : db_(connection) {}

void PostgresEventTables::begin() { db_.begin(); }
void PostgresEventTables::commit() { db_.commit(); }
void PostgresEventTables::rollback() { db_.rollback(); }
void PostgresEventTables::begin_operation() { db_.run("SAVEPOINT operation"); }
void PostgresEventTables::end_operation() { db_.run("RELEASE SAVEPOINT operation"); }

void PostgresEventTables::undo_operation() {
    db_.run("ROLLBACK TO SAVEPOINT operation");
    db_.run("RELEASE SAVEPOINT operation");
}

bool PostgresEventTables::fails_batch(const std::exception& error) const {
    const auto* postgres_error = dynamic_cast<const PostgresError*>(&error);
    return postgres_error && postgres_error->kind() == PostgresError::Kind::connection;
}

void PostgresEventTables::count(std::string_view function, int64_t change) {
    if (change == 0) return;
    db_.run(
        "INSERT INTO event_queue_counts (function_name, waiting) VALUES ($1, $2) ON CONFLICT (function_name) "
        "DO UPDATE SET waiting = event_queue_counts.waiting + excluded.waiting",
        {function, change});
}

namespace {

// The columns a new event is stored in, and its values for them, $1 to $12.
const std::string new_event_columns =
    "request_id, function_name, function_version, trigger_kind, payload, idempotency_key, enqueued_ms, not_before_ms, " +
    principal_columns;

std::vector<PostgresValue> new_event_values(const NewEvent& event) {
    std::optional<Bytes> key;
    if (event.idempotency_key) key = Bytes{*event.idempotency_key};
    return {event.request_id, event.function, event.version, to_string(event.trigger), Bytes{event.payload}, key,
            event.enqueued_ms, event.not_before_ms, event.principal.key_id, event.principal.role,
            Bytes{event.principal.user_sub}, event.principal.schedule};
}

}  // namespace

void PostgresEventTables::insert(const NewEvent& event) {
    db_.run("INSERT INTO events (" + new_event_columns + ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
            new_event_values(event));
}

EnqueueResult PostgresEventTables::enqueue(const NewEvent& event, std::optional<uint64_t> max_queued) {
    EnqueueResult result;
    std::optional<Bytes> key;
    if (event.idempotency_key) key = Bytes{*event.idempotency_key};
    auto first_use = [&]() -> std::optional<std::string> {
        PostgresRows rows = db_.run(
            "SELECT request_id FROM idempotency_keys WHERE function_name = $1 AND idempotency_key = $2 "
            "AND $3::BIGINT - used_ms < $4::BIGINT",
            {event.function, key, event.enqueued_ms, idempotency_window_ms});
        if (rows.empty()) return std::nullopt;
        return rows.text(0, 0);
    };
    if (key) {
        if (auto first = first_use()) return EnqueueResult{EnqueueOutcome::duplicate, std::move(*first), {}};
    }
    result.request_id = event.request_id;
    if (!key) {
        // Counted and stored in one statement, one round trip; with max_queued, the row is
        // stored only if the count took a place (a node racing for the last place waits for
        // the count's row, then sees it taken).
        const std::string limit = max_queued ? " WHERE event_queue_counts.waiting < $13::BIGINT" : "";
        std::vector<PostgresValue> parameters = new_event_values(event);
        if (max_queued) parameters.emplace_back(clamped(*max_queued));
        PostgresRows stored = db_.run(
            "WITH counted AS (INSERT INTO event_queue_counts (function_name, waiting) SELECT $2::TEXT, 1" +
                std::string(max_queued ? " WHERE $13::BIGINT > 0" : "") +
                " ON CONFLICT (function_name) DO UPDATE SET waiting = event_queue_counts.waiting + 1" + limit +
                " RETURNING 1) INSERT INTO events (" + new_event_columns +
                ") SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12 FROM counted RETURNING id",
            parameters);
        result.outcome = stored.empty() ? EnqueueOutcome::full : EnqueueOutcome::queued;
        return result;
    }
    if (max_queued) {
        // Checked and counted in one statement: a node racing for the last place waits for
        // this row and then sees it taken.
        PostgresRows counted = db_.run(
            "INSERT INTO event_queue_counts (function_name, waiting) SELECT $1::TEXT, 1 WHERE $2::BIGINT > 0 "
            "ON CONFLICT (function_name) DO UPDATE SET waiting = event_queue_counts.waiting + 1 "
            "WHERE event_queue_counts.waiting < $2::BIGINT RETURNING waiting",
            {event.function, clamped(*max_queued)});
        if (counted.empty()) {
            result.outcome = EnqueueOutcome::full;
            return result;
        }
    } else {
        count(event.function, 1);
    }
    if (key) {
        // Taken only when unused or expired (then this event takes it over); another node
        // that took it meanwhile made this one a duplicate of its event.
        PostgresRows taken = db_.run(
            "INSERT INTO idempotency_keys (function_name, idempotency_key, request_id, used_ms) "
            "VALUES ($1, $2, $3, $4) ON CONFLICT (function_name, idempotency_key) "
            "DO UPDATE SET request_id = excluded.request_id, used_ms = excluded.used_ms "
            "WHERE excluded.used_ms - idempotency_keys.used_ms >= $5 RETURNING request_id",
            {event.function, key, event.request_id, event.enqueued_ms, idempotency_window_ms});
        if (taken.empty()) {
            count(event.function, -1);
            auto first = first_use();
            return EnqueueResult{EnqueueOutcome::duplicate, first.value_or(event.request_id), {}};
        }
    }
    insert(event);
    result.outcome = EnqueueOutcome::queued;
    return result;
}

std::vector<QueuedEvent> PostgresEventTables::claim(std::string_view function, std::string_view owner,
                                                    UnixMillis now, UnixMillis lease_until, size_t limit) {
    std::vector<QueuedEvent> claimed;
    if (limit == 0) return claimed;
    // SKIP LOCKED: rows another node is claiming right now are left to it, not waited for.
    PostgresRows rows = db_.run(
        "UPDATE events SET runs = runs + 1, lease_owner = $1, lease_until_ms = $2 WHERE id IN ("
        "SELECT id FROM events WHERE function_name = $3 AND not_before_ms <= $4 AND lease_until_ms <= $4 "
        "ORDER BY id LIMIT $5 FOR UPDATE SKIP LOCKED) RETURNING " +
            postgres_event_columns,
        {owner, lease_until, function, now, clamped(limit)});
    for (size_t row = 0; row < rows.size(); ++row) claimed.push_back(postgres_queued_event(rows, row));
    std::sort(claimed.begin(), claimed.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
    return claimed;
}

void PostgresEventTables::settle(int64_t event_id, const Settlement& settlement) {
    bool existed = false;
    auto remove = [&] {
        PostgresRows removed = db_.run("DELETE FROM events WHERE id = $1 RETURNING function_name", {event_id});
        for (size_t row = 0; row < removed.size(); ++row) {
            count(removed.text(row, 0), -1);
            existed = true;
        }
    };
    switch (settlement.kind) {
        case SettlementKind::done:
            remove();
            break;
        case SettlementKind::retry:
            existed = db_.run("UPDATE events SET failures = failures + 1, not_before_ms = $1, last_error_type = $2, "
                              "last_error_message = $3, lease_owner = NULL, lease_until_ms = 0 WHERE id = $4",
                              {settlement.not_before_ms, Bytes{settlement.error_type},
                               Bytes{settlement.error_message}, event_id})
                          .affected() > 0;
            break;
        case SettlementKind::requeue:
            existed = db_.run("UPDATE events SET not_before_ms = $1, lease_owner = NULL, lease_until_ms = 0 "
                              "WHERE id = $2",
                              {settlement.not_before_ms, event_id})
                          .affected() > 0;
            break;
        case SettlementKind::dead_letter:
            db_.run(
                "INSERT INTO dead_letters (request_id, function_name, function_version, trigger_kind, payload, "
                "idempotency_key, enqueued_ms, runs, failure_condition, error_type, error_message, failed_ms, " +
                    principal_columns +
                    ") SELECT request_id, function_name, function_version, trigger_kind, payload, idempotency_key, "
                    "enqueued_ms, runs, $1::TEXT, $2::BYTEA, $3::BYTEA, $4::BIGINT, " +
                    principal_columns + " FROM events WHERE id = $5",
                {to_string(settlement.condition), Bytes{settlement.error_type}, Bytes{settlement.error_message},
                 settlement.now_ms, event_id});
            remove();
            break;
    }
    // A destination's record of a run that was settled already (by another node, after the
    // lease expired) or whose function is gone would be a second one, or an orphan.
    if (existed && settlement.then_enqueue) {
        insert(*settlement.then_enqueue);
        count(settlement.then_enqueue->function, 1);
    }
}

void PostgresEventTables::release_leases(std::string_view owner) {
    db_.run("UPDATE events SET lease_owner = NULL, lease_until_ms = 0 WHERE lease_owner = $1", {owner});
}

void PostgresEventTables::expire_idempotency_keys(UnixMillis before) {
    db_.run("DELETE FROM idempotency_keys WHERE used_ms < $1", {before});
}

uint64_t PostgresEventTables::redrive(std::string_view function, const std::vector<int64_t>& ids, UnixMillis now) {
    // Back in the queue as a new arrival (a new id, its age from now) with its request id,
    // and its runs kept so that attempt numbers stay unique. Deleted first, so that a
    // letter two nodes redrive at once moves once.
    const std::string move =
        "WITH moved AS (DELETE FROM dead_letters WHERE function_name = $2 AND (cardinality($3::BIGINT[]) = 0 "
        "OR id = ANY($3::BIGINT[])) RETURNING *) "
        "INSERT INTO events (request_id, function_name, function_version, trigger_kind, payload, idempotency_key, "
        "enqueued_ms, not_before_ms, runs, failures, " +
        principal_columns +
        ") SELECT request_id, function_name, function_version, trigger_kind, payload, idempotency_key, $1::BIGINT, "
        "0, runs, 0, " +
        principal_columns + " FROM moved ORDER BY id";
    std::string id_array = "{";
    for (size_t i = 0; i < ids.size(); ++i) id_array += (i ? "," : "") + std::to_string(ids[i]);
    id_array += "}";
    const uint64_t moved = db_.run(move, {now, function, id_array}).affected();
    count(function, static_cast<int64_t>(moved));
    return moved;
}

uint64_t PostgresEventTables::purge_dead_letters(std::string_view function) {
    return db_.run("DELETE FROM dead_letters WHERE function_name = $1", {function}).affected();
}

bool PostgresEventTables::add_schedule(const Schedule& schedule) {
    std::optional<Bytes> payload;
    if (schedule.payload) payload = Bytes{*schedule.payload};
    return db_.run(
                  "INSERT INTO schedules (function_name, schedule_id, expression, timezone, payload, paused, "
                  "created_ms, last_due_ms, fired, missed) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) "
                  "ON CONFLICT (function_name, schedule_id) DO NOTHING",
                  {schedule.function, schedule.id, schedule.expression, schedule.timezone, payload, schedule.paused,
                   schedule.created_ms, schedule.last_due_ms, clamped(schedule.fired), clamped(schedule.missed)})
               .affected() > 0;
}

bool PostgresEventTables::set_paused(std::string_view function, std::string_view id, bool paused) {
    return db_.run("UPDATE schedules SET paused = $1 WHERE function_name = $2 AND schedule_id = $3",
                   {paused, function, id})
               .affected() > 0;
}

bool PostgresEventTables::delete_schedule(std::string_view function, std::string_view id) {
    return db_.run("DELETE FROM schedules WHERE function_name = $1 AND schedule_id = $2", {function, id})
               .affected() > 0;
}

bool PostgresEventTables::fire(std::string_view function, std::string_view id, UnixMillis due, uint64_t skipped,
                               const NewEvent& event) {
    // The compare-and-set: of nodes firing the same due time, the first moves last_due and
    // the others, waiting for its row, find it moved.
    const bool mine = db_.run(
                             "UPDATE schedules SET last_due_ms = $3 WHERE function_name = $1 AND schedule_id = $2 "
                             "AND NOT paused AND last_due_ms < $3",
                             {function, id, due})
                          .affected() > 0;
    if (!mine) return false;
    // A duplicate key says this due time fired already (a schedule deleted and added again
    // under the same id): no second event, but the schedule has moved past it.
    if (enqueue(event, std::nullopt).outcome == EnqueueOutcome::duplicate) return false;
    db_.run("UPDATE schedules SET fired = fired + 1, missed = missed + $3 WHERE function_name = $1 "
            "AND schedule_id = $2",
            {function, id, clamped(skipped)});
    return true;
}

uint64_t PostgresEventTables::remove_function(std::string_view function) {
    const uint64_t dropped = db_.run("DELETE FROM events WHERE function_name = $1", {function}).affected();
    for (const char* table : {"event_queue_counts", "dead_letters", "idempotency_keys", "schedules"}) {
        db_.run(std::string("DELETE FROM ") + table + " WHERE function_name = $1", {function});
    }
    return dropped;
}

}  // namespace sofaas
