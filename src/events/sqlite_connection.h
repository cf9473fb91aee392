// One SQLite connection with its prepared statements kept, for the event store's own use:
// errors become SqliteError (an EventStoreError), values are bound and read as the store
// keeps them (64-bit integers, text, blobs, NULL).
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_map>

#include "events/event_store.h"

struct sqlite3;
struct sqlite3_stmt;

namespace sofaas {

class SqliteError : public EventStoreError {
public:
    SqliteError(int code, const std::string& message) : EventStoreError(message), code_(code) {}
    int code() const { return code_; }
    // The disk, the file or the lock failed (full, I/O error, corrupt, busy): every write of
    // the transaction fails with it. Otherwise the statement itself was at fault.
    bool storage_failure() const;

private:
    int code_;
};

// Bound as a BLOB rather than TEXT: bytes that need not be UTF-8.
struct Blob {
    std::string_view bytes;
};

// A prepared statement in use: bind, step, read; reset for its next use when it goes out
// of scope.
class SqliteQuery {
public:
    SqliteQuery(sqlite3* db, sqlite3_stmt* statement) : db_(db), statement_(statement) {}
    ~SqliteQuery();
    SqliteQuery(const SqliteQuery&) = delete;
    SqliteQuery& operator=(const SqliteQuery&) = delete;

    template <typename... Values>
    SqliteQuery& bind(const Values&... values) {
        int index = 0;
        (bind_one(++index, values), ...);
        return *this;
    }

    bool next();  // steps: true while there is a row to read
    void run();   // steps through to the end
    int64_t changes() const;  // rows the last run changed

    bool is_null(int column) const;
    int64_t integer(int column) const;
    std::string text(int column) const;  // TEXT or BLOB as bytes
    std::optional<std::string> optional_text(int column) const;

private:
    void bind_one(int index, int64_t value);
    void bind_one(int index, std::string_view value);
    void bind_one(int index, Blob value);
    void bind_one(int index, std::nullopt_t);
    void bind_one(int index, const std::string& value) { bind_one(index, std::string_view(value)); }
    void bind_one(int index, const char* value) { bind_one(index, std::string_view(value)); }
    template <typename Integer, typename = std::enable_if_t<std::is_integral_v<Integer>>>
    void bind_one(int index, Integer value) {
        bind_one(index, static_cast<int64_t>(value));
    }
    template <typename Value>
    void bind_one(int index, const std::optional<Value>& value) {
        if (value) bind_one(index, *value);
        else bind_one(index, std::nullopt);
    }
    void check(int code) const;

    sqlite3* db_;
    sqlite3_stmt* statement_;
};

class SqliteConnection {
public:
    // Opens (creating it if missing) the database file, waiting up to `busy_timeout_ms` for
    // another connection's lock.
    SqliteConnection(const std::filesystem::path& file, int busy_timeout_ms);
    ~SqliteConnection();
    SqliteConnection(const SqliteConnection&) = delete;
    SqliteConnection& operator=(const SqliteConnection&) = delete;

    // A statement prepared once per connection and kept: `sql` is one statement.
    SqliteQuery query(const std::string& sql);
    // Statements without parameters or results (schema, pragmas), not kept.
    void execute(const std::string& sql);
    // Inside a transaction (BEGIN until COMMIT or ROLLBACK, or its automatic rollback).
    bool in_transaction() const;

private:
    [[noreturn]] void fail(int code, std::string_view what) const;

    struct StatementDeleter {
        void operator()(sqlite3_stmt* statement) const;
    };
    sqlite3* db_ = nullptr;
    std::unordered_map<std::string, std::unique_ptr<sqlite3_stmt, StatementDeleter>> statements_;
};

}  // namespace sofaas
