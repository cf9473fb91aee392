#include "billing/ledger.h"

#include <sys/statvfs.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <span>
#include <system_error>
#include <thread>
#include <unordered_set>

#include <spdlog/spdlog.h>

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

// Older day files are closed once this many are open, and by the background thread once
// their day is over by more than a day; a record whose start is days old (a long
// invocation across midnight) simply reopens its file.
constexpr size_t max_open_files = 3;

// "2026-11-27.jsonl" -> the day it covers.
std::optional<WallTime> file_day(const fs::path& file) {
    if (file.extension() != ".jsonl") return std::nullopt;
    std::string stem = file.stem().string();
    if (stem.size() != 10) return std::nullopt;
    return parse_time_spec(stem, WallTime{});
}

bool day_can_match(WallTime day, const LedgerQuery& query) {
    WallTime day_end = day + std::chrono::hours(24);
    if (query.since && day_end <= *query.since) return false;
    if (query.until && day >= *query.until) return false;
    return true;
}

bool record_matches(const InvocationReport& record, const LedgerQuery& query) {
    if (query.function && record.function != *query.function) return false;
    if (query.since && record.start < *query.since) return false;
    if (query.until && record.start >= *query.until) return false;
    return true;
}

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
    record.cost_usd = 0;
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
        std::string date;
        std::string lines;
    };

    mutable std::mutex mutex;
    std::condition_variable work;    // wakes the background thread
    std::condition_variable synced;  // wakes flush()
    std::map<std::string, std::shared_ptr<AppendOnlyFile>> open_files;  // by date
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

    bool syncing() const { return options.fsync_interval.count() > 0; }
    std::shared_ptr<AppendOnlyFile> file_for(const std::string& date);
    void note_written(const std::shared_ptr<AppendOnlyFile>& file, const std::string& date, std::string line);
    void note_write_failure(const InvocationReport& record, const std::system_error& error);
    void update_writable();
    void condemn(const std::shared_ptr<AppendOnlyFile>& file, const std::string& date);
    void sync_dirty(std::unique_lock<std::mutex>& lock);
    void check();
    void check_free_space();
    void reopen_moved_files();
    void rewrite_failed_groups();
    void write_backlog();
    void run();
};

std::shared_ptr<AppendOnlyFile> Ledger::State::file_for(const std::string& date) {
    auto it = open_files.find(date);
    if (it != open_files.end()) return it->second;
    auto file = std::make_shared<AppendOnlyFile>(billing_dir / (date + ".jsonl"), *options.file_calls);
    open_files.emplace(date, file);
    while (open_files.size() > max_open_files) open_files.erase(open_files.begin());  // oldest date
    return file;
}

// Under the mutex.
void Ledger::State::note_written(const std::shared_ptr<AppendOnlyFile>& file, const std::string& date,
                                 std::string line) {
    ++appended;
    if (!syncing()) return;
    auto group = std::find_if(dirty.begin(), dirty.end(), [&](const Group& g) { return g.file == file; });
    if (group == dirty.end()) {
        if (dirty.empty()) {
            first_unsynced_write = std::chrono::steady_clock::now();
            work.notify_one();
        }
        dirty.push_back(Group{file, date, std::move(line)});
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

// Under the mutex. New appends go to the file reopened at that path: a descriptor whose
// fsync failed is not trusted again (the kernel reports a writeback error once).
void Ledger::State::condemn(const std::shared_ptr<AppendOnlyFile>& file, const std::string& date) {
    auto open = open_files.find(date);
    if (open != open_files.end() && open->second == file) open_files.erase(open);
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
        condemn(group.file, group.date);
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

// An operator's logrotate or rm must not leave the ledger writing into a file no path
// names. Files of days over by more than a day are closed.
void Ledger::State::reopen_moved_files() {
    std::vector<std::pair<std::string, std::shared_ptr<AppendOnlyFile>>> files;
    const std::string yesterday = format_date(options.clock() - std::chrono::hours(24));
    {
        std::lock_guard lock(mutex);
        for (auto it = open_files.begin(); it != open_files.end();) {
            if (it->first < yesterday) {
                it = open_files.erase(it);  // a pending fsync holds it meanwhile
            } else {
                files.emplace_back(it->first, it->second);
                ++it;
            }
        }
    }
    for (const auto& [date, file] : files) {
        if (file->still_at_path()) continue;
        spdlog::warn("ledger: {} was moved or removed; writing to a new file at that path", file->path().string());
        std::lock_guard lock(mutex);
        auto open = open_files.find(date);
        if (open != open_files.end() && open->second == file) open_files.erase(open);  // the next append reopens
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
            {
                std::lock_guard lock(mutex);
                file = file_for(group.date);
            }
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
                condemn(file, group.date);
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
        const std::string date = format_date(record.start);
        try {
            std::string line = to_json_line(record);
            std::shared_ptr<AppendOnlyFile> file;
            {
                std::lock_guard lock(mutex);
                file = file_for(date);
            }
            file->append(line);
            std::lock_guard lock(mutex);
            note_written(file, date, std::move(line));
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
    state_->background = std::thread([state = state_.get()] { state->run(); });
}

Ledger::~Ledger() {
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
    std::string line = to_json_line(report);
    const std::string date = format_date(report.start);
    try {
        std::shared_ptr<AppendOnlyFile> file;
        {
            std::lock_guard lock(state_->mutex);
            file = state_->file_for(date);
        }
        file->append(line);
        std::lock_guard lock(state_->mutex);
        state_->note_written(file, date, std::move(line));
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

std::vector<InvocationReport> Ledger::query(const LedgerQuery& query, size_t* skipped_lines) const {
    std::vector<fs::path> files;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(state_->billing_dir, ec)) {
        auto day = file_day(entry.path());
        if (day && day_can_match(*day, query)) files.push_back(entry.path());
    }
    std::sort(files.begin(), files.end());

    std::vector<InvocationReport> records;
    // A group whose fsync failed is written again: its records may then be on disk twice.
    // A record is one run: a queued event's runs share its request id, each has its attempt.
    std::unordered_set<std::string> seen;
    std::string run_key;
    size_t skipped = 0;
    for (const auto& file : files) {
        std::string contents;
        try {
            contents = read_whole_file(file);
        } catch (const std::system_error& e) {
            spdlog::warn("ledger: {}", e.what());
            continue;
        }
        size_t line_number = 0;
        for (size_t begin = 0; begin < contents.size();) {
            size_t end = contents.find('\n', begin);
            bool complete = end != std::string::npos;
            std::string_view line(contents.data() + begin, (complete ? end : contents.size()) - begin);
            begin = complete ? end + 1 : contents.size();
            ++line_number;
            if (line.empty()) continue;  // the newline that seals a torn line
            // A line without its '\n' is torn (a crash, or a write in progress), even if it parses.
            auto record = complete ? parse_json_line(line) : std::nullopt;
            if (!record) {
                ++skipped;
                spdlog::warn("ledger: skipping torn or corrupt line {}:{}", file.string(), line_number);
                continue;
            }
            run_key = record->request_id;
            run_key += '#';
            run_key += std::to_string(record->attempt);
            if (record_matches(*record, query) && seen.insert(run_key).second) {
                records.push_back(std::move(*record));
            }
        }
    }
    std::stable_sort(records.begin(), records.end(),
                     [](const InvocationReport& a, const InvocationReport& b) { return a.start < b.start; });
    if (skipped_lines) *skipped_lines = skipped;
    return records;
}

}  // namespace sofaas
