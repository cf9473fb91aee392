#include "events/sqlite_event_store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <future>
#include <mutex>
#include <thread>
#include <type_traits>

#include <spdlog/spdlog.h>

#include "events/event_reads.h"
#include "events/event_schema.h"
#include "events/event_tables.h"
#include "events/sqlite_connection.h"

namespace sofaas {
namespace fs = std::filesystem;

namespace {

// How long a write waits for another connection's lock (another store on the same file)
// before its batch fails as busy.
constexpr int busy_timeout_ms = 5000;

// Writes committed together at most: bounds how long the first of a flood waits for its
// completion, and how far one transaction grows the WAL.
constexpr size_t max_batch = 10'000;

// One write waiting for the writer thread.
class Write {
public:
    virtual ~Write() = default;
    // Inside the batch's transaction, as an operation of its own. Throwing fails this
    // write alone, unless the storage failed (SqliteError::storage_failure()).
    virtual void apply(EventTables& tables) = 0;
    // After the commit (empty error) or the failure of this write or of its batch.
    virtual void complete(const std::string& error) = 0;
};

class EnqueueWrite final : public Write {
public:
    EnqueueWrite(NewEvent event, uint64_t max_queued, std::function<void(EnqueueResult)> done)
        : event_(std::move(event)), max_queued_(max_queued), done_(std::move(done)) {}
    void apply(EventTables& tables) override { result_ = tables.enqueue(event_, max_queued_); }
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

class SettleWrite final : public Write {
public:
    SettleWrite(int64_t event_id, Settlement settlement, std::function<void(std::string)> done)
        : event_id_(event_id), settlement_(std::move(settlement)), done_(std::move(done)) {}
    void apply(EventTables& tables) override { tables.settle(event_id_, settlement_); }
    void complete(const std::string& error) override { done_(error); }

private:
    int64_t event_id_;
    Settlement settlement_;
    std::function<void(std::string)> done_;
};

// A blocking call's write: its caller waits on the future.
template <typename Result, typename Apply>
class BlockingWrite final : public Write {
public:
    explicit BlockingWrite(Apply apply) : apply_(std::move(apply)) {}
    std::future<Result> future() { return promise_.get_future(); }
    void apply(EventTables& tables) override { result_ = apply_(tables); }
    void complete(const std::string& error) override {
        if (error.empty()) promise_.set_value(std::move(*result_));
        else promise_.set_exception(std::make_exception_ptr(EventStoreError(error)));
    }

private:
    Apply apply_;
    std::optional<Result> result_;
    std::promise<Result> promise_;
};

// The file exists, 0600, before SQLite opens it: its WAL and shared-memory files take
// their permissions from it. A new file's directory entry is synced as SQLite syncs its
// WAL's, so that a power cut cannot lose the whole file.
void create_private_file(const fs::path& file) {
    int fd = ::open(file.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    const bool created = fd >= 0;
    if (!created && errno == EEXIST) fd = ::open(file.c_str(), O_RDWR | O_CLOEXEC);
    if (fd < 0) throw EventStoreError(std::strerror(errno));
    int chmod_result = ::fchmod(fd, 0600);
    int chmod_error = errno;
    ::close(fd);
    if (chmod_result != 0) throw EventStoreError(std::strerror(chmod_error));
    if (!created) return;
    fs::path directory = file.parent_path().empty() ? fs::path(".") : file.parent_path();
    int directory_fd = ::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (directory_fd >= 0) {
        ::fsync(directory_fd);
        ::close(directory_fd);
    }
}

std::string pragma_text(SqliteConnection& db, const std::string& pragma) {
    auto query = db.query(pragma);
    return query.next() ? query.text(0) : std::string();
}

class SqliteEventStore final : public EventStore {
public:
    explicit SqliteEventStore(const fs::path& file)
        : write_db_((create_private_file(file), file), busy_timeout_ms),
          tables_(write_db_),
          read_db_(file, busy_timeout_ms) {
        if (pragma_text(write_db_, "PRAGMA journal_mode = WAL") != "wal") {
            throw EventStoreError("cannot use write-ahead logging");
        }
        write_db_.execute("PRAGMA synchronous = FULL");
        // temp_store stays at its default: a savepoint's journal (every write has one) is
        // kept in memory up to 64 KiB and goes to a temporary file beyond. With MEMORY it
        // never leaves memory, and dropping a function's million queued events held the
        // original of every page they filled, about 110 MB, which the heap then kept.
        // A flood's batches grow the WAL; a checkpoint then truncates it back to this.
        write_db_.execute("PRAGMA journal_size_limit = 67108864");
        migrate_event_schema(write_db_);
        read_db_.execute("PRAGMA query_only = ON");
        writer_ = std::thread([this] { write_loop(); });
    }

    ~SqliteEventStore() override {
        {
            std::lock_guard lock(mutex_);
            stopping_ = true;
        }
        work_.notify_one();
        writer_.join();
    }

    void enqueue(NewEvent event, uint64_t max_queued, std::function<void(EnqueueResult)> done) override {
        submit(std::make_unique<EnqueueWrite>(std::move(event), max_queued, std::move(done)));
    }

    std::vector<QueuedEvent> claim(std::string_view function, std::string_view owner, UnixMillis now,
                                   UnixMillis lease_until, size_t limit) override {
        return write_and_wait<std::vector<QueuedEvent>>(
            [&](EventTables& tables) { return tables.claim(function, owner, now, lease_until, limit); });
    }

    void settle(int64_t event_id, Settlement settlement, std::function<void(std::string error)> done) override {
        submit(std::make_unique<SettleWrite>(event_id, std::move(settlement), std::move(done)));
    }

    void release_leases(std::string_view owner) override {
        write_and_wait<bool>([&](EventTables& tables) { return tables.release_leases(owner), true; });
    }

    std::vector<std::pair<std::string, QueueDepth>> depths() override {
        return read([&](SqliteConnection& db) { return read_depths(db); });
    }

    std::optional<UnixMillis> next_due(std::string_view function) override {
        return read([&](SqliteConnection& db) { return read_next_due(db, function); });
    }

    void expire_idempotency_keys(UnixMillis before) override {
        write_and_wait<bool>([&](EventTables& tables) { return tables.expire_idempotency_keys(before), true; });
    }

    std::vector<DeadLetter> dead_letters(std::string_view function, int64_t after_id, size_t limit) override {
        return read([&](SqliteConnection& db) { return read_dead_letters(db, function, after_id, limit); });
    }

    std::optional<DeadLetter> dead_letter(std::string_view function, int64_t id) override {
        return read([&](SqliteConnection& db) { return read_dead_letter(db, function, id); });
    }

    uint64_t redrive(std::string_view function, const std::vector<int64_t>& ids, UnixMillis now) override {
        return write_and_wait<uint64_t>([&](EventTables& tables) { return tables.redrive(function, ids, now); });
    }

    uint64_t purge_dead_letters(std::string_view function) override {
        return write_and_wait<uint64_t>([&](EventTables& tables) { return tables.purge_dead_letters(function); });
    }

    bool add_schedule(const Schedule& schedule) override {
        return write_and_wait<bool>([&](EventTables& tables) { return tables.add_schedule(schedule); });
    }

    std::vector<Schedule> schedules(std::optional<std::string_view> function) override {
        return read([&](SqliteConnection& db) { return read_schedules(db, function); });
    }

    bool set_paused(std::string_view function, std::string_view id, bool paused) override {
        return write_and_wait<bool>([&](EventTables& tables) { return tables.set_paused(function, id, paused); });
    }

    bool delete_schedule(std::string_view function, std::string_view id) override {
        return write_and_wait<bool>([&](EventTables& tables) { return tables.delete_schedule(function, id); });
    }

    bool fire(std::string_view function, std::string_view id, UnixMillis due, uint64_t skipped,
              NewEvent event) override {
        return write_and_wait<bool>(
            [&](EventTables& tables) { return tables.fire(function, id, due, skipped, event); });
    }

    uint64_t remove_function(std::string_view function) override {
        return write_and_wait<uint64_t>([&](EventTables& tables) { return tables.remove_function(function); });
    }

private:
    void submit(std::unique_ptr<Write> write) {
        {
            std::lock_guard lock(mutex_);
            pending_.push_back(std::move(write));
        }
        work_.notify_one();
    }

    template <typename Result, typename Apply>
    Result write_and_wait(Apply apply) {
        // A completion runs on the writer thread, which would wait for itself.
        if (std::this_thread::get_id() == writer_.get_id()) {
            throw std::logic_error("a blocking event store call from a completion");
        }
        auto write = std::make_unique<BlockingWrite<Result, Apply>>(std::move(apply));
        std::future<Result> result = write->future();
        submit(std::move(write));
        return result.get();
    }

    template <typename Read>
    std::invoke_result_t<Read, SqliteConnection&> read(Read read) {
        std::lock_guard lock(read_mutex_);
        return read(read_db_);
    }

    void write_loop() {
        std::vector<std::unique_ptr<Write>> batch;
        for (;;) {
            {
                std::unique_lock lock(mutex_);
                work_.wait(lock, [this] { return stopping_ || !pending_.empty(); });
                // Stopping only once everything queued before is written.
                if (pending_.empty()) return;
                while (!pending_.empty() && batch.size() < max_batch) {
                    batch.push_back(std::move(pending_.front()));
                    pending_.pop_front();
                }
            }
            commit(batch);
            batch.clear();
        }
    }

    void commit(std::vector<std::unique_ptr<Write>>& batch) {
        std::vector<std::string> errors(batch.size());
        try {
            tables_.begin();
            for (size_t i = 0; i < batch.size(); ++i) {
                tables_.begin_operation();
                try {
                    batch[i]->apply(tables_);
                    tables_.end_operation();
                } catch (const SqliteError& error) {
                    if (error.storage_failure()) throw;
                    tables_.undo_operation();
                    errors[i] = error.what();
                } catch (const std::exception& error) {
                    tables_.undo_operation();
                    errors[i] = error.what();
                }
            }
            tables_.commit();
            if (failing_) spdlog::info("event store: writing again");
            failing_ = false;
        } catch (const std::exception& error) {
            const std::string why = std::string("the event store could not write: ") + error.what();
            try {
                tables_.rollback();
            } catch (const std::exception& rollback_error) {
                spdlog::error("event store: rollback failed: {}", rollback_error.what());
            }
            // Once per outage, not once per batch: the writes' callers are told each time.
            if (!failing_) spdlog::error("event store: {} ({} writes failed)", why, batch.size());
            failing_ = true;
            std::fill(errors.begin(), errors.end(), why);
        }
        for (size_t i = 0; i < batch.size(); ++i) {
            try {
                batch[i]->complete(errors[i]);
            } catch (const std::exception& error) {
                spdlog::error("event store: a write's completion threw: {}", error.what());
            }
        }
    }

    SqliteConnection write_db_;  // the writer thread's, but while opening
    EventTables tables_;
    bool failing_ = false;  // the last batch failed

    std::mutex read_mutex_;
    SqliteConnection read_db_;

    std::mutex mutex_;
    std::condition_variable work_;
    std::deque<std::unique_ptr<Write>> pending_;
    bool stopping_ = false;
    std::thread writer_;
};

}  // namespace

std::unique_ptr<EventStore> open_sqlite_event_store(const fs::path& file) {
    try {
        return std::make_unique<SqliteEventStore>(file);
    } catch (const std::exception& error) {
        throw EventStoreError("event store " + file.string() + ": " + error.what());
    }
}

}  // namespace sofaas
