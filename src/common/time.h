// Wall-clock time as the ledger and the logs write it, and as users type it.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace sofaas {

using WallClock = std::chrono::system_clock;
using WallTime = std::chrono::time_point<WallClock, std::chrono::microseconds>;

WallTime wall_now();

// RFC 3339 in UTC with microseconds: 2026-11-27T18:43:49.123456Z
std::string format_rfc3339(WallTime t);
void append_rfc3339(std::string& out, WallTime t);
// UTC date of t: 2026-11-27 (names of ledger and log files)
std::string format_date(WallTime t);

// Accepts RFC 3339 (with or without fraction, Z or +hh:mm), a date (2026-11-27), or a
// relative time before `now` such as 90s, 15m, 1h, 2d, 1w. nullopt when unreadable.
std::optional<WallTime> parse_time_spec(std::string_view text, WallTime now);

}  // namespace sofaas
