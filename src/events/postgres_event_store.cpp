#include "events/postgres_event_store.h"

#include <algorithm>
#include <climits>
#include <mutex>

#include "events/group_commit_store.h"
#include "events/postgres_event_tables.h"
#include "store/postgres_schema.h"

namespace sofaas {

namespace {

// Writes committed together at most: bounds how long the first of a flood waits for its
// completion.
constexpr size_t max_batch = 10'000;

const std::string schedule_columns =
    "function_name, schedule_id, expression, timezone, payload, paused, created_ms, last_due_ms, fired, missed";

Schedule schedule_row(const PostgresRows& rows, size_t row) {
    Schedule schedule;
    schedule.function = rows.text(row, 0);
    schedule.id = rows.text(row, 1);
    schedule.expression = rows.text(row, 2);
    schedule.timezone = rows.text(row, 3);
    schedule.payload = rows.optional_bytes(row, 4);
    schedule.paused = rows.text(row, 5) == "t";
    schedule.created_ms = rows.integer(row, 6);
    schedule.last_due_ms = rows.integer(row, 7);
    schedule.fired = static_cast<uint64_t>(rows.integer(row, 8));
    schedule.missed = static_cast<uint64_t>(rows.integer(row, 9));
    return schedule;
}

class PostgresEventStore final : public GroupCommitEventStore {
public:
    explicit PostgresEventStore(const std::string& url)
        : GroupCommitEventStore("event store", max_batch), write_db_(url), tables_(write_db_), read_db_(url) {
        migrate_postgres_schema(write_db_, postgres_event_component, postgres_event_migrations());
        start_writer(tables_);
    }

    ~PostgresEventStore() override { stop_writer(); }

    std::vector<std::pair<std::string, QueueDepth>> depths() override {
        return read([&] {
            std::vector<std::pair<std::string, QueueDepth>> depths;
            PostgresRows rows = read_db_.run(
                "SELECT function_name, COUNT(*), MIN(enqueued_ms) FROM events GROUP BY function_name "
                "ORDER BY function_name");
            for (size_t row = 0; row < rows.size(); ++row) {
                depths.emplace_back(rows.text(row, 0),
                                    QueueDepth{static_cast<uint64_t>(rows.integer(row, 1)), rows.integer(row, 2)});
            }
            return depths;
        });
    }

    std::optional<UnixMillis> next_due(std::string_view function) override {
        return read([&]() -> std::optional<UnixMillis> {
            // A leased event is due again when its lease ends: a run whose settle() failed,
            // or whose node died, is claimed then.
            PostgresRows rows = read_db_.run(
                "SELECT MIN(GREATEST(lease_until_ms, not_before_ms)) FROM events WHERE function_name = $1",
                {function});
            if (rows.is_null(0, 0)) return std::nullopt;
            return rows.integer(0, 0);
        });
    }

    std::vector<DeadLetter> dead_letters(std::string_view function, int64_t after_id, size_t limit) override {
        return read([&] {
            std::vector<DeadLetter> letters;
            PostgresRows rows = read_db_.run("SELECT " + postgres_dead_letter_columns +
                                                 " FROM dead_letters WHERE function_name = $1 AND id > $2 "
                                                 "ORDER BY id LIMIT $3",
                                             {function, after_id, static_cast<int64_t>(std::min<size_t>(limit, INT64_MAX))});
            for (size_t row = 0; row < rows.size(); ++row) letters.push_back(postgres_dead_letter(rows, row));
            return letters;
        });
    }

    std::optional<DeadLetter> dead_letter(std::string_view function, int64_t id) override {
        return read([&]() -> std::optional<DeadLetter> {
            PostgresRows rows = read_db_.run(
                "SELECT " + postgres_dead_letter_columns + " FROM dead_letters WHERE function_name = $1 AND id = $2",
                {function, id});
            if (rows.empty()) return std::nullopt;
            return postgres_dead_letter(rows, 0);
        });
    }

    std::vector<Schedule> schedules(std::optional<std::string_view> function) override {
        return read([&] {
            std::vector<Schedule> schedules;
            PostgresRows rows = read_db_.run("SELECT " + schedule_columns +
                                                 " FROM schedules WHERE $1::TEXT IS NULL OR function_name = $1 "
                                                 "ORDER BY function_name, schedule_id",
                                             {function});
            for (size_t row = 0; row < rows.size(); ++row) schedules.push_back(schedule_row(rows, row));
            return schedules;
        });
    }

private:
    template <typename Read>
    auto read(Read read) -> decltype(read()) {
        std::lock_guard lock(read_mutex_);
        try {
            return read();
        } catch (const PostgresError& error) {
            throw EventStoreError(std::string("the event store could not read: ") + error.what());
        }
    }

    PostgresConnection write_db_;  // the writer thread's, but while opening
    PostgresEventTables tables_;

    std::mutex read_mutex_;
    PostgresConnection read_db_;
};

}  // namespace

std::unique_ptr<EventStore> open_postgres_event_store(const std::string& url) {
    try {
        return std::make_unique<PostgresEventStore>(url);
    } catch (const std::exception& error) {
        throw EventStoreError(std::string("event store: ") + error.what());
    }
}

}  // namespace sofaas
