// The lines one invocation's report makes in its function's log, shared by the log store
// (which writes them) and the invocation's own log tail (X-Amz-Log-Result). Internal to
// src/logs/.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "common/invocation_report.h"

namespace sofaas {

// Receives an invocation's lines: (time, stream, message); stream is stdout, stderr or
// platform.
using LogLineSink = std::function<void(std::string_view, std::string_view, std::string_view)>;

// A run: START, each captured line, the failure's lines when it did not succeed, END and
// REPORT. A throttled or refused invocation, which never ran: one platform line saying so.
// START / END / REPORT repeat the billing record's facts, so a reader could render them
// from it; the captured lines and the failure's lines are the log's own.
void for_each_invocation_line(const InvocationReport& report, const LogLineSink& sink);

// One JSON log line (as stored) and its '\n'.
void append_log_line(std::string& out, std::string_view time, std::string_view request_id, uint32_t version,
                     std::string_view stream, std::string_view message);

}  // namespace sofaas
