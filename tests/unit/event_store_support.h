// What the event store's tests share: a store on fresh storage (a SQLite file, or a
// database of its own on the test process's PostgreSQL server), events, and waiting for
// the asynchronous calls.
#pragma once

#include <gtest/gtest.h>

#include <condition_variable>
#include <future>
#include <mutex>
#include <string>
#include <vector>

#include <sqlite3.h>

#include "events/event_store.h"
#include "events/postgres_event_store.h"
#include "events/sqlite_event_store.h"
#include "store/postgres_connection.h"
#include "support/postgres_server.h"
#include "support/temp_dir.h"

namespace sofaas::testing {

inline constexpr UnixMillis t0 = 1'790'000'000'000;  // 2026-09-21
inline constexpr UnixMillis day_ms = 24 * 60 * 60 * 1000;

inline NewEvent event(std::string function, std::string request_id, UnixMillis not_before = 0,
                      UnixMillis enqueued = t0) {
    NewEvent event;
    event.payload = "{\"n\":\"" + request_id + "\"}";
    event.request_id = std::move(request_id);
    event.function = std::move(function);
    event.enqueued_ms = enqueued;
    event.not_before_ms = not_before;
    return event;
}

inline EnqueueResult enqueue(EventStore& store, NewEvent event, uint64_t max_queued = 1000) {
    std::promise<EnqueueResult> result;
    store.enqueue(std::move(event), max_queued, [&](EnqueueResult r) { result.set_value(std::move(r)); });
    return result.get_future().get();
}

// Enqueues them all at once (so they share commits), and waits for every completion.
inline std::vector<EnqueueResult> enqueue_all(EventStore& store, std::vector<NewEvent> events,
                                              uint64_t max_queued = UINT64_MAX) {
    std::vector<EnqueueResult> results(events.size());
    std::mutex mutex;
    std::condition_variable all_done;
    size_t done = 0;
    for (size_t i = 0; i < events.size(); ++i) {
        store.enqueue(std::move(events[i]), max_queued, [&, i](EnqueueResult result) {
            std::lock_guard lock(mutex);
            results[i] = std::move(result);
            if (++done == results.size()) all_done.notify_one();
        });
    }
    std::unique_lock lock(mutex);
    all_done.wait(lock, [&] { return done == results.size(); });
    return results;
}

inline std::string settle(EventStore& store, int64_t id, Settlement settlement) {
    std::promise<std::string> error;
    store.settle(id, std::move(settlement), [&](std::string e) { error.set_value(std::move(e)); });
    return error.get_future().get();
}

inline Settlement done_settlement() { return Settlement{SettlementKind::done}; }

inline Settlement dead_letter_settlement(UnixMillis now) {
    Settlement settlement{SettlementKind::dead_letter};
    settlement.condition = FailureCondition::event_age_exceeded;
    settlement.error_type = "Function.Error";
    settlement.error_message = "too old";
    settlement.now_ms = now;
    return settlement;
}

// Three events of `function` run and failed for good: dead letters, in order.
inline void dead_letter_three(EventStore& store, const std::string& function) {
    for (const char* id : {"d1", "d2", "d3"}) enqueue(store, event(function, id));
    for (const auto& claimed : store.claim(function, "node-a", t0, t0 + 60'000, 10)) {
        settle(store, claimed.id, dead_letter_settlement(t0 + 1));
    }
}

inline Schedule schedule(std::string function, std::string id) {
    Schedule schedule;
    schedule.function = std::move(function);
    schedule.id = std::move(id);
    schedule.expression = "rate(5 minutes)";
    schedule.timezone = "UTC";
    schedule.created_ms = t0;
    return schedule;
}

// The event a schedule's runner stores for due time `due`.
inline NewEvent firing(const std::string& function, const std::string& schedule_id, UnixMillis due) {
    NewEvent fired = event(function, "fire-" + std::to_string(due));
    fired.trigger = Trigger::schedule;
    fired.idempotency_key = schedule_id + "@" + std::to_string(due);
    fired.enqueued_ms = due;
    return fired;
}

inline std::vector<std::string> request_ids(const std::vector<QueuedEvent>& events) {
    std::vector<std::string> ids;
    for (const auto& queued : events) ids.push_back(queued.event.request_id);
    return ids;
}

inline uint64_t depth_of(EventStore& store, const std::string& function) {
    for (const auto& [name, depth] : store.depths()) {
        if (name == function) return depth.events;
    }
    return 0;
}

// Runs `sql` on a connection of the test's own (as another process would): the first
// column of the first row, if any.
inline std::string sql_text(const std::filesystem::path& file, const std::string& sql) {
    sqlite3* db = nullptr;
    std::string value;
    if (sqlite3_open(file.c_str(), &db) == SQLITE_OK) {
        sqlite3_busy_timeout(db, 5000);
        sqlite3_stmt* statement = nullptr;
        if (sqlite3_prepare_v2(db, sql.c_str(), -1, &statement, nullptr) == SQLITE_OK) {
            int step = sqlite3_step(statement);
            if (step == SQLITE_ROW && sqlite3_column_text(statement, 0)) {
                value = reinterpret_cast<const char*>(sqlite3_column_text(statement, 0));
            } else if (step != SQLITE_ROW && step != SQLITE_DONE) {
                ADD_FAILURE() << sql << ": " << sqlite3_errmsg(db);
            }
        } else {
            ADD_FAILURE() << sql << ": " << sqlite3_errmsg(db);
        }
        sqlite3_finalize(statement);
    }
    sqlite3_close(db);
    return value;
}

inline int64_t sql_integer(const std::filesystem::path& file, const std::string& sql) {
    std::string value = sql_text(file, sql);
    return value.empty() ? 0 : std::stoll(value);
}

inline void sql_run(const std::filesystem::path& file, const std::string& sql) { sql_text(file, sql); }

enum class StoreKind { sqlite, postgres };

inline std::string store_kind_name(const ::testing::TestParamInfo<StoreKind>& info) {
    return info.param == StoreKind::sqlite ? "Sqlite" : "Postgres";
}

// The contract every store keeps: each test runs on both (INSTANTIATE_TEST_SUITE_P in
// event_store_test.cpp).
class EventStoreTest : public ::testing::TestWithParam<StoreKind> {
protected:
    // Another store on the same storage: another daemon on the file, another node on the
    // database.
    std::unique_ptr<EventStore> open_store() const {
        return GetParam() == StoreKind::sqlite ? open_sqlite_event_store(file) : open_postgres_event_store(database);
    }

    void reopen() {
        store.reset();
        store = open_store();
    }

    // Changes the store's tables behind its back, as another program would.
    void run_sql(const std::string& sqlite_sql, const std::string& postgres_sql) const {
        if (GetParam() == StoreKind::sqlite) {
            sql_run(file, sqlite_sql);
        } else {
            PostgresConnection(database).run_script(postgres_sql);
        }
    }

    TempDir temp{"sofaas-events"};
    std::filesystem::path file = temp / "events.db";
    std::string database = GetParam() == StoreKind::postgres ? PostgresServer::shared().create_database() : "";
    std::unique_ptr<EventStore> store = open_store();
};

// What only the SQLite file does (its mode, its journal, garbage in place of a database).
class SqliteEventStoreTest : public ::testing::Test {
protected:
    void reopen() {
        store.reset();
        store = open_sqlite_event_store(file);
    }

    TempDir temp{"sofaas-events"};
    std::filesystem::path file = temp / "events.db";
    std::unique_ptr<EventStore> store = open_sqlite_event_store(file);
};

}  // namespace sofaas::testing
