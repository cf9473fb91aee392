#include "events/sqlite_event_store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <mutex>
#include <type_traits>

#include "events/event_reads.h"
#include "events/event_schema.h"
#include "events/event_tables.h"
#include "events/group_commit_store.h"
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

class SqliteEventStore final : public GroupCommitEventStore {
public:
    explicit SqliteEventStore(const fs::path& file)
        : GroupCommitEventStore("event store", max_batch),
          write_db_((create_private_file(file), file), busy_timeout_ms),
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
        start_writer(tables_);
    }

    ~SqliteEventStore() override { stop_writer(); }

    std::vector<std::pair<std::string, QueueDepth>> depths() override {
        return read([&](SqliteConnection& db) { return read_depths(db); });
    }

    std::optional<UnixMillis> next_due(std::string_view function) override {
        return read([&](SqliteConnection& db) { return read_next_due(db, function); });
    }

    std::vector<DeadLetter> dead_letters(std::string_view function, int64_t after_id, size_t limit) override {
        return read([&](SqliteConnection& db) { return read_dead_letters(db, function, after_id, limit); });
    }

    std::optional<DeadLetter> dead_letter(std::string_view function, int64_t id) override {
        return read([&](SqliteConnection& db) { return read_dead_letter(db, function, id); });
    }

    std::vector<Schedule> schedules(std::optional<std::string_view> function) override {
        return read([&](SqliteConnection& db) { return read_schedules(db, function); });
    }

private:
    template <typename Read>
    std::invoke_result_t<Read, SqliteConnection&> read(Read read) {
        std::lock_guard lock(read_mutex_);
        return read(read_db_);
    }

    SqliteConnection write_db_;  // the writer thread's, but while opening
    EventTables tables_;

    std::mutex read_mutex_;
    SqliteConnection read_db_;
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
