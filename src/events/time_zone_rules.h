// What a TimeZone holds: the transitions of a TZif file and its footer rule. Internal to
// events/time_zone.cpp and events/tzif.cpp.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "events/posix_tz_rule.h"
#include "events/time_zone.h"

namespace sofaas {

struct TimeZone::Rules {
    std::string name;
    // In effect before the first transition (RFC 8536: the first local time type).
    std::chrono::seconds initial_offset{0};
    // Ascending; only those that change the offset.
    std::vector<std::chrono::sys_seconds> transition_times;
    std::vector<std::chrono::seconds> offsets_after;
    // Governs instants after `footer_from`, the file's last transition (all instants when
    // the file has none).
    std::optional<PosixTzRule> footer;
    std::chrono::sys_seconds footer_from = std::chrono::sys_seconds::min();

    std::chrono::seconds offset_at(std::chrono::sys_seconds t) const;
    // Changes with `from` < at <= `to`, in order.
    std::vector<OffsetChange> changes_between(std::chrono::sys_seconds from, std::chrono::sys_seconds to) const;
};

// The rules of a TZif file (versions 1 to 4; the 64-bit data of version 2 and later).
std::optional<TimeZone::Rules> parse_tzif(std::string name, std::string_view bytes, std::string* why);

}  // namespace sofaas
