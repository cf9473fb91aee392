#include "billing/ledger.h"

#include <algorithm>
#include <array>
#include <condition_variable>
#include <map>
#include <mutex>
#include <system_error>
#include <thread>

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
};

// Older day files are closed once this many are open; a record whose start is days old
// (a long invocation across midnight) simply reopens its file.
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

}  // namespace

struct Ledger::State {
    fs::path billing_dir;
    LedgerOptions options;

    std::mutex mutex;
    std::condition_variable work;    // wakes the syncer
    std::condition_variable synced;  // wakes flush()
    std::map<std::string, std::shared_ptr<AppendOnlyFile>> open_files;  // by date
    // Files written since their last fsync; held here so closing an old day cannot lose one.
    std::vector<std::shared_ptr<AppendOnlyFile>> dirty;
    uint64_t appended = 0;       // lines written so far
    uint64_t synced_count = 0;   // lines known to be on disk
    SteadyTime first_unsynced_write{};  // of the lines in `dirty` files; set when dirty fills
    LagHistogram lags;
    bool flush_requested = false;
    bool stopping = false;
    std::thread syncer;

    std::shared_ptr<AppendOnlyFile> file_for(const std::string& date);
    void run_syncer();
};

std::shared_ptr<AppendOnlyFile> Ledger::State::file_for(const std::string& date) {
    auto it = open_files.find(date);
    if (it != open_files.end()) return it->second;
    auto file = std::make_shared<AppendOnlyFile>(billing_dir / (date + ".jsonl"));
    open_files.emplace(date, file);
    while (open_files.size() > max_open_files) open_files.erase(open_files.begin());  // oldest date
    return file;
}

// Group commit: the first append after a quiet period starts a window of fsync_interval;
// every line written within it is made durable by one fsync per file.
void Ledger::State::run_syncer() {
    std::unique_lock lock(mutex);
    while (true) {
        work.wait(lock, [&] { return stopping || !dirty.empty() || flush_requested; });
        if (stopping && dirty.empty()) break;
        work.wait_for(lock, options.fsync_interval, [&] { return stopping || flush_requested; });

        std::vector<std::shared_ptr<AppendOnlyFile>> batch;
        batch.swap(dirty);
        uint64_t target = appended;
        const SteadyTime group_start = first_unsynced_write;
        flush_requested = false;
        lock.unlock();
        for (const auto& file : batch) {
            try {
                file->sync();
            } catch (const std::system_error& e) {
                spdlog::error("ledger: {}", e.what());
            }
        }
        const auto lag = std::chrono::steady_clock::now() - group_start;
        if (!batch.empty() && lag > options.fsync_interval + slow_fsync) {
            spdlog::warn("ledger: billing records waited {} ms to reach the disk (fsync interval {} ms)",
                         std::chrono::duration_cast<std::chrono::milliseconds>(lag).count(), options.fsync_interval.count());
        }
        lock.lock();
        if (!batch.empty()) lags.add(lag);
        synced_count = std::max(synced_count, target);
        synced.notify_all();
    }
}

Ledger::Ledger(fs::path billing_dir, LedgerOptions options) : state_(std::make_unique<State>()) {
    state_->billing_dir = std::move(billing_dir);
    state_->options = options;
    std::error_code ec;
    fs::create_directories(state_->billing_dir, ec);
    if (ec) throw std::system_error(ec, "cannot create " + state_->billing_dir.string());
    if (options.fsync_interval.count() > 0) state_->syncer = std::thread([state = state_.get()] { state->run_syncer(); });
}

Ledger::~Ledger() {
    flush();
    {
        std::lock_guard lock(state_->mutex);
        state_->stopping = true;
    }
    state_->work.notify_all();
    if (state_->syncer.joinable()) state_->syncer.join();
}

// The write itself is outside the lock: O_APPEND keeps concurrent lines whole, and a
// write(2) can wait on the page the syncer's fsync is writing back; holding the lock
// through it would stop every other io thread's append behind that one.
bool Ledger::append(const InvocationReport& report) {
    const std::string line = to_json_line(report);
    const std::string date = format_date(report.start);
    try {
        std::shared_ptr<AppendOnlyFile> file;
        {
            std::lock_guard lock(state_->mutex);
            file = state_->file_for(date);
        }
        file->append(line);
        std::lock_guard lock(state_->mutex);
        ++state_->appended;
        if (state_->syncer.joinable() &&
            std::find(state_->dirty.begin(), state_->dirty.end(), file) == state_->dirty.end()) {
            if (state_->dirty.empty()) state_->first_unsynced_write = std::chrono::steady_clock::now();
            state_->dirty.push_back(std::move(file));
            state_->work.notify_one();
        }
        return true;
    } catch (const std::system_error& e) {
        spdlog::error("ledger: record of request {} not written: {}", report.request_id, e.what());
        return false;
    }
}

void Ledger::flush() {
    if (!state_->syncer.joinable()) return;  // fsync disabled
    std::unique_lock lock(state_->mutex);
    uint64_t target = state_->appended;
    if (state_->synced_count >= target) return;
    state_->flush_requested = true;
    state_->work.notify_one();
    state_->synced.wait(lock, [&] { return state_->synced_count >= target; });
}

LedgerDurability Ledger::durability() const {
    std::lock_guard lock(state_->mutex);
    LedgerDurability durability = state_->lags.summary();
    durability.fsync_interval = state_->options.fsync_interval;
    return durability;
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
            if (record_matches(*record, query)) records.push_back(std::move(*record));
        }
    }
    std::stable_sort(records.begin(), records.end(),
                     [](const InvocationReport& a, const InvocationReport& b) { return a.start < b.start; });
    if (skipped_lines) *skipped_lines = skipped;
    return records;
}

}  // namespace sofaas
