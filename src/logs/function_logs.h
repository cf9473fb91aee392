// Function logs: what each invocation wrote to stdout/stderr, framed by Lambda-style
// START / END / REPORT lines, with the reason of every invocation that did not succeed
// (invocation_lines.h). Only the function's own lines and the failures' reasons are stored
// (stored_runs.h: DATA/logs/NAME/YYYY-MM-DD.jsonl); START / END / REPORT say what the run's
// billing record says and are rendered from it when the log is read (log_reader.h says
// what a read costs), and from the report itself for followers, who watch live. A run that
// succeeded and printed nothing stores nothing. Kept within the size and age limits of
// LogSettings (log_retention.h).
#pragma once

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/config.h"
#include "common/invocation_report.h"
#include "common/time.h"

namespace sofaas {

class Ledger;

// A line as readers get it: {"time","request_id","version","stream":"stdout|stderr|platform",
// "message"}.
struct LogLine {
    std::string time;     // RFC 3339
    std::string request_id;
    uint32_t version = 0;
    std::string stream;   // stdout | stderr | platform
    std::string message;
};

// The most lines one read returns: more is refused (400), not cut.
inline constexpr size_t max_log_tail_lines = 10'000;

// Which lines a reader wants: the last `count` of those at or after `since` (if set) of
// the invocation `request_id` (if set), oldest first.
struct LogQuery {
    size_t count = 100;
    std::optional<WallTime> since;
    std::optional<std::string> request_id;
};

// "REPORT RequestId: ...\tDuration: 1.23 ms\tBilled Duration: 2 ms\tMemory Size: 128 MB
//  \tMax Memory Used: 5 MB[\tInit Duration: 0.80 ms]" (tab-separated, as Lambda's)
std::string report_line(const InvocationReport& report);

// Someone watching a function's log as it is written (GET .../logs?follow=1). Called on the
// log writer's thread: must return at once, never block.
class LogFollower {
public:
    virtual ~LogFollower() = default;
    // New lines that match the follower's query (LogLine JSON, '\n' after each).
    virtual void on_lines(std::string_view jsonl, size_t count) = 0;
    // No line will follow: the function was deleted, or the store is stopping.
    virtual void on_end(std::string_view why) = 0;
};

class FunctionLogStore {
public:
    using Clock = std::function<WallTime()>;
    // `ledger` (which must outlive the store) holds the records START / END / REPORT are
    // rendered from; `limits` bound how long after its start a run's last line may come.
    FunctionLogStore(std::filesystem::path logs_dir, const Ledger& ledger, LogSettings settings = {},
                     const Limits& limits = {}, Clock clock = wall_now);
    ~FunctionLogStore();  // ends every follower

    // Thread-safe; call it after the run's billing record is appended. Queues the
    // invocation's own lines (what it printed, the failure's lines, or for an invocation
    // refused before it ran one line saying why) for the writer thread, which writes them
    // (and whatever else is queued for that file) in one write(2), so an invocation's lines
    // never interleave with another's, and tells the followers every line, START / END /
    // REPORT included. A run with no line of its own is not even queued unless someone
    // follows. Copies the report but its output, which no line shows. Failures are logged
    // (with the request id), never thrown: logs are best effort. tail() and remove() see
    // every line appended before they were called.
    void append(const InvocationReport& report);
    // Returns once every line appended so far is written to its file.
    void flush();
    // Reads the files (call it off the io threads).
    std::vector<LogLine> tail(const std::string& function, const LogQuery& query) const;
    // tail(), and from then on every new line of the function that matches the query goes
    // to `follower`, none twice and none missed, until it ends or is destroyed (held weakly).
    std::vector<LogLine> follow(const std::string& function, const LogQuery& query,
                                std::weak_ptr<LogFollower> follower);
    // Deletes the function's logs; its followers end. Its billing records stay, but a
    // function made again under that name does not show them in its log (DATA/logs/NAME/
    // log-start says since when it is the new one's).
    void remove(const std::string& function);
    // Lines not written since the start (a full or failing disk): logs are best effort,
    // and a log that cannot be written never holds up or fails an invocation.
    uint64_t lines_dropped() const;
    // One retention pass over every function now. The store runs one when it is made,
    // then its writer thread one a minute, between batches: an invocation never waits. Returns the files it
    // deleted or trimmed.
    uint64_t enforce_retention();

private:
    struct State;
    std::unique_ptr<State> state_;
};

std::string to_json(const LogLine& line);

// One invocation's lines as plain text, as Lambda's tail of an invocation's log gives them
// (X-Amz-Log-Result): START, the function's lines (request id, tab, line), the failure's,
// END, REPORT; the last `max_bytes` of it.
std::string invocation_log_text(const InvocationReport& report, size_t max_bytes);

}  // namespace sofaas
