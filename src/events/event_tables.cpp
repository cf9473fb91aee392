#include "events/event_tables.h"

#include <algorithm>

#include "events/event_reads.h"

namespace sofaas {

namespace {

// How long an idempotency key answers with its first request id, from that event's
// enqueued_ms.
constexpr UnixMillis idempotency_window_ms = 24 * 60 * 60 * 1000;

void merge_into(std::unordered_map<std::string, int64_t>& into, std::unordered_map<std::string, int64_t>& from) {
    for (auto& [function, change] : from) into[function] += change;
    from.clear();
}

int64_t value_in(const std::unordered_map<std::string, int64_t>& counts, const std::string& function) {
    auto found = counts.find(function);
    return found == counts.end() ? 0 : found->second;
}

}  // namespace

void QueueCounts::load(std::unordered_map<std::string, int64_t> counts) {
    committed_ = std::move(counts);
    transaction_.clear();
    operation_.clear();
}

int64_t QueueCounts::waiting(const std::string& function) const {
    return value_in(committed_, function) + value_in(transaction_, function) + value_in(operation_, function);
}

void QueueCounts::add(const std::string& function, int64_t change) { operation_[function] += change; }

void QueueCounts::keep_operation() { merge_into(transaction_, operation_); }

void QueueCounts::undo_operation() { operation_.clear(); }

void QueueCounts::keep_transaction() {
    keep_operation();
    merge_into(committed_, transaction_);
    std::erase_if(committed_, [](const auto& entry) { return entry.second <= 0; });
}

void QueueCounts::undo_transaction() {
    operation_.clear();
    transaction_.clear();
}

EventTables::EventTables(SqliteConnection& db) : db_(db) {}

void EventTables::begin() {
    db_.query("BEGIN IMMEDIATE").run();
    reload_counts_if_changed();
}

void EventTables::commit() {
    db_.query("COMMIT").run();
    counts_.keep_transaction();
}

void EventTables::rollback() {
    counts_.undo_transaction();
    if (db_.in_transaction()) db_.query("ROLLBACK").run();
}

void EventTables::begin_operation() { db_.query("SAVEPOINT operation").run(); }

void EventTables::end_operation() {
    db_.query("RELEASE SAVEPOINT operation").run();
    counts_.keep_operation();
}

void EventTables::undo_operation() {
    counts_.undo_operation();
    db_.query("ROLLBACK TO SAVEPOINT operation").run();
    db_.query("RELEASE SAVEPOINT operation").run();
}

bool EventTables::fails_batch(const std::exception& error) const {
    const auto* sqlite_error = dynamic_cast<const SqliteError*>(&error);
    return sqlite_error && sqlite_error->storage_failure();
}

void EventTables::reload_counts_if_changed() {
    // data_version changes when another connection commits, never for this one's commits:
    // the counts in memory are right until another node writes to the same file.
    int64_t version = 0;
    {
        auto query = db_.query("PRAGMA data_version");
        if (query.next()) version = query.integer(0);
    }
    if (data_version_ == version) return;
    std::unordered_map<std::string, int64_t> counts;
    auto query = db_.query("SELECT function_name, COUNT(*) FROM events GROUP BY function_name");
    while (query.next()) counts[query.text(0)] = query.integer(1);
    counts_.load(std::move(counts));
    data_version_ = version;
}

std::optional<std::string> EventTables::live_key(const NewEvent& event) {
    if (!event.idempotency_key) return std::nullopt;
    auto query = db_.query(
        "SELECT request_id, used_ms FROM idempotency_keys WHERE function_name = ? AND idempotency_key = ?");
    query.bind(event.function, *event.idempotency_key);
    if (!query.next() || event.enqueued_ms - query.integer(1) >= idempotency_window_ms) return std::nullopt;
    return query.text(0);
}

void EventTables::insert(const NewEvent& event) {
    db_.query(
           "INSERT INTO events (request_id, function_name, function_version, trigger_kind, payload, "
           "idempotency_key, enqueued_ms, not_before_ms, " + principal_columns +
           ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
        .bind(event.request_id, event.function, event.version, to_string(event.trigger), Blob{event.payload},
              event.idempotency_key, event.enqueued_ms, event.not_before_ms, event.principal.key_id,
              event.principal.role, event.principal.user_sub, event.principal.schedule)
        .run();
    counts_.add(event.function, 1);
}

EnqueueResult EventTables::enqueue(const NewEvent& event, std::optional<uint64_t> max_queued) {
    EnqueueResult result;
    if (auto first = live_key(event)) {
        result.outcome = EnqueueOutcome::duplicate;
        result.request_id = std::move(*first);
        return result;
    }
    result.request_id = event.request_id;
    if (max_queued && static_cast<uint64_t>(std::max<int64_t>(0, counts_.waiting(event.function))) >= *max_queued) {
        result.outcome = EnqueueOutcome::full;
        return result;
    }
    insert(event);
    if (event.idempotency_key) {
        // An expired key is taken over by this event.
        db_.query(
               "INSERT INTO idempotency_keys (function_name, idempotency_key, request_id, used_ms) "
               "VALUES (?, ?, ?, ?) ON CONFLICT (function_name, idempotency_key) "
               "DO UPDATE SET request_id = excluded.request_id, used_ms = excluded.used_ms")
            .bind(event.function, *event.idempotency_key, event.request_id, event.enqueued_ms)
            .run();
    }
    result.outcome = EnqueueOutcome::queued;
    return result;
}

std::vector<QueuedEvent> EventTables::claim(std::string_view function, std::string_view owner, UnixMillis now,
                                            UnixMillis lease_until, size_t limit) {
    std::vector<QueuedEvent> claimed;
    if (limit == 0) return claimed;
    {
        auto query = db_.query("SELECT " + event_columns +
                               " FROM events WHERE function_name = ? AND not_before_ms <= ? AND lease_until_ms <= ?"
                               " ORDER BY id LIMIT ?");
        query.bind(function, now, now, static_cast<int64_t>(std::min<size_t>(limit, INT64_MAX)));
        while (query.next()) claimed.push_back(queued_event(query));
    }
    for (QueuedEvent& event : claimed) {
        db_.query("UPDATE events SET runs = runs + 1, lease_owner = ?, lease_until_ms = ? WHERE id = ?")
            .bind(owner, lease_until, event.id)
            .run();
        ++event.runs;
    }
    return claimed;
}

void EventTables::settle(int64_t event_id, const Settlement& settlement) {
    bool existed = false;
    auto remove = [&] {
        auto query = db_.query("DELETE FROM events WHERE id = ? RETURNING function_name");
        query.bind(event_id);
        while (query.next()) {
            counts_.add(query.text(0), -1);
            existed = true;
        }
    };
    switch (settlement.kind) {
        case SettlementKind::done:
            remove();
            break;
        case SettlementKind::retry: {
            auto query = db_.query(
                "UPDATE events SET failures = failures + 1, not_before_ms = ?, last_error_type = ?, "
                "last_error_message = ?, lease_owner = NULL, lease_until_ms = 0 WHERE id = ?");
            query.bind(settlement.not_before_ms, settlement.error_type, settlement.error_message, event_id).run();
            existed = query.changes() > 0;
            break;
        }
        case SettlementKind::requeue: {
            auto query =
                db_.query("UPDATE events SET not_before_ms = ?, lease_owner = NULL, lease_until_ms = 0 WHERE id = ?");
            query.bind(settlement.not_before_ms, event_id).run();
            existed = query.changes() > 0;
            break;
        }
        case SettlementKind::dead_letter:
            db_.query(
                   "INSERT INTO dead_letters (request_id, function_name, function_version, trigger_kind, payload, "
                   "idempotency_key, enqueued_ms, runs, failure_condition, error_type, error_message, failed_ms, " +
                   principal_columns +
                   ") SELECT request_id, function_name, function_version, trigger_kind, payload, idempotency_key, "
                   "enqueued_ms, runs, ?, ?, ?, ?, " + principal_columns + " FROM events WHERE id = ?")
                .bind(to_string(settlement.condition), settlement.error_type, settlement.error_message,
                      settlement.now_ms, event_id)
                .run();
            remove();
            break;
    }
    // A destination's record of a run that was settled already (by another node, after the
    // lease expired) or whose function is gone would be a second one, or an orphan.
    if (existed && settlement.then_enqueue) insert(*settlement.then_enqueue);
}

void EventTables::release_leases(std::string_view owner) {
    db_.query("UPDATE events SET lease_owner = NULL, lease_until_ms = 0 WHERE lease_owner = ?").bind(owner).run();
}

void EventTables::expire_idempotency_keys(UnixMillis before) {
    db_.query("DELETE FROM idempotency_keys WHERE used_ms < ?").bind(before).run();
}

uint64_t EventTables::redrive(std::string_view function, const std::vector<int64_t>& ids, UnixMillis now) {
    // Back in the queue as a new arrival (a new id, its age from now) with its request id,
    // and its runs kept so that attempt numbers stay unique.
    const std::string move =
        "INSERT INTO events (request_id, function_name, function_version, trigger_kind, payload, idempotency_key, "
        "enqueued_ms, not_before_ms, runs, failures, " + principal_columns +
        ") SELECT request_id, function_name, function_version, trigger_kind, payload, idempotency_key, ?, 0, runs, 0, " +
        principal_columns + " FROM dead_letters WHERE function_name = ?";
    uint64_t moved = 0;
    if (ids.empty()) {
        auto query = db_.query(move + " ORDER BY id");
        query.bind(now, function).run();
        moved = static_cast<uint64_t>(query.changes());
        db_.query("DELETE FROM dead_letters WHERE function_name = ?").bind(function).run();
    } else {
        std::vector<int64_t> ordered = ids;
        std::sort(ordered.begin(), ordered.end());
        ordered.erase(std::unique(ordered.begin(), ordered.end()), ordered.end());
        for (int64_t id : ordered) {
            auto query = db_.query(move + " AND id = ?");
            query.bind(now, function, id).run();
            if (query.changes() == 0) continue;
            ++moved;
            db_.query("DELETE FROM dead_letters WHERE id = ?").bind(id).run();
        }
    }
    counts_.add(std::string(function), static_cast<int64_t>(moved));
    return moved;
}

uint64_t EventTables::purge_dead_letters(std::string_view function) {
    auto query = db_.query("DELETE FROM dead_letters WHERE function_name = ?");
    query.bind(function).run();
    return static_cast<uint64_t>(query.changes());
}

uint64_t EventTables::remove_function(std::string_view function) {
    uint64_t dropped = 0;
    {
        auto query = db_.query("DELETE FROM events WHERE function_name = ?");
        query.bind(function).run();
        dropped = static_cast<uint64_t>(query.changes());
    }
    const std::string name(function);
    counts_.add(name, -counts_.waiting(name));
    for (const char* table : {"dead_letters", "idempotency_keys", "schedules"}) {
        db_.query(std::string("DELETE FROM ") + table + " WHERE function_name = ?").bind(function).run();
    }
    return dropped;
}

}  // namespace sofaas
