// Retention of function logs: how old and how large one function's log directory may
// grow (LogSettings, common/config.h). Only day-files (YYYY-MM-DD.jsonl) in that directory
// are ever deleted or trimmed; the billing ledger lives elsewhere and is never touched.
#pragma once

#include <cstdint>
#include <filesystem>

#include "common/config.h"
#include "common/time.h"

namespace sofaas {

struct RetentionPass {
    uint64_t files_deleted = 0;
    uint64_t files_trimmed = 0;
    uint64_t bytes_freed = 0;
};

// One function's directory, at `now`: first the day-files older than max_age_days go whole
// (the day's file is kept while any of its lines is younger), then the oldest files while
// the rest is over max_bytes_per_function; if the newest file alone is still over it, its
// oldest lines are cut so that it keeps about half the limit (so that it is not rewritten
// again at the next pass). The caller keeps writers off the files meanwhile. Errors are
// logged, never thrown.
RetentionPass enforce_log_retention(const std::filesystem::path& function_dir, const LogSettings& limits,
                                    WallTime now);

// A day-file's name: YYYY-MM-DD.jsonl.
bool is_log_day_file(const std::filesystem::path& file);

}  // namespace sofaas
