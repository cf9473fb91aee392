// When a scheduled trigger fires: the schedule expressions of EventBridge, and the
// five-field cron lines of crontab(5).
//
//   rate(5 minutes)             every 5 minutes from the schedule's creation
//   cron(0 12 * * ? *)          AWS: minute hour day-of-month month day-of-week year
//   */5 * * * *                 Unix: minute hour day-of-month month day-of-week
//
// rate(N unit): N a positive whole number, unit one of minute(s), hour(s), day(s) as in AWS,
// or second(s), a sofaas extension. AWS wants the singular for 1 ("rate(1 hour)") and the
// plural otherwise; both forms are accepted here for any N. A period may be at most 100
// years. A day is 86400 seconds, whatever the time zone does.
//
// cron(...): the six fields of EventBridge. Exactly one of day-of-month and day-of-week is
// '?'. Day-of-week counts 1-7 from SUN. Day-of-month also takes L (last day), LW (last
// weekday), 15W (the weekday nearest the 15th, within the month; none in months too
// short); day-of-week takes L (Saturday), 6L (the last Friday), 3#2 (the second Tuesday);
// those forms stand alone in their field. Day-of-week takes no '/'. Years run 1970-2199.
//
// Unix cron: day-of-week 0-7, 0 and 7 both Sunday. As in Vixie cron, when neither
// day-of-month nor day-of-week starts with '*', a day matches if either field does.
// Names (JAN-DEC, SUN-SAT) are accepted in any case in both cron forms.
//
// Cron fields are local times of a TimeZone. Across a daylight saving change:
//   - a local time the clocks skip fires once, at the end of the gap: 02:30 on the night
//     Paris springs forward fires at 03:00 local (01:00 UTC). EventBridge Scheduler skips
//     such a run instead; sofaas does not lose a daily run.
//   - a local time the clocks show twice fires once, at its first occurrence, as in
//     EventBridge Scheduler. An hourly schedule thus runs once in the repeated hour: on the
//     night Paris falls back, "0 * * * *" fires at 00:00 and 02:00 UTC, not at 01:00 UTC.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace sofaas {

class TimeZone;

// The message names the field and the fault: "cron(): day-of-week '8' out of range 1-7".
class ScheduleExpressionError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

enum class ScheduleKind { rate, aws_cron, unix_cron };

class ScheduleExpression {
public:
    // Throws ScheduleExpressionError. Leading and trailing blanks are ignored.
    static ScheduleExpression parse(std::string_view text);

    ScheduleKind kind() const { return kind_; }
    const std::string& text() const { return text_; }
    // rate() only; zero for cron.
    std::chrono::seconds period() const { return period_; }

    // The first due time strictly after `t`; nullopt when there is none any more (all of a
    // cron year field in the past, or no match within 200 years, such as 30 February).
    //   rate:  anchor + k * period for k >= 1, `anchor` being the schedule's creation, so
    //          the first run comes one period after it. `zone` plays no part.
    //   cron:  whole minutes matching the fields in `zone`'s local time. `anchor` plays
    //          no part.
    std::optional<std::chrono::sys_seconds> next_after(std::chrono::sys_seconds t, const TimeZone& zone,
                                                       std::chrono::sys_seconds anchor) const;

    struct CronSpec;  // defined in events/cron_spec.h

private:
    ScheduleKind kind_ = ScheduleKind::rate;
    std::string text_;
    std::chrono::seconds period_{0};
    std::shared_ptr<const CronSpec> cron_;
};

}  // namespace sofaas
