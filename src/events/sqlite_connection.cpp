#include "events/sqlite_connection.h"

#include <sqlite3.h>

namespace sofaas {

namespace {

std::string describe(sqlite3* db, int code) {
    // The connection's own message says more ("UNIQUE constraint failed: ...") when it is
    // about this error; the code's generic text otherwise.
    std::string text = db != nullptr && sqlite3_extended_errcode(db) == code ? sqlite3_errmsg(db)
                                                                             : sqlite3_errstr(code);
    return text;
}

}  // namespace

bool SqliteError::storage_failure() const {
    switch (code_ & 0xff) {
        case SQLITE_FULL:
        case SQLITE_IOERR:
        case SQLITE_CORRUPT:
        case SQLITE_NOTADB:
        case SQLITE_CANTOPEN:
        case SQLITE_BUSY:
        case SQLITE_LOCKED:
        case SQLITE_READONLY:
        case SQLITE_NOMEM:
        case SQLITE_PROTOCOL:
        case SQLITE_PERM:
            return true;
        default:
            return false;
    }
}

SqliteQuery::~SqliteQuery() {
    sqlite3_reset(statement_);
    sqlite3_clear_bindings(statement_);
}

bool SqliteQuery::next() {
    int code = sqlite3_step(statement_);
    if (code == SQLITE_ROW) return true;
    if (code == SQLITE_DONE) return false;
    // sqlite3_step's own code is the generic one; reset gives the extended code.
    code = sqlite3_reset(statement_);
    throw SqliteError(code, describe(db_, code));
}

void SqliteQuery::run() {
    while (next()) {
    }
}

int64_t SqliteQuery::changes() const { return sqlite3_changes64(db_); }

bool SqliteQuery::is_null(int column) const { return sqlite3_column_type(statement_, column) == SQLITE_NULL; }

int64_t SqliteQuery::integer(int column) const { return sqlite3_column_int64(statement_, column); }

std::string SqliteQuery::text(int column) const {
    // Blob first, then bytes: the order SQLite asks for, so the length is the blob's.
    const void* bytes = sqlite3_column_blob(statement_, column);
    int size = sqlite3_column_bytes(statement_, column);
    if (bytes == nullptr) return {};
    return std::string(static_cast<const char*>(bytes), static_cast<size_t>(size));
}

std::optional<std::string> SqliteQuery::optional_text(int column) const {
    if (is_null(column)) return std::nullopt;
    return text(column);
}

void SqliteQuery::bind_one(int index, int64_t value) { check(sqlite3_bind_int64(statement_, index, value)); }

void SqliteQuery::bind_one(int index, std::string_view value) {
    check(sqlite3_bind_text64(statement_, index, value.data(), value.size(), SQLITE_TRANSIENT, SQLITE_UTF8));
}

void SqliteQuery::bind_one(int index, Blob value) {
    // An empty blob is still a blob, not NULL: zeroblob(0) when there is no pointer.
    if (value.bytes.empty()) check(sqlite3_bind_zeroblob(statement_, index, 0));
    else check(sqlite3_bind_blob64(statement_, index, value.bytes.data(), value.bytes.size(), SQLITE_TRANSIENT));
}

void SqliteQuery::bind_one(int index, std::nullopt_t) { check(sqlite3_bind_null(statement_, index)); }

void SqliteQuery::check(int code) const {
    if (code != SQLITE_OK) throw SqliteError(code, describe(db_, code));
}

void SqliteConnection::StatementDeleter::operator()(sqlite3_stmt* statement) const { sqlite3_finalize(statement); }

SqliteConnection::SqliteConnection(const std::filesystem::path& file, int busy_timeout_ms) {
    const int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
    int code = sqlite3_open_v2(file.c_str(), &db_, flags, nullptr);
    if (code != SQLITE_OK) {
        std::string text = describe(db_, code);
        sqlite3_close(db_);
        throw SqliteError(code, text);
    }
    sqlite3_extended_result_codes(db_, 1);
    sqlite3_busy_timeout(db_, busy_timeout_ms);
}

SqliteConnection::~SqliteConnection() {
    statements_.clear();  // finalized before the connection closes
    sqlite3_close(db_);
}

SqliteQuery SqliteConnection::query(const std::string& sql) {
    auto found = statements_.find(sql);
    if (found == statements_.end()) {
        sqlite3_stmt* statement = nullptr;
        int code = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT,
                                      &statement, nullptr);
        if (code != SQLITE_OK) fail(code, sql);
        found = statements_.emplace(sql, statement).first;
    }
    return SqliteQuery(db_, found->second.get());
}

void SqliteConnection::execute(const std::string& sql) {
    int code = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, nullptr);
    if (code != SQLITE_OK) fail(code, sql.substr(0, sql.find_first_of("(\n")));
}

bool SqliteConnection::in_transaction() const { return sqlite3_get_autocommit(db_) == 0; }

void SqliteConnection::fail(int code, std::string_view what) const {
    throw SqliteError(code, describe(db_, code) + " (in " + std::string(what) + ")");
}

}  // namespace sofaas
