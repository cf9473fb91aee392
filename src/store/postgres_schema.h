// Versioned schema migrations in a shared PostgreSQL database. Each part of sofaas that
// keeps tables there (the event store, ...) names its own list of migrations; the version
// each part is at lives in the table sofaas_schema. Several nodes may start at once: the
// migration runs in one transaction under an advisory lock, so one node migrates and the
// others find the work done.
#pragma once

#include <span>
#include <string_view>

#include "store/postgres_connection.h"

namespace sofaas {

// Migration n (1-based) takes `component`'s schema from version n - 1 to n: append, never
// edit. Brings the database to migrations.size(), or throws PostgresError: the database
// is at a version newer than this build knows (kind statement, naming both versions), or
// a step failed (nothing of the migration stays).
void migrate_postgres_schema(PostgresConnection& connection, std::string_view component,
                             std::span<const std::string_view> migrations);

// 0 when the component has no tables yet.
int postgres_schema_version(PostgresConnection& connection, std::string_view component);

}  // namespace sofaas
