// The SQLite event store's writes, in SQL, on the writer's connection; an operation is a
// savepoint.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "events/event_store.h"
#include "events/event_writes.h"
#include "events/sqlite_connection.h"

namespace sofaas {

// Events waiting per function, kept in memory so that enqueue() checks max_queued without
// a COUNT(*): loaded at open, and again whenever another connection (another node on the
// same file) has committed. Changes count once their operation and its commit hold.
class QueueCounts {
public:
    void load(std::unordered_map<std::string, int64_t> counts);
    int64_t waiting(const std::string& function) const;
    void add(const std::string& function, int64_t change);

    void keep_operation();
    void undo_operation();
    void keep_transaction();
    void undo_transaction();

private:
    std::unordered_map<std::string, int64_t> committed_;
    std::unordered_map<std::string, int64_t> transaction_;  // operations kept since begin
    std::unordered_map<std::string, int64_t> operation_;    // the operation under way
};

class EventTables final : public EventWrites {
public:
    explicit EventTables(SqliteConnection& db);

    // BEGIN IMMEDIATE: the file's write lock, waited for up to the busy timeout.
    void begin() override;
    void commit() override;
    void rollback() override;
    void begin_operation() override;
    void end_operation() override;
    void undo_operation() override;
    bool fails_batch(const std::exception& error) const override;

    EnqueueResult enqueue(const NewEvent& event, std::optional<uint64_t> max_queued) override;
    std::vector<QueuedEvent> claim(std::string_view function, std::string_view owner, UnixMillis now,
                                   UnixMillis lease_until, size_t limit) override;
    void settle(int64_t event_id, const Settlement& settlement) override;
    void release_leases(std::string_view owner) override;
    void expire_idempotency_keys(UnixMillis before) override;

    uint64_t redrive(std::string_view function, const std::vector<int64_t>& ids, UnixMillis now) override;
    uint64_t purge_dead_letters(std::string_view function) override;

    bool add_schedule(const Schedule& schedule) override;
    bool set_paused(std::string_view function, std::string_view id, bool paused) override;
    bool delete_schedule(std::string_view function, std::string_view id) override;
    bool fire(std::string_view function, std::string_view id, UnixMillis due, uint64_t skipped,
              const NewEvent& event) override;

    uint64_t remove_function(std::string_view function) override;

private:
    // The request id that first used the event's idempotency key, if that was within 24 h
    // of the event's enqueued_ms.
    std::optional<std::string> live_key(const NewEvent& event);
    void insert(const NewEvent& event);
    void reload_counts_if_changed();

    SqliteConnection& db_;
    QueueCounts counts_;
    std::optional<int64_t> data_version_;  // PRAGMA data_version when counts were loaded
};

}  // namespace sofaas
