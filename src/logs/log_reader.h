// Reading a function's log: the billing records of its runs (START / END / REPORT, rendered)
// merged with what its log stores (stored_runs.h). Internal to src/logs/.
//
// The merged log, oldest first: for each record of the function, START, that run's stored
// lines in order, END, REPORT, placed at the run's start; a refused invocation's line (it
// has no record), and stored lines whose record is missing, alone at their own time. The
// query's request id, `since` and `count` then apply to the lines, as to any log.
//
// What a read costs: the ledger is asked for the function's records of the last second,
// then of the last minute, hour, day, 30 days, year (each step only the part not read
// yet) until the window holds `count` matching lines, or, with a request id, its first run;
// at most back to the oldest line retention keeps (max_age_days) or the function's
// deletion. A step is at most 60 times the one before and is taken only when that one
// held fewer than N lines (a run makes at least three): a tail of N lines reads fewer than
// about 20 N records beyond those it shows, in at most seven ledger queries. A request id
// the log does not know, or a quiet function, reads back to the limit. With `since`, runs that started up to the
// longest run before it are read too, for their lines after it. The stored objects are
// read backwards from the end of each day-file, only those written in the window.
#pragma once

#include <chrono>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "common/time.h"
#include "logs/function_logs.h"

namespace sofaas {

class Ledger;

struct LogReadLimits {
    WallTime now;
    WallTime oldest;  // nothing before it is shown (retention, the function's deletion)
    // How long after its start a run's last line may be: its longest timeout, init and
    // the kill.
    std::chrono::microseconds longest_run{0};
};

struct RenderedLog {
    std::vector<LogLine> lines;
    // run_key() of each run whose START, END or REPORT is among the lines.
    std::vector<std::string> rendered_runs;
};

RenderedLog read_function_log(const Ledger& ledger, const std::filesystem::path& function_dir,
                              const std::string& function, const LogQuery& query, const LogReadLimits& limits);

// A run: a queued event's runs share a request id, each has its attempt.
std::string run_key(std::string_view request_id, uint32_t attempt);

}  // namespace sofaas
