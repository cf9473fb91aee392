// A parsed cron expression, AWS or Unix, and the search for its next time. Internal to
// events/schedule_expression.cpp.
#pragma once

#include <bitset>
#include <chrono>
#include <optional>
#include <string_view>

#include "events/schedule_expression.h"

namespace sofaas {

struct ScheduleExpression::CronSpec {
    std::bitset<60> minutes;
    std::bitset<24> hours;
    std::bitset<32> days_of_month;  // 1-31
    std::bitset<13> months;         // 1-12
    std::bitset<7> weekdays;        // 0 = Sunday
    // AWS years, bit 0 = 1970, even for '*'; Unix cron has no year field and matches every year.
    bool any_year = true;
    std::bitset<230> years;

    // AWS day-of-month forms: L, LW, nW.
    bool last_day_of_month = false;
    bool last_weekday_of_month = false;
    unsigned nearest_weekday_to = 0;  // n of nW; 0 when absent
    // AWS day-of-week forms: dL, d#n (d = 0 for Sunday).
    int last_in_month_weekday = -1;   // -1 when absent
    int nth_weekday = -1;             // -1 when absent
    unsigned nth = 0;

    // Whether each day field starts with '*' (or is '?'): when neither does, a day matches
    // if either field matches (Vixie cron); otherwise both must.
    bool day_of_month_star = false;
    bool day_of_week_star = false;

    bool year_matches(int y) const { return any_year || (y >= 1970 && y < 2200 && years[y - 1970]); }
};

// The fields inside "cron(...)" and a crontab line; throw ScheduleExpressionError.
ScheduleExpression::CronSpec parse_aws_cron(std::string_view fields);
ScheduleExpression::CronSpec parse_unix_cron(std::string_view fields);

std::optional<std::chrono::sys_seconds> next_cron_time(const ScheduleExpression::CronSpec& spec,
                                                       std::chrono::sys_seconds t, const TimeZone& zone);

}  // namespace sofaas
