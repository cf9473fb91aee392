#include "events/group_commit_store.h"

#include <future>
#include <stdexcept>

#include <spdlog/spdlog.h>

namespace sofaas {

class PendingWrite {
public:
    virtual ~PendingWrite() = default;
    // Inside the batch's transaction, as an operation of its own. Throwing fails this
    // write alone, unless EventWrites::fails_batch says the batch is lost.
    virtual void apply(EventWrites& writes) = 0;
    // After the commit (empty error) or the failure of this write or of its batch.
    virtual void complete(const std::string& error) = 0;
};

namespace {

class EnqueueWrite final : public PendingWrite {
public:
    EnqueueWrite(NewEvent event, uint64_t max_queued, std::function<void(EnqueueResult)> done)
        : event_(std::move(event)), max_queued_(max_queued), done_(std::move(done)) {}
    void apply(EventWrites& writes) override { result_ = writes.enqueue(event_, max_queued_); }
    void complete(const std::string& error) override {
        if (!error.empty()) result_ = EnqueueResult{EnqueueOutcome::failed, event_.request_id, error};
        done_(std::move(result_));
    }

private:
    NewEvent event_;
    uint64_t max_queued_;
    std::function<void(EnqueueResult)> done_;
    EnqueueResult result_;
};

class SettleWrite final : public PendingWrite {
public:
    SettleWrite(int64_t event_id, Settlement settlement, std::function<void(std::string)> done)
        : event_id_(event_id), settlement_(std::move(settlement)), done_(std::move(done)) {}
    void apply(EventWrites& writes) override { writes.settle(event_id_, settlement_); }
    void complete(const std::string& error) override { done_(error); }

private:
    int64_t event_id_;
    Settlement settlement_;
    std::function<void(std::string)> done_;
};

// A blocking call's write: its caller waits on the future.
template <typename Result, typename Apply>
class BlockingWrite final : public PendingWrite {
public:
    explicit BlockingWrite(Apply apply) : apply_(std::move(apply)) {}
    std::future<Result> future() { return promise_.get_future(); }
    void apply(EventWrites& writes) override { result_ = apply_(writes); }
    void complete(const std::string& error) override {
        if (error.empty()) promise_.set_value(std::move(*result_));
        else promise_.set_exception(std::make_exception_ptr(EventStoreError(error)));
    }

private:
    Apply apply_;
    std::optional<Result> result_;
    std::promise<Result> promise_;
};

}  // namespace

GroupCommitEventStore::GroupCommitEventStore(std::string name, size_t max_batch)
    : name_(std::move(name)), max_batch_(max_batch) {}

GroupCommitEventStore::~GroupCommitEventStore() { stop_writer(); }

void GroupCommitEventStore::start_writer(EventWrites& writes) {
    writes_ = &writes;
    writer_ = std::thread([this] { write_loop(); });
}

void GroupCommitEventStore::stop_writer() {
    if (!writer_.joinable()) return;
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    work_.notify_one();
    writer_.join();
}

void GroupCommitEventStore::enqueue(NewEvent event, uint64_t max_queued, std::function<void(EnqueueResult)> done) {
    submit(std::make_unique<EnqueueWrite>(std::move(event), max_queued, std::move(done)));
}

std::vector<QueuedEvent> GroupCommitEventStore::claim(std::string_view function, std::string_view owner,
                                                      UnixMillis now, UnixMillis lease_until, size_t limit) {
    return write_and_wait<std::vector<QueuedEvent>>(
        [&](EventWrites& writes) { return writes.claim(function, owner, now, lease_until, limit); });
}

void GroupCommitEventStore::settle(int64_t event_id, Settlement settlement,
                                   std::function<void(std::string error)> done) {
    submit(std::make_unique<SettleWrite>(event_id, std::move(settlement), std::move(done)));
}

void GroupCommitEventStore::release_leases(std::string_view owner) {
    write_and_wait<bool>([&](EventWrites& writes) { return writes.release_leases(owner), true; });
}

void GroupCommitEventStore::expire_idempotency_keys(UnixMillis before) {
    write_and_wait<bool>([&](EventWrites& writes) { return writes.expire_idempotency_keys(before), true; });
}

uint64_t GroupCommitEventStore::redrive(std::string_view function, const std::vector<int64_t>& ids, UnixMillis now) {
    return write_and_wait<uint64_t>([&](EventWrites& writes) { return writes.redrive(function, ids, now); });
}

uint64_t GroupCommitEventStore::purge_dead_letters(std::string_view function) {
    return write_and_wait<uint64_t>([&](EventWrites& writes) { return writes.purge_dead_letters(function); });
}

bool GroupCommitEventStore::add_schedule(const Schedule& schedule) {
    return write_and_wait<bool>([&](EventWrites& writes) { return writes.add_schedule(schedule); });
}

bool GroupCommitEventStore::set_paused(std::string_view function, std::string_view id, bool paused) {
    return write_and_wait<bool>([&](EventWrites& writes) { return writes.set_paused(function, id, paused); });
}

bool GroupCommitEventStore::delete_schedule(std::string_view function, std::string_view id) {
    return write_and_wait<bool>([&](EventWrites& writes) { return writes.delete_schedule(function, id); });
}

bool GroupCommitEventStore::fire(std::string_view function, std::string_view id, UnixMillis due, uint64_t skipped,
                                 NewEvent event) {
    return write_and_wait<bool>([&](EventWrites& writes) { return writes.fire(function, id, due, skipped, event); });
}

uint64_t GroupCommitEventStore::remove_function(std::string_view function) {
    return write_and_wait<uint64_t>([&](EventWrites& writes) { return writes.remove_function(function); });
}

void GroupCommitEventStore::submit(std::unique_ptr<PendingWrite> write) {
    {
        std::lock_guard lock(mutex_);
        pending_.push_back(std::move(write));
    }
    work_.notify_one();
}

template <typename Result, typename Apply>
Result GroupCommitEventStore::write_and_wait(Apply apply) {
    // A completion runs on the writer thread, which would wait for itself.
    if (std::this_thread::get_id() == writer_.get_id()) {
        throw std::logic_error("a blocking event store call from a completion");
    }
    auto write = std::make_unique<BlockingWrite<Result, Apply>>(std::move(apply));
    std::future<Result> result = write->future();
    submit(std::move(write));
    return result.get();
}

void GroupCommitEventStore::write_loop() {
    std::vector<std::unique_ptr<PendingWrite>> batch;
    for (;;) {
        {
            std::unique_lock lock(mutex_);
            work_.wait(lock, [this] { return stopping_ || !pending_.empty(); });
            // Stopping only once everything queued before is written.
            if (pending_.empty()) return;
            while (!pending_.empty() && batch.size() < max_batch_) {
                batch.push_back(std::move(pending_.front()));
                pending_.pop_front();
            }
        }
        commit(batch);
        batch.clear();
    }
}

void GroupCommitEventStore::commit(std::vector<std::unique_ptr<PendingWrite>>& batch) {
    std::vector<std::string> errors(batch.size());
    // Most batches hold no write that fails: they run as they are, without a savepoint
    // around each write (two round trips less per write to a database server). When one
    // fails, the batch runs again with them, so that only that write fails.
    try {
        if (!commit_at_once(batch)) commit_write_by_write(batch, errors);
        if (failing_) spdlog::info("{}: writing again", name_);
        failing_ = false;
    } catch (const std::exception& error) {
        const std::string why = "the " + name_ + " could not write: " + error.what();
        // Once per outage, not once per batch: the writes' callers are told each time.
        if (!failing_) spdlog::error("{}: {} ({} writes failed)", name_, why, batch.size());
        failing_ = true;
        std::fill(errors.begin(), errors.end(), why);
    }
    for (size_t i = 0; i < batch.size(); ++i) {
        try {
            batch[i]->complete(errors[i]);
        } catch (const std::exception& error) {
            spdlog::error("{}: a write's completion threw: {}", name_, error.what());
        }
    }
}

bool GroupCommitEventStore::commit_at_once(std::vector<std::unique_ptr<PendingWrite>>& batch) {
    EventWrites& writes = *writes_;
    try {
        writes.begin();
        for (const auto& write : batch) write->apply(writes);
        writes.commit();
        return true;
    } catch (const std::exception& error) {
        roll_back();
        if (writes.fails_batch(error)) throw;
        return false;
    }
}

void GroupCommitEventStore::commit_write_by_write(std::vector<std::unique_ptr<PendingWrite>>& batch,
                                                  std::vector<std::string>& errors) {
    EventWrites& writes = *writes_;
    try {
        writes.begin();
        for (size_t i = 0; i < batch.size(); ++i) {
            writes.begin_operation();
            try {
                batch[i]->apply(writes);
                writes.end_operation();
            } catch (const std::exception& error) {
                if (writes.fails_batch(error)) throw;
                writes.undo_operation();
                errors[i] = error.what();
            }
        }
        writes.commit();
    } catch (...) {
        roll_back();
        throw;
    }
}

void GroupCommitEventStore::roll_back() {
    try {
        writes_->rollback();
    } catch (const std::exception& error) {
        spdlog::error("{}: rollback failed: {}", name_, error.what());
    }
}

}  // namespace sofaas
