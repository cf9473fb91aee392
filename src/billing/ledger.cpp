#include "billing/ledger.h"

#include <sys/statvfs.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <set>
#include <span>
#include <system_error>
#include <thread>
#include <unordered_set>

#include <spdlog/spdlog.h>

#include "billing/segment.h"
#include "common/append_only_file.h"
#include "common/file_io.h"

namespace sofaas {
namespace fs = std::filesystem;

namespace {

using SteadyTime = std::chrono::steady_clock::time_point;

// A group whose records waited this much longer than the window to reach the disk is worth
// a warning: the disk, not the fsync interval, then decides how much an outage of the
// machine could lose. Beyond the window, so that a window set above it is no warning.
constexpr std::chrono::milliseconds slow_fsync{1000};

// Waits to reach the disk, in 0.1 ms buckets up to 1 s (the last bucket takes the rest).
class LagHistogram {
public:
    void add(std::chrono::steady_clock::duration lag) {
        const double ms = std::chrono::duration<double, std::milli>(lag).count();
        buckets_[std::min(buckets_.size() - 1, static_cast<size_t>(ms * 10))]++;
        ++count_;
        sum_ms_ += ms;
        max_ms_ = std::max(max_ms_, ms);
    }
    LedgerDurability summary() const {
        LedgerDurability result;
        result.group_fsyncs = count_;
        result.max_ms = max_ms_;
        result.p50_ms = quantile(0.50);
        result.p99_ms = quantile(0.99);
        return result;
    }

    // Regrouped into `bounds` (seconds): a 0.1 ms bucket counts in the first bound at or
    // above its upper edge; those over 1 s only in +Inf.
    LedgerFsyncWaits regrouped(std::span<const double> bounds) const {
        LedgerFsyncWaits waits;
        waits.counts.assign(bounds.size() + 1, 0);
        waits.sum_seconds = sum_ms_ / 1000;
        for (size_t i = 0; i < buckets_.size(); ++i) {
            if (buckets_[i] == 0) continue;
            const double upper_edge_s = static_cast<double>(i + 1) / 10 / 1000;
            const bool last = i + 1 == buckets_.size();
            const size_t slot =
                last ? bounds.size()
                     : static_cast<size_t>(std::lower_bound(bounds.begin(), bounds.end(), upper_edge_s - 1e-12) -
                                           bounds.begin());
            waits.counts[slot] += buckets_[i];
        }
        return waits;
    }

private:
    double quantile(double q) const {
        if (count_ == 0) return 0;
        const uint64_t rank = std::max<uint64_t>(1, static_cast<uint64_t>(q * static_cast<double>(count_) + 0.5));
        uint64_t seen = 0;
        for (size_t i = 0; i < buckets_.size(); ++i) {
            seen += buckets_[i];
            if (seen >= rank) return std::min(max_ms_, static_cast<double>(i + 1) / 10);  // the bucket's upper edge
        }
        return max_ms_;
    }

    std::array<uint64_t, 10001> buckets_{};
    uint64_t count_ = 0;
    double max_ms_ = 0;
    double sum_ms_ = 0;
};

// Older hours' segments are closed for appends once this many are open; a record whose
// start is hours old (a long invocation) then starts a segment of its own for that hour.
constexpr size_t max_open_segments = 3;

constexpr std::chrono::seconds seal_retry_delay{10};
constexpr std::chrono::seconds archive_check_interval{60};

// "No space left on device" -> "no space left on device": the end of a sentence that
// anyone may read, so the error's text only, never the path in a system_error's what().
std::string describe(const std::error_code& error) {
    std::string text = error.message();
    if (!text.empty()) text[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(text[0])));
    return text;
}

// The caller of an invocation whose record could not be written is told the host failed
// (503): its record says so, at no charge, with what it ran and used.
InvocationReport as_host_fault(InvocationReport record) {
    record.status = InvocationStatus::host_fault;
    record.billed_ms = 0;
    record.cost_pico_usd = 0;
    return record;
}

}  // namespace

struct Ledger::State {
    fs::path billing_dir;
    LedgerOptions options;
    std::atomic<bool>* writable = nullptr;  // Ledger::writable_

    // Lines written to one file since its last fsync, kept until that fsync succeeds: a
    // failed fsync leaves no telling which of them reached the disk.
    struct Group {
        std::shared_ptr<AppendOnlyFile> file;
        std::string segment;
        std::string lines;
    };
    // The segment an hour's records are appended to now.
    struct OpenSegment {
        uint32_t sequence = 0;
        std::shared_ptr<AppendOnlyFile> file;
        uint64_t bytes = 0;
        SteadyTime last_append{};
    };
    struct Target {
        std::shared_ptr<AppendOnlyFile> file;
        std::string segment;
    };

    mutable std::mutex mutex;
    std::condition_variable work;    // wakes the background thread
    std::condition_variable synced;  // wakes flush()
    std::map<WallTime, OpenSegment> current;  // by hour
    // Closed for appends, not sealed yet: sealed once no append or fsync still holds them
    // (the file is null once its fsync failed: its lines are written again to its path).
    struct Retiring {
        SegmentFile segment;
        std::shared_ptr<AppendOnlyFile> file;
        SteadyTime last_append{};
    };
    std::map<std::string, Retiring> retiring;
    // Open segments a previous run left: nothing is appended to them again. With `retiring`
    // these are the only segments ever sealed; a segment found on disk but in neither may
    // have been created a moment ago and is being written.
    std::map<std::string, SegmentFile> left_open;
    std::map<WallTime, uint32_t> next_sequence;  // by hour: sealed sequences are never reused
    // Written since their last fsync; held here so closing an old day cannot lose one.
    std::vector<Group> dirty;
    // Their fsync failed: written again, to the file reopened, before the ledger is writable.
    std::vector<Group> to_rewrite;
    // Files whose fsync failed: an append that still holds one has its lines written again.
    std::vector<std::shared_ptr<AppendOnlyFile>> condemned;
    std::deque<InvocationReport> backlog;  // records that could not be written, oldest first
    uint64_t lost = 0;
    std::optional<std::string> write_failure;  // why the last write failed, until the backlog is written
    std::optional<std::string> fsync_failure;  // until to_rewrite is written and synced
    std::optional<std::string> low_space;      // free space below the reserve
    uint64_t appended = 0;       // lines written so far
    uint64_t settled = 0;        // lines whose group fsync has been tried
    SteadyTime first_unsynced_write{};  // of the lines in `dirty`; set when dirty fills
    LagHistogram lags;
    bool flush_requested = false;
    bool stopping = false;
    std::thread background;

    // The sealing thread's: it waits on `mutex` too, so that stopping wakes it.
    std::mutex sealing_mutex;  // one seal_due at a time
    std::condition_variable sealer_wake;
    bool sealer_stopping = false;
    std::thread sealer;
    uint64_t sealed_records = 0;
    uint64_t archived_segments = 0;
    uint64_t archive_listings = 0;
    // After a failed sealing (a full disk, most likely) the sealer waits before trying again,
    // rather than logging the same error every check_interval.
    SteadyTime seal_retry_at{};
    SteadyTime next_archive_check{};

    bool syncing() const { return options.fsync_interval.count() > 0; }
    fs::path open_path(const std::string& segment) const { return billing_dir / (segment + ".tsv"); }
    Target target_for(WallTime start, size_t line_bytes);
    void retire(std::map<WallTime, OpenSegment>::iterator segment);
    void note_written(const std::shared_ptr<AppendOnlyFile>& file, const std::string& segment, std::string line);
    void note_write_failure(const InvocationReport& record, const std::system_error& error);
    void update_writable();
    void condemn(const std::shared_ptr<AppendOnlyFile>& file, const std::string& segment);
    void sync_dirty(std::unique_lock<std::mutex>& lock);
    void check();
    void check_free_space();
    void reopen_moved_files();
    void rewrite_failed_groups();
    void write_backlog();
    void run();

    void replay_open_segments();
    void hand_to_observer(const SegmentFile& segment) const;
    bool seal(const SegmentFile& segment);
    size_t seal_due();
    void archive_due();
    void run_sealer();
};

// Under the mutex. The hour's open segment, or a new one: when it would grow past its
// limit, when it was closed, and for an hour not written yet.
Ledger::State::Target Ledger::State::target_for(WallTime start, size_t line_bytes) {
    const WallTime hour = hour_of(start);
    auto it = current.find(hour);
    if (it != current.end() && it->second.bytes > 0 && it->second.bytes + line_bytes > options.segment_max_bytes) {
        retire(it);
        it = current.end();
    }
    if (it == current.end()) {
        const uint32_t sequence = next_sequence[hour]++;
        const fs::path path = open_path(segment_name(hour, sequence));
        std::error_code ec;
        const uint64_t existing = fs::exists(path, ec) ? fs::file_size(path, ec) : 0;
        auto file = std::make_shared<AppendOnlyFile>(path, *options.file_calls);
        if (existing == 0) file->append(ledger_line_header);
        it = current.emplace(hour, OpenSegment{sequence, std::move(file), existing + ledger_line_header.size(), {}}).first;
        // The oldest hours, never the one just opened (a late record's hour may be the oldest).
        while (current.size() > max_open_segments) retire(current.begin() == it ? std::next(current.begin()) : current.begin());
    }
    it->second.bytes += line_bytes;
    it->second.last_append = std::chrono::steady_clock::now();
    return Target{it->second.file, segment_name(hour, it->second.sequence)};
}

// Under the mutex.
void Ledger::State::retire(std::map<WallTime, OpenSegment>::iterator segment) {
    SegmentFile file;
    file.name = segment_name(segment->first, segment->second.sequence);
    file.path = open_path(file.name);
    file.begins = segment->first;
    file.ends = segment->first + std::chrono::hours(1);
    file.sequence = segment->second.sequence;
    std::string name = file.name;
    retiring.emplace(std::move(name), Retiring{std::move(file), segment->second.file, segment->second.last_append});
    current.erase(segment);
}

// Under the mutex.
void Ledger::State::note_written(const std::shared_ptr<AppendOnlyFile>& file, const std::string& segment,
                                 std::string line) {
    ++appended;
    if (!syncing()) return;
    auto group = std::find_if(dirty.begin(), dirty.end(), [&](const Group& g) { return g.file == file; });
    if (group == dirty.end()) {
        if (dirty.empty()) {
            first_unsynced_write = std::chrono::steady_clock::now();
            work.notify_one();
        }
        dirty.push_back(Group{file, segment, std::move(line)});
    } else {
        group->lines += line;
    }
}

// Under the mutex.
void Ledger::State::note_write_failure(const InvocationReport& record, const std::system_error& error) {
    write_failure = "billing ledger cannot be written: " + describe(error.code());
    if (backlog.size() < options.max_backlog) {
        backlog.push_back(as_host_fault(facts_of(record, Captures::drop)));
    } else {
        ++lost;
        spdlog::critical("ledger: record of request {} ({}:{}) LOST: {} records wait already; {} lost so far",
                         record.request_id, record.function, record.version, backlog.size(), lost);
    }
    update_writable();
}

// Under the mutex. Logs each change, once.
void Ledger::State::update_writable() {
    const std::optional<std::string>& why = write_failure ? write_failure : fsync_failure ? fsync_failure : low_space;
    const bool now_writable = !why;
    const bool was_writable = writable->exchange(now_writable, std::memory_order_relaxed);
    if (was_writable && !now_writable) {
        spdlog::error("ledger: refusing invocations: {}", *why);
    } else if (!was_writable && now_writable) {
        spdlog::warn("ledger: writable again, invocations are admitted");
    }
}

// Under the mutex. New appends go to a new segment, and the lines of the failed fsync to the
// file reopened at its path: a descriptor whose fsync failed is not trusted again (the
// kernel reports a writeback error once).
void Ledger::State::condemn(const std::shared_ptr<AppendOnlyFile>& file, const std::string& segment) {
    for (auto it = current.begin(); it != current.end(); ++it) {
        if (it->second.file == file) {
            retire(it);
            break;
        }
    }
    if (auto it = retiring.find(segment); it != retiring.end() && it->second.file == file) it->second.file.reset();
    if (std::find(condemned.begin(), condemned.end(), file) == condemned.end()) condemned.push_back(file);
}

// Group commit: the first append after a quiet period starts a window of fsync_interval;
// every line written within it is made durable by one fsync per file. Under the mutex,
// released meanwhile.
void Ledger::State::sync_dirty(std::unique_lock<std::mutex>& lock) {
    std::vector<Group> batch;
    std::vector<Group> failed;
    for (Group& group : dirty) {
        // Written to a file after its fsync failed: that file's next fsync proves nothing.
        const bool condemned_file = std::find(condemned.begin(), condemned.end(), group.file) != condemned.end();
        (condemned_file ? failed : batch).push_back(std::move(group));
    }
    dirty.clear();
    const uint64_t target = appended;
    const SteadyTime group_start = first_unsynced_write;
    flush_requested = false;
    lock.unlock();
    std::optional<std::string> failure;
    for (Group& group : batch) {
        try {
            group.file->sync();
        } catch (const std::system_error& e) {
            spdlog::error("ledger: {}; its records since the last fsync are written again", e.what());
            failure = "billing records could not be made durable: " + describe(e.code());
            failed.push_back(std::move(group));
        }
    }
    const auto lag = std::chrono::steady_clock::now() - group_start;
    if (!batch.empty() && lag > options.fsync_interval + slow_fsync) {
        spdlog::warn("ledger: billing records waited {} ms to reach the disk (fsync interval {} ms)",
                     std::chrono::duration_cast<std::chrono::milliseconds>(lag).count(), options.fsync_interval.count());
    }
    lock.lock();
    if (!batch.empty()) lags.add(lag);
    for (Group& group : failed) {
        condemn(group.file, group.segment);
        to_rewrite.push_back(std::move(group));
    }
    if (failure) fsync_failure = failure;
    if (!failed.empty()) update_writable();
    settled = std::max(settled, target);
    synced.notify_all();
}

void Ledger::State::check_free_space() {
    if (options.reserve_bytes == 0) return;
    struct statvfs fs_stats {};
    if (::statvfs(billing_dir.c_str(), &fs_stats) != 0) return;  // the writes will tell
    const uint64_t free_bytes = static_cast<uint64_t>(fs_stats.f_bavail) * fs_stats.f_frsize;
    std::lock_guard lock(mutex);
    if (free_bytes < options.reserve_bytes) {
        if (!low_space) {
            low_space = "less than " + std::to_string(options.reserve_bytes >> 20) +
                        " MiB free on the ledger's filesystem";
            update_writable();
        }
    } else if (low_space) {
        low_space.reset();
        update_writable();
    }
}

// An operator's mv or rm must not leave the ledger writing into a file no path names: the
// hour's next records go to a new segment. What was moved is the operator's.
void Ledger::State::reopen_moved_files() {
    std::vector<std::shared_ptr<AppendOnlyFile>> files;
    {
        std::lock_guard lock(mutex);
        for (const auto& [hour, segment] : current) files.push_back(segment.file);
    }
    for (const auto& file : files) {
        if (file->still_at_path()) continue;
        spdlog::warn("ledger: {} was moved or removed; the hour's next records go to a new segment",
                     file->path().string());
        std::lock_guard lock(mutex);
        for (auto it = current.begin(); it != current.end(); ++it) {
            if (it->second.file == file) {
                current.erase(it);
                break;
            }
        }
    }
}

void Ledger::State::rewrite_failed_groups() {
    std::vector<Group> groups;
    {
        std::lock_guard lock(mutex);
        if (to_rewrite.empty()) return;
        groups.swap(to_rewrite);
        std::erase_if(condemned, [](const auto& file) { return file.use_count() == 1; });
    }
    std::vector<Group> remaining;
    std::optional<std::string> failure;
    size_t records = 0;
    for (Group& group : groups) {
        std::shared_ptr<AppendOnlyFile> file;
        try {
            // The same segment, reopened: it is not sealed while lines of it wait here.
            file = std::make_shared<AppendOnlyFile>(open_path(group.segment), *options.file_calls);
            file->append(group.lines);
        } catch (const std::system_error& e) {
            spdlog::error("ledger: records of a failed fsync not written again yet: {}", e.what());
            failure = "billing records could not be made durable: " + describe(e.code());
            remaining.push_back(std::move(group));
            continue;
        }
        try {
            file->sync();
            records += static_cast<size_t>(std::count(group.lines.begin(), group.lines.end(), '\n'));
        } catch (const std::system_error& e) {
            {
                std::lock_guard lock(mutex);
                condemn(file, group.segment);
            }
            spdlog::error("ledger: records of a failed fsync not written again yet: {}", e.what());
            failure = "billing records could not be made durable: " + describe(e.code());
            remaining.push_back(std::move(group));
        }
    }
    std::lock_guard lock(mutex);
    if (records > 0) spdlog::warn("ledger: {} records of a failed fsync written again and synced", records);
    for (Group& group : remaining) to_rewrite.push_back(std::move(group));
    if (to_rewrite.empty()) {
        fsync_failure.reset();
    } else if (failure) {
        fsync_failure = failure;
    }
    update_writable();
}

// The records of invocations answered 503 because their records could not be written: in
// the order they came, stopping at the first that still cannot be.
void Ledger::State::write_backlog() {
    std::deque<InvocationReport> records;
    {
        std::lock_guard lock(mutex);
        if (!write_failure) return;
        records.swap(backlog);
    }
    size_t written = 0;
    std::optional<std::system_error> failure;
    while (!records.empty()) {
        const InvocationReport& record = records.front();
        try {
            std::string line;
            append_ledger_line(line, record);
            Target target;
            {
                std::lock_guard lock(mutex);
                target = target_for(record.start, line.size());
            }
            target.file->append(line);
            {
                std::lock_guard lock(mutex);
                note_written(target.file, target.segment, std::move(line));
            }
            if (options.observer) options.observer->on_record(record, target.segment);
        } catch (const std::system_error& e) {
            failure = e;
            break;
        }
        records.pop_front();
        ++written;
    }
    std::lock_guard lock(mutex);
    if (written > 0) spdlog::warn("ledger: {} records that could not be written before are written (host_fault)", written);
    // Records that failed meanwhile came after these.
    for (auto it = backlog.begin(); it != backlog.end(); ++it) records.push_back(std::move(*it));
    backlog.swap(records);
    if (failure) {
        write_failure = "billing ledger cannot be written: " + describe(failure->code());
    } else if (backlog.empty()) {
        write_failure.reset();
    }
    update_writable();
}

void Ledger::State::check() {
    check_free_space();
    reopen_moved_files();
    rewrite_failed_groups();
    write_backlog();
}

// One thread for everything off the request path: the group fsync, and every
// check_interval the free space, moved files and retries.
void Ledger::State::run() {
    std::unique_lock lock(mutex);
    SteadyTime next_check = std::chrono::steady_clock::now();
    while (true) {
        const SteadyTime now = std::chrono::steady_clock::now();
        if (now >= next_check && !stopping) {
            lock.unlock();
            check();
            lock.lock();
            next_check = now + options.check_interval;
            continue;
        }
        if (!dirty.empty() &&
            (stopping || flush_requested || now >= first_unsynced_write + options.fsync_interval)) {
            sync_dirty(lock);
            continue;
        }
        if (flush_requested) {  // nothing to sync
            flush_requested = false;
            settled = appended;
            synced.notify_all();
        }
        if (stopping) break;
        SteadyTime wake = next_check;
        if (!dirty.empty()) wake = std::min(wake, first_unsynced_write + options.fsync_interval);
        work.wait_until(lock, wake);
    }
}

// At start: each open segment's records, once, to the observer; the hours' sequence
// numbers; what an interrupted sealing left.
void Ledger::State::replay_open_segments() {
    if (size_t removed = remove_temporaries(billing_dir); removed > 0) {
        spdlog::warn("ledger: removed {} unfinished compressed segments; their open segments are sealed again", removed);
    }
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(billing_dir, ec)) {
        // Sealed, but the sealing stopped before it removed the open file.
        fs::path sealed = entry.path();
        sealed += ".zst";
        if (entry.path().extension() == ".tsv" && fs::exists(sealed, ec)) fs::remove(entry.path(), ec);
    }
    for (const SegmentFile& segment : list_segments(billing_dir)) {
        if (segment.kind == SegmentKind::legacy_day) continue;
        uint32_t& next = next_sequence[segment.begins];
        next = std::max(next, segment.sequence + 1);
        if (segment.kind != SegmentKind::open) continue;
        left_open.emplace(segment.name, segment);
        if (!options.observer) continue;
        std::unordered_set<std::string> seen;
        size_t skipped = 0;
        try {
            read_segment(segment, {}, [&](InvocationReport&& record) {
                if (seen.insert(run_key(record)).second) options.observer->on_record(record, segment.name);
            }, skipped);
        } catch (const std::system_error& e) {
            spdlog::error("ledger: {}", e.what());
        }
        if (skipped > 0) spdlog::warn("ledger: skipped {} torn or corrupt lines in {}", skipped, segment.path.string());
    }
}

void Ledger::State::hand_to_observer(const SegmentFile& segment) const {
    if (!options.observer) return;
    options.observer->on_sealed(segment.name, [&](const std::function<void(const InvocationReport&)>& each) {
        std::unordered_set<std::string> seen;  // an older day file may hold a record twice
        size_t skipped = 0;
        read_segment(segment, {}, [&](InvocationReport&& record) {
            if (seen.insert(run_key(record)).second) each(record);
        }, skipped);
    });
}

// Compressed, handed to the observer, then the open file removed: a crash anywhere in
// between leaves the open file or the sealed one complete, and the next start finishes.
bool Ledger::State::seal(const SegmentFile& segment) {
    try {
        const CompressedSegment compressed = compress_segment(segment, options.compression_level);
        SegmentFile sealed = segment;
        sealed.kind = SegmentKind::sealed;
        sealed.path = billing_dir / (segment.name + ".tsv.zst");
        hand_to_observer(sealed);
        fs::remove(segment.path);
        fsync_directory(billing_dir);
        if (compressed.skipped_lines > 0) {
            spdlog::warn("ledger: {} torn or corrupt lines of {} left out of its sealed segment", compressed.skipped_lines,
                         segment.path.string());
        }
        spdlog::debug("ledger: sealed {}: {} records, {} bytes -> {}", segment.name, compressed.records,
                      compressed.bytes_in, compressed.bytes_out);
        std::lock_guard lock(mutex);
        retiring.erase(segment.name);
        left_open.erase(segment.name);
        sealed_records += compressed.records;
        return true;
    } catch (const std::exception& e) {
        spdlog::error("ledger: segment {} not sealed, tried again in {} s: {}", segment.name, seal_retry_delay.count(),
                      e.what());
        seal_retry_at = std::chrono::steady_clock::now() + seal_retry_delay;
        return false;
    }
}

// A segment is due once no record can come for it: its hour's records go to a later
// sequence (it grew past its size, or a restart came between), or its hour ended
// seal_after ago; and nothing was appended to it for seal_idle, and no append, fsync or
// rewrite still holds it.
size_t Ledger::State::seal_due() {
    std::lock_guard sealing(sealing_mutex);
    const WallTime now = options.clock();
    const SteadyTime steady_now = std::chrono::steady_clock::now();
    if (steady_now < seal_retry_at) return 0;
    std::vector<SegmentFile> due;
    {
        std::lock_guard lock(mutex);
        for (auto it = current.begin(); it != current.end();) {
            const bool hour_over = it->first + std::chrono::hours(1) + options.seal_after <= now;
            const bool idle = it->second.last_append + options.seal_idle <= steady_now;
            if (hour_over && idle) {
                retire(it++);
            } else {
                ++it;
            }
        }
        const auto pending = [](const std::vector<Group>& groups, const std::string& name) {
            return std::any_of(groups.begin(), groups.end(), [&](const Group& g) { return g.segment == name; });
        };
        for (const auto& [name, segment] : retiring) {
            const bool busy = (segment.file && segment.file.use_count() > 1) ||
                              segment.last_append + options.seal_idle > steady_now || pending(dirty, name) ||
                              pending(to_rewrite, name);
            if (!busy) due.push_back(segment.segment);
        }
        for (const auto& [name, segment] : left_open) due.push_back(segment);
    }
    size_t sealed = 0;
    for (const SegmentFile& segment : due) {
        {
            std::lock_guard lock(mutex);
            if (sealer_stopping) break;  // a stop does not wait for a backlog of sealing; the next start finishes it
        }
        std::error_code ec;
        if (!fs::exists(segment.path, ec) && !ec) {
            // Moved or removed by the operator: what was moved is theirs, and retrying it
            // would hold up the sealing of every other segment.
            spdlog::warn("ledger: {} is gone before it was sealed; not sealed", segment.path.string());
            std::lock_guard lock(mutex);
            retiring.erase(segment.name);
            left_open.erase(segment.name);
            continue;
        }
        if (!seal(segment)) break;  // the disk: the rest can wait for the next pass
        ++sealed;
    }
    // Archiving needs a listing of the directory, which grows with every hour kept: once a
    // minute, and in the pass that sealed something (which may be old enough already).
    if (sealed > 0 || steady_now >= next_archive_check) {
        next_archive_check = steady_now + archive_check_interval;
        archive_due();
    }
    return sealed;
}

// Moved whole, never deleted: billing records are the operator's to keep.
void Ledger::State::archive_due() {
    if (!options.archive_dir || options.archive_after.count() <= 0) return;
    const WallTime now = options.clock();
    const std::vector<SegmentFile> segments = list_segments(billing_dir);
    {
        std::lock_guard lock(mutex);
        ++archive_listings;
    }
    for (const SegmentFile& segment : segments) {
        if (segment.kind == SegmentKind::open || segment.ends + options.archive_after > now) continue;
        const fs::path target = *options.archive_dir / segment.path.filename();
        try {
            fs::create_directories(*options.archive_dir);
            if (::rename(segment.path.c_str(), target.c_str()) != 0) {
                if (errno != EXDEV) throw_file_error("cannot move to the archive", segment.path);
                // Another filesystem: a synced copy under a temporary name, renamed, then the original removed.
                fs::path temporary = target;
                temporary += ".tmp";
                write_file_synced(temporary, read_whole_file(segment.path));
                if (::rename(temporary.c_str(), target.c_str()) != 0) throw_file_error("cannot rename", temporary);
                fsync_directory(*options.archive_dir);
                fs::remove(segment.path);
            } else {
                fsync_directory(*options.archive_dir);
            }
            fsync_directory(billing_dir);
            spdlog::info("ledger: moved {} to the archive {}", segment.path.filename().string(),
                         options.archive_dir->string());
            std::lock_guard lock(mutex);
            ++archived_segments;
        } catch (const std::exception& e) {
            spdlog::error("ledger: {} not archived, tried again later: {}", segment.name, e.what());
            return;
        }
    }
}

void Ledger::State::run_sealer() {
    // Sealed before this start, or by an older version: the observer skips what it has.
    for (const SegmentFile& segment : list_segments(billing_dir)) {
        if (segment.kind == SegmentKind::open) continue;
        {
            std::lock_guard lock(mutex);
            if (sealer_stopping) return;
        }
        try {
            hand_to_observer(segment);
        } catch (const std::exception& e) {
            spdlog::error("ledger: {}", e.what());
        }
    }
    // The first pass, too, waits one interval: an owner that seals with seal_due() itself
    // (a long interval) has the sealing to itself.
    std::unique_lock lock(mutex);
    while (!sealer_wake.wait_for(lock, options.check_interval, [&] { return sealer_stopping; })) {
        lock.unlock();
        seal_due();
        lock.lock();
    }
}

Ledger::Ledger(fs::path billing_dir, LedgerOptions options) : state_(std::make_unique<State>()) {
    state_->billing_dir = std::move(billing_dir);
    state_->options = std::move(options);
    state_->writable = &writable_;
    if (!state_->options.clock) state_->options.clock = wall_now;
    if (!state_->options.file_calls) state_->options.file_calls = &real_file_calls;
    std::error_code ec;
    fs::create_directories(state_->billing_dir, ec);
    if (ec) throw std::system_error(ec, "cannot create " + state_->billing_dir.string());
    state_->check_free_space();
    state_->replay_open_segments();
    state_->background = std::thread([state = state_.get()] { state->run(); });
    state_->sealer = std::thread([state = state_.get()] { state->run_sealer(); });
}

Ledger::~Ledger() {
    {
        std::lock_guard lock(state_->mutex);
        state_->sealer_stopping = true;
    }
    state_->sealer_wake.notify_all();
    state_->sealer.join();
    // A last try for what could not be written, so that it is synced below.
    state_->rewrite_failed_groups();
    state_->write_backlog();
    flush();
    {
        std::lock_guard lock(state_->mutex);
        state_->stopping = true;
    }
    state_->work.notify_all();
    state_->background.join();
    std::lock_guard lock(state_->mutex);
    if (!state_->backlog.empty() || !state_->to_rewrite.empty()) {
        spdlog::critical("ledger: stopping with {} records not written and {} groups not made durable",
                         state_->backlog.size(), state_->to_rewrite.size());
    }
}

// The write itself is outside the ledger's mutex: a write(2) can wait on the page the
// syncer's fsync is writing back; holding the mutex through it would stop every other io
// thread's bookkeeping behind that one.
bool Ledger::append(const InvocationReport& report) {
    std::string line;
    line.reserve(160);
    append_ledger_line(line, report);
    try {
        State::Target target;
        {
            std::lock_guard lock(state_->mutex);
            target = state_->target_for(report.start, line.size());
        }
        target.file->append(line);
        {
            std::lock_guard lock(state_->mutex);
            state_->note_written(target.file, target.segment, std::move(line));
        }
        if (state_->options.observer) state_->options.observer->on_record(report, target.segment);
        return true;
    } catch (const std::system_error& e) {
        spdlog::error("ledger: record of request {} not written: {}", report.request_id, e.what());
        std::lock_guard lock(state_->mutex);
        state_->note_write_failure(report, e);
        return false;
    }
}

void Ledger::flush() {
    if (!state_->syncing()) return;  // fsync disabled
    std::unique_lock lock(state_->mutex);
    uint64_t target = state_->appended;
    if (state_->settled >= target) return;
    state_->flush_requested = true;
    state_->work.notify_one();
    state_->synced.wait(lock, [&] { return state_->settled >= target; });
}

LedgerDurability Ledger::durability() const {
    std::lock_guard lock(state_->mutex);
    LedgerDurability durability = state_->lags.summary();
    durability.fsync_interval = state_->options.fsync_interval;
    return durability;
}

LedgerFsyncWaits Ledger::fsync_waits(std::span<const double> bounds) const {
    std::lock_guard lock(state_->mutex);
    return state_->lags.regrouped(bounds);
}

LedgerHealth Ledger::health() const {
    std::lock_guard lock(state_->mutex);
    LedgerHealth health;
    const auto& why = state_->write_failure  ? state_->write_failure
                      : state_->fsync_failure ? state_->fsync_failure
                                              : state_->low_space;
    health.writable = !why;
    if (why) health.reason = *why;
    health.backlog = state_->backlog.size();
    health.lost = state_->lost;
    return health;
}

size_t Ledger::seal_due() { return state_->seal_due(); }

LedgerStorage Ledger::storage() const {
    LedgerStorage storage;
    std::error_code ec;
    for (const SegmentFile& segment : list_segments(state_->billing_dir)) {
        const uint64_t bytes = fs::file_size(segment.path, ec);
        if (ec) continue;
        if (segment.kind == SegmentKind::open) {
            ++storage.open_segments;
            storage.open_bytes += bytes;
        } else {
            ++storage.sealed_segments;
            storage.sealed_bytes += bytes;
        }
    }
    std::lock_guard lock(state_->mutex);
    storage.sealed_records = state_->sealed_records;
    storage.archived_segments = state_->archived_segments;
    storage.archive_listings = state_->archive_listings;
    return storage;
}

LedgerCursor Ledger::cursor(const LedgerQuery& query) const {
    LedgerCursor cursor;
    cursor.query_ = query;
    const SegmentRange range{query.since, query.until};
    cursor.segments_ = list_segments(state_->billing_dir);
    std::erase_if(cursor.segments_, [&](const SegmentFile& s) { return !range.overlaps(s.begins, s.ends); });
    return cursor;
}

std::vector<InvocationReport> LedgerCursor::next() {
    const SegmentRange range{query_.since, query_.until};
    std::vector<InvocationReport> records;
    // A group whose fsync failed is written again: its records may then be in its segment
    // twice. A record is one run: a queued event's runs share its request id.
    std::unordered_set<std::string> seen;
    while (records.empty() && position_ < segments_.size()) {
        // The segments of one hour (or one older day file): a record is in one of them.
        const size_t first = position_;
        while (position_ < segments_.size() && segments_[position_].begins == segments_[first].begins &&
               segments_[position_].ends == segments_[first].ends) {
            const SegmentFile& segment = segments_[position_++];
            size_t skipped = 0;
            try {
                read_segment(segment, range, [&](InvocationReport&& record) {
                    if (query_.function && record.function != *query_.function) return;
                    if (seen.insert(run_key(record)).second) records.push_back(std::move(record));
                }, skipped);
            } catch (const std::system_error& e) {
                spdlog::warn("ledger: {}", e.what());
            }
            if (skipped > 0) spdlog::warn("ledger: skipped {} torn or corrupt lines in {}", skipped, segment.path.string());
            skipped_ += skipped;
        }
    }
    std::stable_sort(records.begin(), records.end(),
                     [](const InvocationReport& a, const InvocationReport& b) { return a.start < b.start; });
    return records;
}

void Ledger::for_each(const LedgerQuery& query, const std::function<bool(InvocationReport&&)>& sink,
                      size_t* skipped_lines) const {
    LedgerCursor reading = cursor(query);
    for (auto records = reading.next(); !records.empty(); records = reading.next()) {
        for (auto& record : records) {
            if (!sink(std::move(record))) {
                if (skipped_lines) *skipped_lines = reading.skipped_lines();
                return;
            }
        }
    }
    if (skipped_lines) *skipped_lines = reading.skipped_lines();
}

std::vector<InvocationReport> Ledger::query(const LedgerQuery& query, size_t* skipped_lines) const {
    std::vector<InvocationReport> records;
    for_each(query, [&](InvocationReport&& record) {
        records.push_back(std::move(record));
        return true;
    }, skipped_lines);
    // An older day file and the hours' segments of the same day are read one after the other.
    std::stable_sort(records.begin(), records.end(),
                     [](const InvocationReport& a, const InvocationReport& b) { return a.start < b.start; });
    return records;
}

}  // namespace sofaas
