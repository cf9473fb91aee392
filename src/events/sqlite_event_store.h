// The event store in one SQLite file, for a single daemon (or several on one machine): the
// file is created 0600, kept in WAL mode with synchronous=FULL (a commit is fsync'd before
// any completion runs), and its schema is migrated when it opens. Its writes are group-committed
// (group_commit_store.h); reads use a connection of their own beside the writer's.
#pragma once

#include <filesystem>
#include <memory>

#include "events/event_store.h"

namespace sofaas {

// Throws EventStoreError, naming the file and why, when it cannot be opened, created or
// migrated (not a database, a schema newer than this build's, no permission).
std::unique_ptr<EventStore> open_sqlite_event_store(const std::filesystem::path& file);

}  // namespace sofaas
