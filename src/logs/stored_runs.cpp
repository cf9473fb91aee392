#include "logs/stored_runs.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <limits>
#include <system_error>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "common/json_writer.h"
#include "logs/invocation_lines.h"
#include "logs/log_retention.h"

namespace sofaas {
namespace fs = std::filesystem;

namespace {

constexpr std::string_view written_prefix = R"({"written":")";
constexpr std::string_view legacy_prefix = R"({"time":")";
constexpr size_t timestamp_size = 27;  // 2026-11-27T12:00:00.000000Z

// Strictly a timestamp: parse_time_spec would also take "1h" or a bare date.
std::optional<WallTime> parse_timestamp(std::string_view text) {
    if (text.size() < 11 || text[10] != 'T') return std::nullopt;
    return parse_time_spec(text, WallTime{});
}

// The time an object's first field holds, read without parsing the object: the scan
// backwards decides where to stop on it.
std::optional<WallTime> leading_time(std::string_view text, std::string_view prefix) {
    if (!text.starts_with(prefix) || text.size() < prefix.size() + timestamp_size) return std::nullopt;
    return parse_timestamp(text.substr(prefix.size(), timestamp_size));
}

// A line of an earlier version's file that repeats its run's billing record. Only ever
// asked of a platform line, which the platform wrote, never the function.
bool is_legacy_frame(std::string_view message, std::string_view request_id) {
    auto names = [&](std::string_view kind, std::string_view after) {
        if (!message.starts_with(kind)) return false;
        std::string_view rest = message.substr(kind.size());
        if (!rest.starts_with(request_id)) return false;
        rest.remove_prefix(request_id.size());
        return after.empty() ? rest.empty() : rest.starts_with(after);
    };
    return names("START RequestId: ", " Version: ") || names("END RequestId: ", "") ||
           names("REPORT RequestId: ", "\t");
}

std::optional<StoredRun> parse_group(const nlohmann::json& object) {
    StoredRun run;
    run.request_id = object.at("request_id").get<std::string>();
    run.version = object.at("version").get<uint32_t>();
    if (auto attempt = object.find("attempt"); attempt != object.end()) run.attempt = attempt->get<uint32_t>();
    const std::string start = object.at("start").get<std::string>();
    const auto start_time = parse_timestamp(start);
    const auto written = parse_timestamp(object.at("written").get<std::string>());
    if (!start_time || !written) return std::nullopt;
    run.start = *start_time;
    run.written = *written;
    if (auto refused = object.find("refused"); refused != object.end() && refused->get<bool>()) {
        run.kind = StoredKind::refusal;
    }
    for (const auto& line : object.at("lines")) {
        auto time = line.find("time");
        run.lines.push_back(LogLine{time == line.end() ? start : time->get<std::string>(), run.request_id,
                                    run.version, line.at("stream").get<std::string>(),
                                    line.at("message").get<std::string>()});
    }
    return run;
}

std::optional<StoredRun> parse_legacy_line(const nlohmann::json& object) {
    LogLine line{object.at("time").get<std::string>(), object.at("request_id").get<std::string>(),
                 object.at("version").get<uint32_t>(), object.at("stream").get<std::string>(),
                 object.at("message").get<std::string>()};
    const auto time = parse_timestamp(line.time);
    if (!time) return std::nullopt;
    StoredRun run;
    run.kind = line.stream == "platform" && is_legacy_frame(line.message, line.request_id) ? StoredKind::legacy_frame
                                                                                          : StoredKind::legacy_line;
    run.request_id = line.request_id;
    run.version = line.version;
    run.start = run.written = *time;
    run.lines.push_back(std::move(line));
    return run;
}

// Hands the complete lines of `file` to `take`, newest first, until it returns false,
// reading backwards in chunks so that a large log file costs only what is asked for.
template <typename Take>
void read_lines_backwards(const fs::path& file, const Take& take) {
    int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return;
    off_t position = ::lseek(fd, 0, SEEK_END);
    std::string pending;  // bytes after `position` not yet split into lines
    bool tail_dropped = false;
    bool more = true;
    char buffer[64 * 1024];
    while (position > 0 && more) {
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
        while (more && end > 0) {
            size_t newline = pending.rfind('\n', end - 1);
            if (newline == std::string::npos) break;
            if (newline + 1 < end) more = take(std::string_view(pending).substr(newline + 1, end - newline - 1));
            end = newline;
        }
        pending.erase(end);
    }
    if (position == 0 && more && !pending.empty()) take(std::string_view(pending));
    ::close(fd);
}

}  // namespace

size_t append_stored_run(std::string& out, const InvocationReport& report, WallTime written) {
    if (!has_function_log_lines(report)) return 0;
    size_t lines = 0;
    const std::string start = format_rfc3339(report.start);
    JsonWriter json(out);
    json.begin_object()
        .field("written", format_rfc3339(written))
        .field("request_id", report.request_id)
        .field("version", report.version);
    if (report.attempt > 0) json.field("attempt", report.attempt);
    json.field("start", start);
    if (is_refusal(report)) json.field("refused", true);
    json.key("lines").begin_array();
    // Function output is arbitrary bytes: invalid UTF-8 becomes U+FFFD instead of an error.
    for_each_invocation_line(report, [&](std::string_view time, LineSource source, std::string_view stream,
                                         std::string_view message) {
        if (source != LineSource::function_log) return;
        json.begin_object();
        if (time != start) json.field("time", time);
        json.field("stream", stream).field("message", message).end_object();
        ++lines;
    });
    json.end_array().end_object();
    out += '\n';
    return lines;
}

std::optional<StoredRun> parse_stored_run(std::string_view text) {
    auto object = nlohmann::json::parse(text.begin(), text.end(), nullptr, false);
    if (!object.is_object()) return std::nullopt;
    try {
        return object.contains("lines") ? parse_group(object) : parse_legacy_line(object);
    } catch (const nlohmann::json::exception&) {
        return std::nullopt;  // a field is missing or has the wrong type
    }
}

std::vector<StoredRun> read_stored_runs(const fs::path& function_dir, WallTime first_day, WallTime written_from,
                                        std::chrono::microseconds legacy_lookback,
                                        const std::optional<std::string>& request_id) {
    const std::string first_date = format_date(first_day);
    std::vector<fs::path> files;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(function_dir, ec)) {
        if (is_log_day_file(entry.path()) && entry.path().stem().string() >= first_date) files.push_back(entry.path());
    }
    std::sort(files.rbegin(), files.rend());  // newest day first
    std::vector<StoredRun> runs;
    for (const auto& file : files) {
        read_lines_backwards(file, [&](std::string_view text) {
            if (auto written = leading_time(text, written_prefix); written && *written < written_from) return false;
            if (auto time = leading_time(text, legacy_prefix); time && *time < written_from - legacy_lookback) {
                return false;
            }
            // Cheap enough to run on every stored line before parsing it.
            if (request_id && text.find(*request_id) == std::string_view::npos) return true;
            std::optional<StoredRun> run = parse_stored_run(text);
            if (!run) {
                spdlog::warn("logs: skipping corrupt line in {}", file.string());
                return true;
            }
            if (run->written < written_from && run->kind != StoredKind::legacy_line &&
                run->kind != StoredKind::legacy_frame) {
                return false;
            }
            if (!request_id || run->request_id == *request_id) runs.push_back(std::move(*run));
            return true;
        });
    }
    std::reverse(runs.begin(), runs.end());  // oldest first, as written
    return runs;
}

}  // namespace sofaas
