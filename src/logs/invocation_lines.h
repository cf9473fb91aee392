// The lines one invocation's report makes in its function's log, shared by the log store
// (which stores the function's own and tells followers all of them), the log reader (which
// renders START / END / REPORT from billing records) and the invocation's own log tail
// (X-Amz-Log-Result). Internal to src/logs/.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "common/invocation_report.h"
#include "common/time.h"

namespace sofaas {

// Where a line lives once the invocation is over.
enum class LineSource {
    // START, END, REPORT: they say what the billing record says, so they are rendered from
    // it when the log is read (frame_lines), never stored.
    billing_record,
    // What the function printed, why it failed, why it was not run: the log's own.
    function_log,
};

// Receives an invocation's lines: (time, source, stream, message); stream is stdout,
// stderr or platform.
using LogLineSink =
    std::function<void(std::string_view, LineSource, std::string_view, std::string_view)>;

// A run: START, each captured line, the failure's lines when it did not succeed, END and
// REPORT. A throttled or refused invocation, which never ran: one platform line saying so.
void for_each_invocation_line(const InvocationReport& report, const LogLineSink& sink);

// Whether the report has lines of LineSource::function_log: a run that printed nothing and
// succeeded has none.
bool has_function_log_lines(const InvocationReport& report);

// A throttled or refused invocation: never ran, has no billing record.
bool is_refusal(const InvocationReport& report);

// START, END and REPORT of a run, from its report or its billing record alike.
struct FrameLines {
    WallTime start_time;
    std::string start;
    WallTime end_time;  // END and REPORT, and the failure's lines
    std::string end;
    std::string report;
};
FrameLines frame_lines(const InvocationReport& record);

// One JSON log line (as the API shows it) and its '\n'.
void append_log_line(std::string& out, std::string_view time, std::string_view request_id, uint32_t version,
                     std::string_view stream, std::string_view message);

}  // namespace sofaas
