// The next time a cron expression matches, searched day by day in local time.
#include "events/cron_spec.h"
#include "events/time_zone.h"

namespace sofaas {
namespace {

using namespace std::chrono;

// Searching further finds nothing new for Unix cron (the calendar repeats every 400 years)
// and has no use for a schedule.
constexpr int kSearchYears = 200;
// Beyond this the search would run into the end of what TimeZone handles.
const sys_seconds kLastSearchStart = sys_days{year{9000} / January / 1};

unsigned day_index(weekday wd) { return wd.c_encoding(); }

unsigned nearest_weekday(year_month ym, unsigned n, unsigned last) {
    weekday wd{sys_days{ym / day{n}}};
    // The weekday nearest the n-th, never leaving the month: a Saturday the 1st gives
    // Monday the 3rd, a Sunday the last gives the Friday before.
    if (wd == Saturday) return n == 1 ? 3 : n - 1;
    if (wd == Sunday) return n == last ? n - 2 : n + 1;
    return n;
}

// Bit d: the d-th of the month matches the day fields.
std::bitset<32> matching_days(const ScheduleExpression::CronSpec& spec, year_month ym) {
    unsigned last = static_cast<unsigned>((ym / std::chrono::last).day());
    unsigned first_weekday = day_index(weekday{sys_days{ym / 1}});
    std::bitset<32> by_date, by_weekday;
    for (unsigned d = 1; d <= last; ++d) {
        by_date[d] = spec.days_of_month[d];
        by_weekday[d] = spec.weekdays[(first_weekday + d - 1) % 7];
    }
    if (spec.last_day_of_month) by_date.set(last);
    if (spec.last_weekday_of_month) {
        weekday wd{sys_days{ym / day{last}}};
        by_date.set(wd == Saturday ? last - 1 : wd == Sunday ? last - 2 : last);
    }
    if (spec.nearest_weekday_to != 0 && spec.nearest_weekday_to <= last) {
        by_date.set(nearest_weekday(ym, spec.nearest_weekday_to, last));
    }
    if (spec.last_in_month_weekday >= 0) {
        weekday wd{static_cast<unsigned>(spec.last_in_month_weekday)};
        by_weekday.set(static_cast<unsigned>(year_month_day{sys_days{ym / wd[std::chrono::last]}}.day()));
    }
    if (spec.nth_weekday >= 0) {
        year_month_weekday nth{ym / weekday{static_cast<unsigned>(spec.nth_weekday)}[spec.nth]};
        if (nth.ok()) by_weekday.set(static_cast<unsigned>(year_month_day{sys_days{nth}}.day()));
    }
    if (spec.day_of_month_star || spec.day_of_week_star) return by_date & by_weekday;
    return by_date | by_weekday;
}

}  // namespace

std::optional<sys_seconds> next_cron_time(const ScheduleExpression::CronSpec& spec, sys_seconds t,
                                          const TimeZone& zone) {
    if (t >= kLastSearchStart) return std::nullopt;
    // Every local time up to the clocks' reading at t fires at or before t (a skipped time
    // fires when the gap ends, a repeated one at its first occurrence), so the search starts
    // at the next whole minute on the clocks. Within a repeated hour a few candidates after
    // it still fire before t; they are passed over.
    local_seconds first = floor<minutes>(zone.to_local(t)) + minutes(1);
    local_days first_day = floor<days>(first);
    year_month_day start{first_day};
    int start_year = static_cast<int>(start.year());

    for (int y = start_year; y <= start_year + kSearchYears; ++y) {
        if (!spec.year_matches(y)) {
            if (!spec.any_year && y >= 2199) break;
            continue;
        }
        unsigned first_month = y == start_year ? static_cast<unsigned>(start.month()) : 1;
        for (unsigned m = first_month; m <= 12; ++m) {
            if (!spec.months[m]) continue;
            year_month ym{year{y}, month{m}};
            std::bitset<32> days_matching = matching_days(spec, ym);
            for (unsigned d = 1; d <= 31; ++d) {
                if (!days_matching[d]) continue;
                local_days date{ym / day{d}};
                if (date < first_day) continue;
                for (int h = 0; h < 24; ++h) {
                    if (!spec.hours[h]) continue;
                    for (int mi = 0; mi < 60; ++mi) {
                        if (!spec.minutes[mi]) continue;
                        local_seconds candidate = date + hours(h) + minutes(mi);
                        if (candidate < first) continue;
                        sys_seconds fires = zone.to_utc(candidate).earliest;
                        if (fires > t) return fires;
                    }
                }
            }
        }
    }
    return std::nullopt;
}

}  // namespace sofaas
