#include "logs/invocation_lines.h"

#include <cmath>

#include "common/json_writer.h"
#include "common/number_text.h"
#include "logs/function_logs.h"

namespace sofaas {
namespace {

// A function that prints without end must not fill the disk through its logs.
constexpr size_t max_captured_bytes_per_stream = 1024 * 1024;

// The ledger keeps durations to the microsecond: a line rendered from the report as it is
// written and one rendered from its record read back must agree.
double to_microseconds(double ms) {
    return std::round(ms * 1000.0) / 1000.0;
}

void append_report(std::string& out, const InvocationReport& report) {
    out += "REPORT RequestId: ";
    out += report.request_id;
    out += "\tDuration: ";
    append_fixed(out, to_microseconds(report.duration_ms), 2);
    out += " ms\tBilled Duration: ";
    out += std::to_string(report.billed_ms);
    out += " ms\tMemory Size: ";
    out += std::to_string(report.memory_mb);
    out += " MB\tMax Memory Used: ";
    out += std::to_string(report.max_memory_used_mb);
    out += " MB";
    if (report.init_ms) {
        out += "\tInit Duration: ";
        append_fixed(out, to_microseconds(*report.init_ms), 2);
        out += " ms";
    }
}

// A message the function chose may be long: the log keeps its first megabyte.
std::string capped(std::string text) {
    if (text.size() > max_captured_bytes_per_stream) text.resize(max_captured_bytes_per_stream);
    return text;
}

class InvocationLineWriter {
public:
    explicit InvocationLineWriter(const LogLineSink& sink) : sink_(sink) {}

    void set_time(WallTime time) {
        time_.clear();
        append_rfc3339(time_, time);
    }

    void add(std::string_view stream, std::string_view message) {
        sink_(time_, LineSource::function_log, stream, message);
    }
    void add_frame(std::string_view message) { sink_(time_, LineSource::billing_record, "platform", message); }

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
    const LogLineSink& sink_;
    std::string time_;
};

// Why the invocation failed, in Lambda's words where Lambda has them. Which lines is decided
// by the status and phase the platform observed; the function's errorType and errorMessage
// are only ever shown, never read.
void add_failure_lines(InvocationLineWriter& writer, const InvocationReport& report) {
    const InvocationError error = error_of(report);
    const std::string request = "RequestId: " + report.request_id;
    if (report.failed_in_init) {
        std::string init_report = "INIT_REPORT Init Duration: ";
        append_fixed(init_report, report.init_ms.value_or(0), 2);
        init_report += " ms\tPhase: init\tStatus: " + std::string(to_string(report.status)) +
                       "\tError Type: " + error.error_type;
        writer.add("platform", capped(std::move(init_report)));
    }
    switch (report.status) {
        case InvocationStatus::error: {
            // As a runtime logs a handler's error: the error object the caller got.
            std::string message = "ERROR " + request + " Invoke Error ";
            JsonWriter(message)
                .begin_object()
                .field("errorType", error.error_type)
                .field("errorMessage", error.error_message)
                .end_object();
            writer.add("platform", capped(std::move(message)));
            return;
        }
        case InvocationStatus::timeout:
        case InvocationStatus::crash:
        case InvocationStatus::oom:
            // "RequestId: ID Error: Runtime exited with error: signal: segmentation fault
            // (SIGSEGV)" and then "Runtime.ExitError", as Lambda logs a runtime's end.
            writer.add("platform", capped(request + " Error: " + error.error_message));
            writer.add("platform", capped(error.error_type));
            return;
        case InvocationStatus::host_fault:
            writer.add("platform", capped(request + " Host fault (not the function's, not billed): " +
                                          error.error_message + " (" + error.error_type + ")"));
            return;
        case InvocationStatus::ok:
        case InvocationStatus::throttled:
        case InvocationStatus::unavailable: return;  // never ran: for_each_invocation_line
    }
}

}  // namespace

std::string report_line(const InvocationReport& report) {
    std::string line;
    append_report(line, report);
    return line;
}

void append_log_line(std::string& out, std::string_view time, std::string_view request_id, uint32_t version,
                     std::string_view stream, std::string_view message) {
    // Several per invocation: JsonWriter, not a DOM. Function output is arbitrary bytes:
    // invalid UTF-8 becomes U+FFFD instead of an error.
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

bool is_refusal(const InvocationReport& report) {
    return report.status == InvocationStatus::throttled || report.status == InvocationStatus::unavailable;
}

bool has_function_log_lines(const InvocationReport& report) {
    return report.status != InvocationStatus::ok || !report.captured_stdout.empty() ||
           !report.captured_stderr.empty();
}

FrameLines frame_lines(const InvocationReport& record) {
    FrameLines frame;
    frame.start_time = record.start;
    frame.start = "START RequestId: " + record.request_id + " Version: " + std::to_string(record.version);
    frame.end_time = record.start + std::chrono::microseconds(std::llround(record.duration_ms * 1000.0));
    frame.end = "END RequestId: " + record.request_id;
    append_report(frame.report, record);
    return frame;
}

void for_each_invocation_line(const InvocationReport& report, const LogLineSink& sink) {
    InvocationLineWriter writer(sink);
    writer.set_time(report.start);
    if (is_refusal(report)) {
        // Refused before it ran (the scheduler logs only those): no START, no REPORT,
        // nothing billed.
        const InvocationError error = error_of(report);
        std::string message = "RequestId: " + report.request_id + " Not run: " + error.error_message + " (" +
                              error.error_type + ")";
        if (!report.refusal_reason.empty()) message += ": " + report.refusal_reason;
        writer.add("platform", capped(std::move(message)));
        return;
    }
    const FrameLines frame = frame_lines(report);
    writer.add_frame(frame.start);
    writer.add_output("stdout", report.captured_stdout);
    writer.add_output("stderr", report.captured_stderr);
    writer.set_time(frame.end_time);
    // Anonymous HTTP callers get a generic error: the function's owner reads the real one here.
    if (report.status != InvocationStatus::ok) add_failure_lines(writer, report);
    writer.add_frame(frame.end);
    writer.add_frame(frame.report);
}

std::string invocation_log_text(const InvocationReport& report, size_t max_bytes) {
    std::string text;
    for_each_invocation_line(report, [&](std::string_view, LineSource, std::string_view stream,
                                         std::string_view message) {
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

}  // namespace sofaas
