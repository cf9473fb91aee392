// The PostgreSQL event store's tables: their schema, as versioned migrations, and the
// writes on the writer's connection (an operation is a savepoint). Several nodes write
// the same tables at once, so what SQLite's single writer may keep in memory lives in rows
// here: the count of each function's waiting events (checked and raised in one statement),
// the idempotency keys (taken with a conditional upsert), a schedule's last firing (a
// compare-and-set). Claims skip the rows another node's claim holds locked.
#pragma once

#include <span>
#include <string_view>

#include "events/event_writes.h"
#include "store/postgres_connection.h"

namespace sofaas {

// The event store's component name in sofaas_schema, and its migrations.
inline constexpr std::string_view postgres_event_component = "events";
std::span<const std::string_view> postgres_event_migrations();

// The columns postgres_queued_event() reads, in its order, from events; and
// postgres_dead_letter()'s from dead_letters.
extern const std::string postgres_event_columns;
QueuedEvent postgres_queued_event(const PostgresRows& rows, size_t row);
extern const std::string postgres_dead_letter_columns;
DeadLetter postgres_dead_letter(const PostgresRows& rows, size_t row);

class PostgresEventTables final : public EventWrites {
public:
    explicit PostgresEventTables(PostgresConnection& connection);

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
    void insert(const NewEvent& event);
    void count(std::string_view function, int64_t change);

    PostgresConnection& db_;
};

}  // namespace sofaas
