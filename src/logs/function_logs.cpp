#include "logs/function_logs.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <system_error>
#include <thread>
#include <unordered_set>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "common/append_only_file.h"
#include "common/file_io.h"
#include "common/function_spec.h"
#include "logs/invocation_lines.h"
#include "logs/log_reader.h"
#include "logs/log_retention.h"
#include "logs/stored_runs.h"

namespace sofaas {
namespace fs = std::filesystem;

namespace {

constexpr size_t max_open_files = 64;
constexpr auto batch_interval = std::chrono::milliseconds(10);
// Retention deletes whole files: once a minute is prompt enough, and costs a directory
// listing per function.
constexpr auto retention_interval = std::chrono::minutes(1);
// Beyond its timeout and init, what a run may take to be killed and reported.
constexpr auto run_report_margin = std::chrono::seconds(60);
// Written by remove(): the time from which the function's log is that of the function now
// under its name.
constexpr std::string_view log_start_file = "log-start";

// A query with its bounds as the stored text compares them: the times are all RFC 3339 in
// UTC with microseconds, so they sort as strings.
struct LineFilter {
    explicit LineFilter(const LogQuery& query)
        : since(query.since ? format_rfc3339(*query.since) : std::string()), request_id(query.request_id) {}

    bool matches(std::string_view time, const std::string& line_request_id) const {
        return (since.empty() || time >= since) && (!request_id || line_request_id == *request_id);
    }

    std::string since;
    std::optional<std::string> request_id;
};

struct Subscription {
    std::weak_ptr<LogFollower> follower;
    LineFilter filter;
    // Runs whose START / END / REPORT the follower got with its first lines, read from the
    // ledger before their report reached the store: not told twice.
    std::unordered_set<std::string> shown_runs;
};

WallTime end_of(const InvocationReport& report) {
    return is_refusal(report) ? report.start : frame_lines(report).end_time;
}

}  // namespace

std::string to_json(const LogLine& line) {
    std::string text;
    append_log_line(text, line.time, line.request_id, line.version, line.stream, line.message);
    text.pop_back();  // the '\n'
    return text;
}

// Logs are not billing-critical, so their formatting and write(2) leave the request path:
// append() queues the invocation's fields and one background thread formats them and
// writes each file's queued lines in one write(2) per batch, tells the followers, and now
// and then enforces retention. Readers (tail, remove) wait for the queue to drain first.
struct FunctionLogStore::State {
    State(fs::path logs_dir_, const Ledger& ledger_, LogSettings settings_, const Limits& limits, Clock clock_)
        : logs_dir(std::move(logs_dir_)),
          ledger(ledger_),
          settings(settings_),
          longest_run(std::chrono::seconds(limits.max_timeout_s) + std::chrono::seconds(limits.init_timeout_s) +
                      run_report_margin),
          clock(std::move(clock_)) {}

    fs::path logs_dir;
    const Ledger& ledger;
    LogSettings settings;
    std::chrono::microseconds longest_run;
    Clock clock;

    // The writer's, or under files_mutex: the files, and who follows them.
    std::mutex files_mutex;
    std::map<fs::path, std::shared_ptr<AppendOnlyFile>> open_files;
    std::multimap<std::string, Subscription> followers;  // by function
    // followers.size(), read without the lock: a run with no line of its own is queued
    // only for followers. Set before a new follower reads the ledger (follow()), so a run
    // whose record that read missed is queued.
    std::atomic<size_t> follower_count{0};
    bool failing = false;  // the last write failed
    WallTime last_written{};  // never decreases: a file's "written" times do not either
    std::atomic<uint64_t> dropped{0};

    std::mutex mutex;  // guards everything below
    std::condition_variable work;     // wakes the writer
    std::condition_variable written;  // wakes drain()
    std::vector<InvocationReport> queue;
    uint64_t queued = 0;
    uint64_t written_count = 0;
    bool drain_requested = false;  // a reader waits: write now
    bool stopping = false;
    std::thread writer;

    AppendOnlyFile& file_for(const fs::path& path) {
        auto it = open_files.find(path);
        if (it != open_files.end()) return *it->second;
        if (open_files.size() >= max_open_files) open_files.clear();  // cheap to reopen
        return *open_files.emplace(path, std::make_shared<AppendOnlyFile>(path)).first->second;
    }

    // Under files_mutex.
    void forget_gone_followers() {
        std::erase_if(followers, [](const auto& entry) { return entry.second.follower.expired(); });
        follower_count = followers.size();
    }

    // Under files_mutex.
    void tell_followers(const std::vector<InvocationReport>& batch) {
        forget_gone_followers();
        if (followers.empty()) return;
        for (const InvocationReport& report : batch) {
            auto [first, last] = followers.equal_range(report.function);
            for (auto it = first; it != last; ++it) {
                Subscription& subscription = it->second;
                const bool shown = !subscription.shown_runs.empty() &&
                                   subscription.shown_runs.erase(run_key(report.request_id, report.attempt)) > 0;
                std::string text;
                size_t count = 0;
                for_each_invocation_line(report, [&](std::string_view time, LineSource source, std::string_view stream,
                                                     std::string_view message) {
                    if (shown && source == LineSource::billing_record) return;
                    if (!subscription.filter.matches(time, report.request_id)) return;
                    append_log_line(text, time, report.request_id, report.version, stream, message);
                    ++count;
                });
                if (count == 0) continue;
                if (auto follower = subscription.follower.lock()) follower->on_lines(text, count);
            }
        }
    }

    void write_batch(const std::vector<InvocationReport>& batch) {
        // Consecutive invocations of one function share a file: one write(2) for all of them.
        struct FileText {
            std::string text;
            size_t lines = 0;
            std::string first_request;  // names the batch in an error
        };
        std::map<std::pair<std::string, std::string>, FileText> by_file;  // (function, day)
        const WallTime now = clock();
        for (const InvocationReport& report : batch) {
            if (!has_function_log_lines(report)) continue;  // queued for its followers
            // At or after every time the object holds, and never less than the last: a
            // reader going backwards stops at the first written before what it wants.
            last_written = std::max({last_written, now, end_of(report)});
            FileText& file = by_file[{report.function, format_date(report.start)}];
            if (file.text.empty()) file.first_request = report.request_id;
            file.lines += append_stored_run(file.text, report, last_written);
        }
        std::lock_guard lock(files_mutex);
        for (const auto& [key, file] : by_file) {
            try {
                file_for(logs_dir / key.first / (key.second + ".jsonl")).append(file.text);
                if (failing) {
                    failing = false;
                    spdlog::warn("logs: written again; {} lines dropped so far", dropped.load());
                }
            } catch (const std::system_error& e) {
                dropped += file.lines;
                if (!failing) {  // once per outage, not once per batch
                    failing = true;
                    spdlog::error("logs: lines of request {} and later dropped until they can be written: {}",
                                  file.first_request, e.what());
                }
            }
        }
        // Followers see what was written, and also what could not be: they watch live.
        tell_followers(batch);
    }

    uint64_t retention_pass() {
        std::lock_guard lock(files_mutex);
        // A trimmed file is a new file: the writer must not append to the old one.
        open_files.clear();
        const WallTime now = clock();
        RetentionPass total;
        std::error_code ec;
        for (const auto& entry : fs::directory_iterator(logs_dir, ec)) {
            // A symlink is no function's directory, whatever it points at (the ledger's
            // day-files have the same names as the logs').
            if (entry.is_symlink(ec) || !entry.is_directory(ec) ||
                !is_valid_function_name(entry.path().filename().string()))
                continue;
            const RetentionPass pass = enforce_log_retention(entry.path(), settings, now);
            total.files_deleted += pass.files_deleted;
            total.files_trimmed += pass.files_trimmed;
            total.bytes_freed += pass.bytes_freed;
        }
        if (total.files_deleted + total.files_trimmed > 0) {
            spdlog::info("logs: retention deleted {} and trimmed {} day-files, {} bytes", total.files_deleted,
                         total.files_trimmed, total.bytes_freed);
        }
        return total.files_deleted + total.files_trimmed;
    }

    void run_writer() {
        auto next_retention = std::chrono::steady_clock::now() + retention_interval;
        std::unique_lock lock(mutex);
        while (true) {
            work.wait_until(lock, next_retention, [&] { return stopping || !queue.empty(); });
            if (stopping && queue.empty()) break;
            if (std::chrono::steady_clock::now() >= next_retention) {
                lock.unlock();
                retention_pass();
                lock.lock();
                next_retention = std::chrono::steady_clock::now() + retention_interval;
            }
            if (queue.empty()) continue;
            // Collect for a moment: one wake-up and one write(2) per file for many
            // invocations, instead of a wake-up per invocation.
            work.wait_for(lock, batch_interval, [&] { return stopping || drain_requested; });
            drain_requested = false;
            std::vector<InvocationReport> batch;
            batch.swap(queue);
            const uint64_t target = queued;
            lock.unlock();
            write_batch(batch);
            lock.lock();
            written_count = target;
            written.notify_all();
        }
    }

    void drain() {
        std::unique_lock lock(mutex);
        const uint64_t target = queued;
        if (written_count >= target) return;
        drain_requested = true;
        work.notify_one();
        written.wait(lock, [&] { return written_count >= target; });
    }

    // The oldest time the function's log shows: the first day retention keeps, or its
    // deletion under that name.
    WallTime oldest_shown(const std::string& function, WallTime now) const {
        WallTime oldest = std::chrono::floor<std::chrono::days>(now - std::chrono::days(settings.max_age_days));
        std::error_code ec;
        const fs::path marker = logs_dir / function / log_start_file;
        if (!fs::exists(marker, ec)) return oldest;
        try {
            std::string text = read_whole_file(marker);
            while (!text.empty() && text.back() == '\n') text.pop_back();
            if (auto start = parse_time_spec(text, now); start && text.find('T') == 10) oldest = std::max(oldest, *start);
        } catch (const std::exception& e) {
            spdlog::warn("logs: cannot read {}: {}", marker.string(), e.what());
        }
        return oldest;
    }

    RenderedLog read(const std::string& function, const LogQuery& query) const {
        const WallTime now = clock();
        const LogReadLimits limits{now, oldest_shown(function, now), longest_run};
        return read_function_log(ledger, logs_dir / function, function, query, limits);
    }

    void end_followers(const std::string* function, std::string_view why) {
        for (auto it = followers.begin(); it != followers.end();) {
            if (function && it->first != *function) {
                ++it;
                continue;
            }
            if (auto follower = it->second.follower.lock()) follower->on_end(why);
            it = followers.erase(it);
        }
    }
};

FunctionLogStore::FunctionLogStore(fs::path logs_dir, const Ledger& ledger, LogSettings settings,
                                   const Limits& limits, Clock clock)
    : state_(std::make_unique<State>(std::move(logs_dir), ledger, settings, limits, std::move(clock))) {
    // The first pass before anything is written: a daemon that was down a week finds a
    // week to delete.
    state_->retention_pass();
    state_->writer = std::thread([state = state_.get()] { state->run_writer(); });
}

FunctionLogStore::~FunctionLogStore() {
    {
        std::lock_guard lock(state_->mutex);
        state_->stopping = true;
    }
    state_->work.notify_one();
    state_->writer.join();  // after writing everything queued
    std::lock_guard lock(state_->files_mutex);
    state_->end_followers(nullptr, "the daemon is stopping");
}

void FunctionLogStore::append(const InvocationReport& report) {
    if (!is_valid_function_name(report.function)) {
        spdlog::error("logs: request {}: invalid function name, logs dropped", report.request_id);
        return;
    }
    // Most runs print nothing and succeed: their lines are all rendered from the billing
    // record, and only a follower needs the report.
    if (!has_function_log_lines(report) && state_->follower_count.load() == 0) return;
    // The writer thread formats it: the io thread that answers the request only copies the
    // report, but its output (up to 6 MiB), which no log line shows.
    InvocationReport queued = facts_of(report, Captures::keep);
    bool was_idle;
    {
        std::lock_guard lock(state_->mutex);
        was_idle = state_->queue.empty();
        state_->queue.push_back(std::move(queued));
        ++state_->queued;
    }
    if (was_idle) state_->work.notify_one();
}

uint64_t FunctionLogStore::lines_dropped() const {
    return state_->dropped.load();
}

void FunctionLogStore::flush() {
    state_->drain();
}

std::vector<LogLine> FunctionLogStore::tail(const std::string& function, const LogQuery& query) const {
    if (!is_valid_function_name(function)) return {};
    state_->drain();  // every answered invocation's lines are in the file
    return state_->read(function, query).lines;
}

std::vector<LogLine> FunctionLogStore::follow(const std::string& function, const LogQuery& query,
                                              std::weak_ptr<LogFollower> follower) {
    if (!is_valid_function_name(function)) return {};
    state_->drain();
    // The writer writes and tells the followers under files_mutex: what is read here and
    // what the follower is told after are apart, with nothing between.
    std::lock_guard lock(state_->files_mutex);
    auto subscription = state_->followers.emplace(function, Subscription{std::move(follower), LineFilter(query), {}});
    state_->follower_count = state_->followers.size();
    RenderedLog log = state_->read(function, query);
    subscription->second.shown_runs.insert(log.rendered_runs.begin(), log.rendered_runs.end());
    return std::move(log.lines);
}

void FunctionLogStore::remove(const std::string& function) {
    if (!is_valid_function_name(function)) return;
    fs::path directory = state_->logs_dir / function;
    state_->drain();
    std::lock_guard lock(state_->files_mutex);
    for (auto it = state_->open_files.begin(); it != state_->open_files.end();) {
        it = it->first.parent_path() == directory ? state_->open_files.erase(it) : std::next(it);
    }
    state_->end_followers(&function, "the function was deleted");
    state_->follower_count = state_->followers.size();
    std::error_code ec;
    fs::remove_all(directory, ec);
    if (ec) spdlog::warn("logs: cannot remove {}: {}", directory.string(), ec.message());
    // Its billing records stay: a function made again under the name must not show them.
    try {
        fs::create_directories(directory);
        replace_file_atomically(directory / log_start_file, format_rfc3339(state_->clock()) + "\n", 0600);
    } catch (const std::exception& e) {
        spdlog::warn("logs: cannot mark where the log of a new {} starts: {}", function, e.what());
    }
}

uint64_t FunctionLogStore::enforce_retention() {
    state_->drain();
    return state_->retention_pass();
}

}  // namespace sofaas
