#include "logs/function_logs.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <system_error>
#include <thread>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "common/append_only_file.h"
#include "common/function_spec.h"
#include "common/json_writer.h"
#include "common/number_text.h"

namespace sofaas {
namespace fs = std::filesystem;

namespace {

// A function that prints without end must not fill the disk through its logs.
constexpr size_t max_captured_bytes_per_stream = 1024 * 1024;
constexpr size_t max_open_files = 64;
constexpr auto batch_interval = std::chrono::milliseconds(10);

// One log line and its '\n'. Several per invocation: JsonWriter, not a DOM. Function output
// is arbitrary bytes: invalid UTF-8 becomes U+FFFD instead of an error.
void append_log_line(std::string& out, std::string_view time, std::string_view request_id, uint32_t version,
                     std::string_view stream, std::string_view message) {
    JsonWriter(out)
        .begin_object()
        .field("time", time)
        .field("request_id", request_id)
        .field("version", version)
        .field("stream", stream)
        .field("message", message)
        .end_object();
    out += '\n';
}

void append_report_line(std::string& out, const InvocationReport& report) {
    out += "REPORT RequestId: ";
    out += report.request_id;
    out += "\tDuration: ";
    append_fixed(out, report.duration_ms, 2);
    out += " ms\tBilled Duration: ";
    out += std::to_string(report.billed_ms);
    out += " ms\tMemory Size: ";
    out += std::to_string(report.memory_mb);
    out += " MB\tMax Memory Used: ";
    out += std::to_string(report.max_memory_used_mb);
    out += " MB";
    if (report.init_ms) {
        out += "\tInit Duration: ";
        append_fixed(out, *report.init_ms, 2);
        out += " ms";
    }
}

// Receives an invocation's lines: (time, stream, message).
using LineSink = std::function<void(std::string_view, std::string_view, std::string_view)>;

class LineWriter {
public:
    LineWriter(const LineSink& sink) : sink_(sink) {}

    void set_time(WallTime time) {
        time_.clear();
        append_rfc3339(time_, time);
    }

    void add(std::string_view stream, std::string_view message) { sink_(time_, stream, message); }

    // Split on '\n'; a last line without its newline is still a line.
    void add_output(std::string_view stream, std::string_view captured) {
        size_t dropped = 0;
        if (captured.size() > max_captured_bytes_per_stream) {
            dropped = captured.size() - max_captured_bytes_per_stream;
            captured = captured.substr(0, max_captured_bytes_per_stream);
        }
        while (!captured.empty()) {
            size_t end = captured.find('\n');
            std::string_view line = captured.substr(0, end);
            if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
            add(stream, line);
            captured = end == std::string_view::npos ? std::string_view{} : captured.substr(end + 1);
        }
        if (dropped > 0) add("platform", std::string(stream) + " truncated: " + std::to_string(dropped) + " bytes dropped");
    }

private:
    const LineSink& sink_;
    std::string time_;
};

// START, each captured line, ERROR when the invocation failed, END and REPORT.
void for_each_invocation_line(const InvocationReport& report, const LineSink& sink) {
    LineWriter writer(sink);
    writer.set_time(report.start);
    std::string message = "START RequestId: " + report.request_id + " Version: " + std::to_string(report.version);
    writer.add("platform", message);
    writer.add_output("stdout", report.captured_stdout);
    writer.add_output("stderr", report.captured_stderr);
    writer.set_time(report.start + std::chrono::microseconds(static_cast<int64_t>(report.duration_ms * 1000)));
    // Anonymous HTTP callers get a generic error: the function's owner reads the real one here.
    if (report.status != InvocationStatus::ok) {
        const InvocationError error = error_of(report);
        message = "ERROR RequestId: " + report.request_id + " ";
        message.append(error.error_type + ": " + error.error_message, 0, max_captured_bytes_per_stream);
        writer.add("platform", message);
    }
    message = "END RequestId: " + report.request_id;
    writer.add("platform", message);
    message.clear();
    append_report_line(message, report);
    writer.add("platform", message);
}

void append_invocation_lines(std::string& out, const InvocationReport& report) {
    for_each_invocation_line(report, [&](std::string_view time, std::string_view stream, std::string_view message) {
        append_log_line(out, time, report.request_id, report.version, stream, message);
    });
}

// Up to `count` complete lines from the end of `file`, newest first, reading backwards in
// chunks so a large log file costs only what is asked for.
std::vector<std::string> last_lines(const fs::path& file, size_t count) {
    std::vector<std::string> lines;
    int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return lines;
    off_t position = ::lseek(fd, 0, SEEK_END);
    std::string pending;  // bytes after `position` not yet split into lines
    bool tail_dropped = false;
    char buffer[64 * 1024];
    while (position > 0 && lines.size() < count) {
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
        while (lines.size() < count) {
            if (end == 0) break;
            size_t newline = pending.rfind('\n', end - 1);
            if (newline == std::string::npos) break;
            if (newline + 1 < end) lines.emplace_back(pending, newline + 1, end - newline - 1);
            end = newline;
        }
        pending.erase(end);
    }
    if (position == 0 && !pending.empty() && lines.size() < count) lines.push_back(pending);
    ::close(fd);
    return lines;
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

bool is_day_file(const fs::path& file) {
    return file.extension() == ".jsonl" && file.stem().string().size() == 10;
}

}  // namespace

std::string report_line(const InvocationReport& report) {
    std::string line;
    append_report_line(line, report);
    return line;
}

std::string invocation_log_text(const InvocationReport& report, size_t max_bytes) {
    std::string text;
    for_each_invocation_line(report, [&](std::string_view, std::string_view stream, std::string_view message) {
        // Lambda's tail: the platform's lines as they are, the function's with their request id.
        if (stream != "platform") {
            text += report.request_id;
            text += '\t';
        }
        text += message;
        text += '\n';
    });
    if (text.size() > max_bytes) text.erase(0, text.size() - max_bytes);
    return text;
}

std::string to_json(const LogLine& line) {
    std::string text;
    append_log_line(text, line.time, line.request_id, line.version, line.stream, line.message);
    text.pop_back();  // the '\n'
    return text;
}

// Logs are not billing-critical, so their formatting and write(2) leave the request path:
// append() queues the invocation's fields and one background thread formats them and
// writes each file's queued lines in one write(2) per batch. Readers (tail, remove) wait
// for the queue to drain first.
struct FunctionLogStore::State {

    fs::path logs_dir;
    std::map<fs::path, std::shared_ptr<AppendOnlyFile>> open_files;  // the writer's, or under files_mutex
    std::mutex files_mutex;
    bool failing = false;  // under files_mutex: the last write failed
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
    }

    void run_writer() {
        std::unique_lock lock(mutex);
        while (true) {
            work.wait(lock, [&] { return stopping || !queue.empty(); });
            if (queue.empty()) break;  // stopping, and nothing left to write
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
};

FunctionLogStore::FunctionLogStore(fs::path logs_dir) : state_(std::make_unique<State>()) {
    state_->logs_dir = std::move(logs_dir);
    state_->writer = std::thread([state = state_.get()] { state->run_writer(); });
}

FunctionLogStore::~FunctionLogStore() {
    {
        std::lock_guard lock(state_->mutex);
        state_->stopping = true;
    }
    state_->work.notify_one();
    state_->writer.join();  // after writing everything queued
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

std::vector<LogLine> FunctionLogStore::tail(const std::string& function, size_t count) const {
    std::vector<LogLine> newest_first;
    if (!is_valid_function_name(function) || count == 0) return newest_first;
    state_->drain();  // every answered invocation's lines are in the file
    std::vector<fs::path> files;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(state_->logs_dir / function, ec)) {
        if (is_day_file(entry.path())) files.push_back(entry.path());
    }
    std::sort(files.rbegin(), files.rend());  // newest day first
    for (const auto& file : files) {
        for (const auto& text : last_lines(file, count - newest_first.size())) {
            if (auto line = parse_log_line(text)) {
                newest_first.push_back(std::move(*line));
            } else {
                spdlog::warn("logs: skipping corrupt line in {}", file.string());
            }
        }
        if (newest_first.size() >= count) break;
    }
    return {newest_first.rbegin(), newest_first.rend()};
}

void FunctionLogStore::remove(const std::string& function) {
    if (!is_valid_function_name(function)) return;
    fs::path directory = state_->logs_dir / function;
    state_->drain();
    std::lock_guard lock(state_->files_mutex);
    for (auto it = state_->open_files.begin(); it != state_->open_files.end();) {
        it = it->first.parent_path() == directory ? state_->open_files.erase(it) : std::next(it);
    }
    std::error_code ec;
    fs::remove_all(directory, ec);
    if (ec) spdlog::warn("logs: cannot remove {}: {}", directory.string(), ec.message());
}

}  // namespace sofaas
