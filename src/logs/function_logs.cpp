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

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "common/append_only_file.h"
#include "common/function_spec.h"
#include "logs/invocation_lines.h"
#include "logs/log_retention.h"

namespace sofaas {
namespace fs = std::filesystem;

namespace {

constexpr size_t max_open_files = 64;
constexpr auto batch_interval = std::chrono::milliseconds(10);
// Retention deletes whole files: once a minute is prompt enough, and costs a directory
// listing per function.
constexpr auto retention_interval = std::chrono::minutes(1);

void append_invocation_lines(std::string& out, const InvocationReport& report) {
    for_each_invocation_line(report, [&](std::string_view time, std::string_view stream, std::string_view message) {
        append_log_line(out, time, report.request_id, report.version, stream, message);
    });
}

// Hands the complete lines of `file` to `take`, newest first, until it has accepted
// `count` of them (it returns whether it did), reading backwards in chunks so that a large
// log file costs only what is asked for.
template <typename Take>
void take_last_lines(const fs::path& file, size_t count, const Take& take) {
    int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return;
    size_t taken = 0;
    off_t position = ::lseek(fd, 0, SEEK_END);
    std::string pending;  // bytes after `position` not yet split into lines
    bool tail_dropped = false;
    char buffer[64 * 1024];
    while (position > 0 && taken < count) {
        size_t chunk = static_cast<size_t>(std::min<off_t>(position, sizeof buffer));
        position -= static_cast<off_t>(chunk);
        ssize_t n = ::pread(fd, buffer, chunk, position);
        if (n != static_cast<ssize_t>(chunk)) break;
        pending.insert(0, buffer, chunk);
        if (!tail_dropped) {
            // A line still being written (or torn by a crash) is not a line yet.
            size_t last_newline = pending.rfind('\n');
            if (last_newline == std::string::npos) {
                pending.clear();
                continue;
            }
            pending.erase(last_newline + 1);
            tail_dropped = true;
        }
        // Every line that starts after a newline inside `pending` is complete.
        size_t end = pending.size();
        while (taken < count) {
            if (end == 0) break;
            size_t newline = pending.rfind('\n', end - 1);
            if (newline == std::string::npos) break;
            if (newline + 1 < end && take(std::string_view(pending).substr(newline + 1, end - newline - 1))) ++taken;
            end = newline;
        }
        pending.erase(end);
    }
    if (position == 0 && !pending.empty() && taken < count) take(std::string_view(pending));
    ::close(fd);
}

std::optional<LogLine> parse_log_line(std::string_view text) {
    auto object = nlohmann::json::parse(text.begin(), text.end(), nullptr, false);
    if (!object.is_object()) return std::nullopt;
    try {
        return LogLine{object.at("time").get<std::string>(), object.at("request_id").get<std::string>(),
                       object.at("version").get<uint32_t>(), object.at("stream").get<std::string>(),
                       object.at("message").get<std::string>()};
    } catch (const nlohmann::json::exception&) {
        return std::nullopt;
    }
}

// A query with its bounds as the stored text compares them: the times are all RFC 3339 in
// UTC with microseconds, so they sort as strings.
struct LineFilter {
    explicit LineFilter(const LogQuery& query)
        : since(query.since ? format_rfc3339(*query.since) : std::string()), request_id(query.request_id) {}

    bool matches(const LogLine& line) const {
        return (since.empty() || line.time >= since) && (!request_id || line.request_id == *request_id);
    }
    // Cheap enough to run on every stored line before parsing it: a line of another
    // request cannot contain this one's id as its request_id.
    bool may_match(std::string_view text) const {
        return !request_id || text.find(*request_id) != std::string_view::npos;
    }

    std::string since;
    std::optional<std::string> request_id;
};

struct Subscription {
    std::weak_ptr<LogFollower> follower;
    LineFilter filter;
};

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
    fs::path logs_dir;
    LogSettings settings;
    Clock clock;

    // The writer's, or under files_mutex: the files, and who follows them.
    std::mutex files_mutex;
    std::map<fs::path, std::shared_ptr<AppendOnlyFile>> open_files;
    std::multimap<std::string, Subscription> followers;  // by function
    bool failing = false;  // the last write failed
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
    void tell_followers(const std::vector<InvocationReport>& batch) {
        std::erase_if(followers, [](const auto& entry) { return entry.second.follower.expired(); });
        if (followers.empty()) return;
        for (const InvocationReport& report : batch) {
            auto [first, last] = followers.equal_range(report.function);
            for (auto it = first; it != last; ++it) {
                const LineFilter& filter = it->second.filter;
                std::string text;
                size_t count = 0;
                for_each_invocation_line(report, [&](std::string_view time, std::string_view stream,
                                                     std::string_view message) {
                    if (!filter.since.empty() && time < filter.since) return;
                    if (filter.request_id && report.request_id != *filter.request_id) return;
                    append_log_line(text, time, report.request_id, report.version, stream, message);
                    ++count;
                });
                if (count == 0) continue;
                if (auto follower = it->second.follower.lock()) follower->on_lines(text, count);
            }
        }
    }

    void write_batch(const std::vector<InvocationReport>& batch) {
        // Consecutive invocations of one function share a file: one write(2) for all of them.
        struct FileText {
            std::string text;
            std::string first_request;  // names the batch in an error
        };
        std::map<std::pair<std::string, std::string>, FileText> by_file;  // (function, day)
        for (const InvocationReport& report : batch) {
            FileText& file = by_file[{report.function, format_date(report.start)}];
            if (file.text.empty()) file.first_request = report.request_id;
            append_invocation_lines(file.text, report);
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
                dropped += static_cast<uint64_t>(std::count(file.text.begin(), file.text.end(), '\n'));
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

    // Under files_mutex or before the writer runs.
    std::vector<LogLine> read_tail(const std::string& function, const LogQuery& query) const {
        std::vector<LogLine> newest_first;
        if (query.count == 0) return newest_first;
        const LineFilter filter(query);
        const std::string first_day = query.since ? format_date(*query.since) : std::string();
        std::vector<fs::path> files;
        std::error_code ec;
        for (const auto& entry : fs::directory_iterator(logs_dir / function, ec)) {
            if (is_log_day_file(entry.path()) && entry.path().stem().string() >= first_day) {
                files.push_back(entry.path());
            }
        }
        std::sort(files.rbegin(), files.rend());  // newest day first
        for (const auto& file : files) {
            auto take = [&](std::string_view text) {
                if (!filter.may_match(text)) return false;
                std::optional<LogLine> parsed = parse_log_line(text);
                if (!parsed) {
                    spdlog::warn("logs: skipping corrupt line in {}", file.string());
                    return false;
                }
                if (!filter.matches(*parsed)) return false;
                newest_first.push_back(std::move(*parsed));
                return true;
            };
            take_last_lines(file, query.count - newest_first.size(), take);
            if (newest_first.size() >= query.count) break;
        }
        return {newest_first.rbegin(), newest_first.rend()};
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

FunctionLogStore::FunctionLogStore(fs::path logs_dir, LogSettings settings, Clock clock)
    : state_(std::make_unique<State>()) {
    state_->logs_dir = std::move(logs_dir);
    state_->settings = settings;
    state_->clock = std::move(clock);
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
    return state_->read_tail(function, query);
}

std::vector<LogLine> FunctionLogStore::follow(const std::string& function, const LogQuery& query,
                                              std::weak_ptr<LogFollower> follower) {
    if (!is_valid_function_name(function)) return {};
    state_->drain();
    // The writer writes and tells the followers under files_mutex: what is read here and
    // what the follower is told after are apart, with nothing between.
    std::lock_guard lock(state_->files_mutex);
    std::vector<LogLine> lines = state_->read_tail(function, query);
    state_->followers.emplace(function, Subscription{std::move(follower), LineFilter(query)});
    return lines;
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
    std::error_code ec;
    fs::remove_all(directory, ec);
    if (ec) spdlog::warn("logs: cannot remove {}: {}", directory.string(), ec.message());
}

uint64_t FunctionLogStore::enforce_retention() {
    state_->drain();
    return state_->retention_pass();
}

}  // namespace sofaas
