// Function logs: what each invocation wrote to stdout/stderr, framed by Lambda-style
// START / END / REPORT lines (and, for a failure, "ERROR RequestId: ID errorType:
// errorMessage" before END), in DATA/logs/NAME/YYYY-MM-DD.jsonl (one JSON object a line:
// {"time","request_id","version","stream":"stdout|stderr|platform","message"}).
#pragma once

#include <cstddef>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "common/invocation_report.h"

namespace sofaas {

struct LogLine {
    std::string time;     // RFC 3339
    std::string request_id;
    uint32_t version = 0;
    std::string stream;   // stdout | stderr | platform
    std::string message;
};

// "REPORT RequestId: ...\tDuration: 1.23 ms\tBilled Duration: 2 ms\tMemory Size: 128 MB
//  \tMax Memory Used: 5 MB[\tInit Duration: 0.80 ms]" (tab-separated, as Lambda's)
std::string report_line(const InvocationReport& report);

class FunctionLogStore {
public:
    explicit FunctionLogStore(std::filesystem::path logs_dir);
    ~FunctionLogStore();

    // Thread-safe. Queues START, each captured line, ERROR for a failure, END and REPORT for
    // the writer thread, which writes them (and whatever else is queued for that file) in
    // one write(2), so an invocation's lines never interleave with another's. Copies the
    // report but its output, which no line shows. Failures are logged (with the request
    // id), never thrown: logs are best effort. tail() and remove() see every line appended
    // before they were called.
    void append(const InvocationReport& report);
    // Returns once every line appended so far is written to its file.
    void flush();
    // The last `count` lines of a function's logs, oldest first.
    std::vector<LogLine> tail(const std::string& function, size_t count) const;
    void remove(const std::string& function);
    // Lines not written since the start (a full or failing disk): logs are best effort,
    // and a log that cannot be written never holds up or fails an invocation.
    uint64_t lines_dropped() const;

private:
    struct State;
    std::unique_ptr<State> state_;
};

std::string to_json(const LogLine& line);

// One invocation's lines as plain text, as Lambda's tail of an invocation's log gives them
// (X-Amz-Log-Result): START, the function's lines (request id, tab, line), ERROR, END,
// REPORT; the last `max_bytes` of it.
std::string invocation_log_text(const InvocationReport& report, size_t max_bytes);

}  // namespace sofaas
