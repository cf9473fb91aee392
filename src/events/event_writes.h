// What an event store's writer does to its database, whichever the database: each write
// runs inside the transaction of a batch (begin ... commit), within an operation of its
// own that can be undone alone, so that one write's fault does not fail its neighbours.
#pragma once

#include <cstdint>
#include <exception>
#include <optional>
#include <string_view>
#include <vector>

#include "events/event_store.h"

namespace sofaas {

class EventWrites {
public:
    virtual ~EventWrites() = default;

    virtual void begin() = 0;
    virtual void commit() = 0;
    virtual void rollback() = 0;  // also after a failed commit, or the database's own rollback
    virtual void begin_operation() = 0;
    virtual void end_operation() = 0;
    virtual void undo_operation() = 0;
    // The failure takes the whole batch with it (the disk, the file or the connection
    // failed), rather than only the write that met it.
    virtual bool fails_batch(const std::exception& error) const = 0;

    // max_queued: none for events stored past the limit (a destination's, a schedule's).
    virtual EnqueueResult enqueue(const NewEvent& event, std::optional<uint64_t> max_queued) = 0;
    virtual std::vector<QueuedEvent> claim(std::string_view function, std::string_view owner, UnixMillis now,
                                           UnixMillis lease_until, size_t limit) = 0;
    virtual void settle(int64_t event_id, const Settlement& settlement) = 0;
    virtual void release_leases(std::string_view owner) = 0;
    virtual void expire_idempotency_keys(UnixMillis before) = 0;

    virtual uint64_t redrive(std::string_view function, const std::vector<int64_t>& ids, UnixMillis now) = 0;
    virtual uint64_t purge_dead_letters(std::string_view function) = 0;

    virtual bool add_schedule(const Schedule& schedule) = 0;
    virtual bool set_paused(std::string_view function, std::string_view id, bool paused) = 0;
    virtual bool delete_schedule(std::string_view function, std::string_view id) = 0;
    virtual bool fire(std::string_view function, std::string_view id, UnixMillis due, uint64_t skipped,
                      const NewEvent& event) = 0;

    virtual uint64_t remove_function(std::string_view function) = 0;
};

}  // namespace sofaas
