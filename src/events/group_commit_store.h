// The part of an event store every database shares: one writer thread commits every write
// queued meanwhile in one transaction (group commit), through the database's EventWrites;
// asynchronous writes complete on that thread, blocking ones wait for it. Reads are the
// concrete store's.
#pragma once

#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>

#include "events/event_store.h"
#include "events/event_writes.h"

namespace sofaas {

// One write waiting for the writer thread (group_commit_store.cpp).
class PendingWrite;

class GroupCommitEventStore : public EventStore {
public:
    void enqueue(NewEvent event, uint64_t max_queued, std::function<void(EnqueueResult)> done) override;
    std::vector<QueuedEvent> claim(std::string_view function, std::string_view owner, UnixMillis now,
                                   UnixMillis lease_until, size_t limit) override;
    void settle(int64_t event_id, Settlement settlement, std::function<void(std::string error)> done) override;
    void release_leases(std::string_view owner) override;
    void expire_idempotency_keys(UnixMillis before) override;
    uint64_t redrive(std::string_view function, const std::vector<int64_t>& ids, UnixMillis now) override;
    uint64_t purge_dead_letters(std::string_view function) override;
    bool add_schedule(const Schedule& schedule) override;
    bool set_paused(std::string_view function, std::string_view id, bool paused) override;
    bool delete_schedule(std::string_view function, std::string_view id) override;
    bool fire(std::string_view function, std::string_view id, UnixMillis due, uint64_t skipped,
              NewEvent event) override;
    uint64_t remove_function(std::string_view function) override;

protected:
    // `name` for log lines ("event store"); `max_batch` writes at most per commit.
    GroupCommitEventStore(std::string name, size_t max_batch);
    ~GroupCommitEventStore() override;

    // The writer thread starts once the concrete store has its `writes` ready, and must be
    // stopped (everything queued written first) before they go: the concrete store's
    // destructor calls stop_writer().
    void start_writer(EventWrites& writes);
    void stop_writer();

private:
    void submit(std::unique_ptr<PendingWrite> write);
    template <typename Result, typename Apply>
    Result write_and_wait(Apply apply);
    void write_loop();
    void commit(std::vector<std::unique_ptr<PendingWrite>>& batch);
    // false: a write failed, and nothing of the batch was written. Throws what fails the
    // whole batch (EventWrites::fails_batch).
    bool commit_at_once(std::vector<std::unique_ptr<PendingWrite>>& batch);
    // Each write in a savepoint of its own; `errors` receives the failed writes' reasons.
    // Throws what fails the whole batch.
    void commit_write_by_write(std::vector<std::unique_ptr<PendingWrite>>& batch, std::vector<std::string>& errors);
    void roll_back();

    const std::string name_;
    const size_t max_batch_;
    EventWrites* writes_ = nullptr;  // the writer thread's
    bool failing_ = false;           // the last batch failed

    std::mutex mutex_;
    std::condition_variable work_;
    std::deque<std::unique_ptr<PendingWrite>> pending_;
    bool stopping_ = false;
    std::thread writer_;
};

}  // namespace sofaas
