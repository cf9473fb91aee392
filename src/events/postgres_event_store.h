// The event store in a PostgreSQL database that several sofaasd nodes share: the same
// queue, leases, dead letters, idempotency keys and schedules as the SQLite store, each
// claim and each firing decided by the database, so that two nodes never run one claim
// and a due time fires once across them all. Writes are group-committed
// (group_commit_store.h) on one connection; reads use a second one. A connection the
// server dropped fails the writes or reads under way and is made again on the next.
#pragma once

#include <memory>
#include <string>

#include "events/event_store.h"

namespace sofaas {

// Connects to `url` (postgresql://...) and brings the schema up to date. Throws
// EventStoreError, naming the server (never the password) and why: the URL is malformed,
// the server cannot be reached or refuses, the schema is newer than this build's.
std::unique_ptr<EventStore> open_postgres_event_store(const std::string& url);

}  // namespace sofaas
