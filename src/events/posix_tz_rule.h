// The POSIX TZ string a TZif file ends with ("CET-1CEST,M3.5.0,M10.5.0/3"): how local time
// goes on after the file's last transition. Internal to events/time_zone.cpp.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sofaas {

// The local offset changes at `at`: before it clocks read UTC + `before`, from it UTC + `after`.
struct OffsetChange {
    std::chrono::sys_seconds at;
    std::chrono::seconds before;
    std::chrono::seconds after;
};

class PosixTzRule {
public:
    // nullopt, with the reason in *why, when `text` is not a POSIX TZ string as RFC 8536
    // section 3.3 extends it (rule times from -167 to 167 hours).
    static std::optional<PosixTzRule> parse(std::string_view text, std::string* why);

    // Seconds east of UTC, the opposite sign of the text's "CET-1".
    std::chrono::seconds offset_at(std::chrono::sys_seconds t) const;
    // Changes with `from` < at <= `to`, in order; none that leave the offset as it was.
    std::vector<OffsetChange> changes_between(std::chrono::sys_seconds from, std::chrono::sys_seconds to) const;

    // A day of the year as the rule writes it.
    struct RuleDate {
        enum class Form { julian_no_leap, zero_based, month_week_day };  // Jn, n, Mm.w.d
        Form form = Form::month_week_day;
        int day = 0;      // Jn: 1-365, n: 0-365
        int month = 0;    // Mm.w.d: 1-12
        int week = 0;     // 1-5, 5 meaning the last
        int weekday = 0;  // 0 = Sunday
    };
    struct Change {
        RuleDate date;
        std::chrono::seconds time{7200};  // local time of day, in the offset in effect before
    };

private:
    struct YearChange {
        std::chrono::sys_seconds at;
        bool to_dst;
    };
    // Starts and ends of daylight time from `first_year` to `last_year`, in order.
    std::vector<YearChange> year_changes(int first_year, int last_year) const;

    std::chrono::seconds std_offset_{0};
    std::optional<std::chrono::seconds> dst_offset_;
    Change dst_start_;
    Change dst_end_;
};

}  // namespace sofaas
