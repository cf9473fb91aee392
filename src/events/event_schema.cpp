#include "events/event_schema.h"

#include <array>
#include <string>

namespace sofaas {

namespace {

// Written for SQLite and PostgreSQL alike, but for three spellings a PostgreSQL schema
// makes its own: BLOB is BYTEA there, and INTEGER PRIMARY KEY AUTOINCREMENT is BIGINT
// GENERATED ALWAYS AS IDENTITY. AUTOINCREMENT, not a plain rowid, so that an id is never
// used twice: a settle() that arrives late for a deleted event must not hit a newer one.
// Times are Unix milliseconds; flags are 0 or 1.
constexpr const char* version_1 = R"sql(
CREATE TABLE events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    request_id TEXT NOT NULL,
    function_name TEXT NOT NULL,
    function_version BIGINT NOT NULL,
    trigger_kind TEXT NOT NULL,
    payload BLOB NOT NULL,
    idempotency_key TEXT,
    enqueued_ms BIGINT NOT NULL,
    not_before_ms BIGINT NOT NULL,
    runs BIGINT NOT NULL DEFAULT 0,
    failures BIGINT NOT NULL DEFAULT 0,
    last_error_type TEXT NOT NULL DEFAULT '',
    last_error_message TEXT NOT NULL DEFAULT '',
    lease_owner TEXT,
    lease_until_ms BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX events_by_function ON events (function_name, id);
CREATE INDEX events_by_lease_owner ON events (lease_owner);

CREATE TABLE dead_letters (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    request_id TEXT NOT NULL,
    function_name TEXT NOT NULL,
    function_version BIGINT NOT NULL,
    trigger_kind TEXT NOT NULL,
    payload BLOB NOT NULL,
    idempotency_key TEXT,
    enqueued_ms BIGINT NOT NULL,
    runs BIGINT NOT NULL,
    failure_condition TEXT NOT NULL,
    error_type TEXT NOT NULL,
    error_message TEXT NOT NULL,
    failed_ms BIGINT NOT NULL
);
CREATE INDEX dead_letters_by_function ON dead_letters (function_name, id);

CREATE TABLE idempotency_keys (
    function_name TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,
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
    payload BLOB,
    paused INTEGER NOT NULL DEFAULT 0,
    created_ms BIGINT NOT NULL,
    last_due_ms BIGINT NOT NULL DEFAULT 0,
    fired BIGINT NOT NULL DEFAULT 0,
    missed BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (function_name, schedule_id)
);
)sql";

// Who queued an event, or the schedule that fired it (Principal): an event stored before
// has none, as the empty defaults say.
constexpr const char* version_2 = R"sql(
ALTER TABLE events ADD COLUMN principal_key_id TEXT NOT NULL DEFAULT '';
ALTER TABLE events ADD COLUMN principal_role TEXT NOT NULL DEFAULT '';
ALTER TABLE events ADD COLUMN principal_user_sub TEXT NOT NULL DEFAULT '';
ALTER TABLE events ADD COLUMN principal_schedule TEXT NOT NULL DEFAULT '';
ALTER TABLE dead_letters ADD COLUMN principal_key_id TEXT NOT NULL DEFAULT '';
ALTER TABLE dead_letters ADD COLUMN principal_role TEXT NOT NULL DEFAULT '';
ALTER TABLE dead_letters ADD COLUMN principal_user_sub TEXT NOT NULL DEFAULT '';
ALTER TABLE dead_letters ADD COLUMN principal_schedule TEXT NOT NULL DEFAULT '';
)sql";

// Migration n takes the schema from version n - 1 to n; append, never edit.
constexpr std::array migrations{version_1, version_2};

}  // namespace

int event_schema_version() { return static_cast<int>(migrations.size()); }

void migrate_event_schema(SqliteConnection& db) {
    db.execute("BEGIN IMMEDIATE");
    try {
        db.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)");
        int current = 0;
        {
            auto query = db.query("SELECT MAX(version) FROM schema_version");
            if (query.next() && !query.is_null(0)) current = static_cast<int>(query.integer(0));
        }
        if (current > event_schema_version()) {
            throw EventStoreError("its schema is version " + std::to_string(current) + ", newer than this sofaasd's " +
                                  std::to_string(event_schema_version()));
        }
        for (int version = current + 1; version <= event_schema_version(); ++version) {
            db.execute(migrations[static_cast<size_t>(version - 1)]);
            db.query("INSERT INTO schema_version (version) VALUES (?)").bind(version).run();
        }
        db.execute("COMMIT");
    } catch (...) {
        if (db.in_transaction()) db.execute("ROLLBACK");
        throw;
    }
}

}  // namespace sofaas
