// What a function's log stores: for each invocation that has lines of its own (it printed,
// failed, or was refused: invocation_lines.h), one JSON object a line in
// DATA/logs/NAME/YYYY-MM-DD.jsonl (the day of its start):
//
//   {"written":"...","request_id":"...","version":2,"attempt":1,"start":"...","refused":true,
//    "lines":[{"stream":"stdout","message":"..."},{"time":"...","stream":"platform","message":"..."}]}
//
// `attempt` only for a queued event's run, `refused` only for an invocation refused before
// it ran, a line's `time` only when it is not the start (a failure's lines are at the end).
// `written` never decreases along a file and is at or after every time in its object: a
// reader going backwards stops at the first object written before what it wants.
// Files of earlier versions hold one line per object ({"time","request_id","version",
// "stream","message"}), START / END / REPORT among them: read as legacy lines. Internal
// to src/logs/.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/invocation_report.h"
#include "common/time.h"
#include "logs/function_logs.h"

namespace sofaas {

enum class StoredKind {
    run,           // a run's own lines, shown between its START and END
    refusal,       // an invocation that never ran: its line stands alone
    legacy_line,   // an earlier version's line of a run: inside its run, else alone
    legacy_frame,  // an earlier version's START / END / REPORT: shown only if no record renders it
};

struct StoredRun {
    StoredKind kind = StoredKind::run;
    std::string request_id;
    uint32_t version = 0;
    uint32_t attempt = 0;
    WallTime start;    // a legacy line's: its own time
    WallTime written;  // a legacy line's: its own time
    std::vector<LogLine> lines;
};

// Appends the stored object of `report`'s own lines and its '\n' (nothing when it has
// none); returns how many lines it holds.
size_t append_stored_run(std::string& out, const InvocationReport& report, WallTime written);

// nullopt for a line that is neither (corrupt, torn).
std::optional<StoredRun> parse_stored_run(std::string_view text);

// The objects of one function's log written at or after `written_from` (legacy lines: of
// or after `written_from - legacy_lookback`, since they say when they happened, not when
// they were written), from the day-files of `first_day` on. With `request_id`, only
// that request's. Corrupt lines are skipped with a warning.
std::vector<StoredRun> read_stored_runs(const std::filesystem::path& function_dir, WallTime first_day,
                                        WallTime written_from, std::chrono::microseconds legacy_lookback,
                                        const std::optional<std::string>& request_id);

}  // namespace sofaas
