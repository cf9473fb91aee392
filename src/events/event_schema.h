// The event store's tables, as versioned migrations applied when a store opens.
#pragma once

#include "events/sqlite_connection.h"

namespace sofaas {

// The schema version this build writes.
int event_schema_version();

// Brings the file's schema up to event_schema_version(), in one transaction: a crash
// midway leaves the version it had. Throws EventStoreError when the file is of a newer
// version than this build knows, or is not a database.
void migrate_event_schema(SqliteConnection& db);

}  // namespace sofaas
