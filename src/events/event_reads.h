// Reading the event store's tables: the rows as the interface's structs, and the queries
// that change nothing (on the read connection, beside the writer).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "events/event_store.h"
#include "events/sqlite_connection.h"

namespace sofaas {

// The columns queued_event() reads, in its order, for "SELECT <these> FROM events".
// The columns of events and dead_letters that hold NewEvent::principal, in their order.
extern const std::string principal_columns;
extern const std::string event_columns;
QueuedEvent queued_event(const SqliteQuery& row);

std::vector<std::pair<std::string, QueueDepth>> read_depths(SqliteConnection& db);
std::optional<UnixMillis> read_next_due(SqliteConnection& db, std::string_view function);
std::vector<DeadLetter> read_dead_letters(SqliteConnection& db, std::string_view function, int64_t after_id,
                                          size_t limit);
std::optional<DeadLetter> read_dead_letter(SqliteConnection& db, std::string_view function, int64_t id);
std::vector<Schedule> read_schedules(SqliteConnection& db, std::optional<std::string_view> function);

}  // namespace sofaas
