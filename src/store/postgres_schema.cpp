#include "store/postgres_schema.h"

#include <string>

namespace sofaas {

namespace {

// Every sofaasd takes this one advisory lock to migrate: a constant of sofaas's own, so
// that no other application's lock shares it by chance.
constexpr int64_t migration_lock = 0x736f6661617300;  // "sofaas\0"

constexpr std::string_view versions_table =
    "CREATE TABLE IF NOT EXISTS sofaas_schema (component TEXT PRIMARY KEY, version INTEGER NOT NULL)";

}  // namespace

int postgres_schema_version(PostgresConnection& connection, std::string_view component) {
    PostgresRows exists = connection.run("SELECT to_regclass('sofaas_schema') IS NOT NULL");
    if (exists.text(0, 0) != "t") return 0;
    PostgresRows rows = connection.run("SELECT version FROM sofaas_schema WHERE component = $1", {component});
    return rows.empty() ? 0 : static_cast<int>(rows.integer(0, 0));
}

void migrate_postgres_schema(PostgresConnection& connection, std::string_view component,
                             std::span<const std::string_view> migrations) {
    const int target = static_cast<int>(migrations.size());
    connection.transaction([&] {
        // Held until the commit: a node that waited here sees the tables another made.
        connection.run("SELECT pg_advisory_xact_lock($1)", {migration_lock});
        connection.run(versions_table);
        const int current = postgres_schema_version(connection, component);
        if (current > target) {
            throw PostgresError(PostgresError::Kind::statement, "",
                                std::string(component) + " schema is version " + std::to_string(current) +
                                    ", newer than this sofaasd's " + std::to_string(target));
        }
        for (int version = current + 1; version <= target; ++version) {
            connection.run_script(migrations[static_cast<size_t>(version - 1)]);
        }
        if (current < target) {
            connection.run(
                "INSERT INTO sofaas_schema (component, version) VALUES ($1, $2) "
                "ON CONFLICT (component) DO UPDATE SET version = excluded.version",
                {component, target});
        }
    });
}

}  // namespace sofaas
