#include <gtest/gtest.h>

#include <cstdio>
#include <ostream>
#include <random>
#include <string>
#include <vector>

#include "events/schedule_expression.h"
#include "events/time_zone.h"

using namespace sofaas;
using namespace std::chrono;

namespace {

// An instant that failing tests print as "2024-03-31 01:00:00 UTC".
struct Instant {
    sys_seconds t;
    Instant(sys_seconds value) : t(value) {}
    operator sys_seconds() const { return t; }
    friend bool operator==(const Instant& a, const Instant& b) { return a.t == b.t; }
    friend void PrintTo(const Instant& instant, std::ostream* out) {
        year_month_day date{floor<days>(instant.t)};
        hh_mm_ss time{instant.t - floor<days>(instant.t)};
        char text[48];
        std::snprintf(text, sizeof text, "%d-%02u-%02u %02d:%02d:%02d UTC", int(date.year()), unsigned(date.month()),
                      unsigned(date.day()), int(time.hours().count()), int(time.minutes().count()),
                      int(time.seconds().count()));
        *out << text;
    }
};

Instant utc_instant(int y, unsigned m, unsigned d, int hh = 0, int mm = 0, int ss = 0) {
    return sys_seconds{sys_days{year{y} / month{m} / day{d}} + hours(hh) + minutes(mm) + seconds(ss)};
}

// The next due time of a cron expression after `t`, read in `zone`.
std::optional<Instant> next(std::string_view expression, sys_seconds t, const TimeZone& zone = TimeZone::utc()) {
    auto due = ScheduleExpression::parse(expression).next_after(t, zone, sys_seconds{});
    if (!due) return std::nullopt;
    return *due;
}

// The first `count` due times after `t`.
std::vector<Instant> series(std::string_view expression, sys_seconds t, int count,
                            const TimeZone& zone = TimeZone::utc()) {
    ScheduleExpression schedule = ScheduleExpression::parse(expression);
    std::vector<Instant> due;
    for (int i = 0; i < count; ++i) {
        auto after = schedule.next_after(due.empty() ? t : due.back().t, zone, sys_seconds{});
        if (!after) break;
        due.push_back(*after);
    }
    return due;
}

std::string parse_error(std::string_view expression) {
    try {
        ScheduleExpression::parse(expression);
    } catch (const ScheduleExpressionError& e) {
        return e.what();
    }
    return "no error";
}

}  // namespace

TEST(ScheduleExpression, RateTakesEveryUnitSingularOrPlural) {
    EXPECT_EQ(ScheduleExpression::parse("rate(1 minute)").period(), minutes(1));
    EXPECT_EQ(ScheduleExpression::parse("rate(5 minutes)").period(), minutes(5));
    EXPECT_EQ(ScheduleExpression::parse("rate(1 hour)").period(), hours(1));
    EXPECT_EQ(ScheduleExpression::parse("rate(2 hours)").period(), hours(2));
    EXPECT_EQ(ScheduleExpression::parse("rate(1 day)").period(), days(1));
    EXPECT_EQ(ScheduleExpression::parse("rate(3 days)").period(), days(3));
    EXPECT_EQ(ScheduleExpression::parse("rate(1 second)").period(), seconds(1));
    EXPECT_EQ(ScheduleExpression::parse("rate(30 seconds)").period(), seconds(30));
    EXPECT_EQ(ScheduleExpression::parse("rate(1 minutes)").period(), minutes(1));
    EXPECT_EQ(ScheduleExpression::parse("rate(5 minute)").period(), minutes(5));
    ScheduleExpression rate = ScheduleExpression::parse("  rate(5 minutes) ");
    EXPECT_EQ(rate.kind(), ScheduleKind::rate);
    EXPECT_EQ(rate.text(), "rate(5 minutes)");
}

TEST(ScheduleExpression, RateDueTimesCountWholePeriodsFromTheAnchor) {
    ScheduleExpression rate = ScheduleExpression::parse("rate(5 minutes)");
    TimeZone zone = TimeZone::utc();
    sys_seconds created = utc_instant(2024, 5, 1, 10, 0, 7);
    EXPECT_EQ(rate.next_after(created, zone, created), utc_instant(2024, 5, 1, 10, 5, 7));
    EXPECT_EQ(rate.next_after(utc_instant(2024, 5, 1, 10, 5, 7), zone, created), utc_instant(2024, 5, 1, 10, 10, 7));
    EXPECT_EQ(rate.next_after(utc_instant(2024, 5, 1, 10, 7), zone, created), utc_instant(2024, 5, 1, 10, 10, 7));
    EXPECT_EQ(rate.next_after(utc_instant(2024, 5, 1, 9), zone, created), utc_instant(2024, 5, 1, 10, 5, 7));
}

TEST(ScheduleExpression, RateIgnoresDaylightSavingTime) {
    ScheduleExpression rate = ScheduleExpression::parse("rate(1 day)");
    TimeZone paris = TimeZone::load_or_throw("Europe/Paris");
    sys_seconds created = utc_instant(2024, 3, 30, 12);
    EXPECT_EQ(rate.next_after(created, paris, created), utc_instant(2024, 3, 31, 12));
}

TEST(ScheduleExpression, RateAtTheEndOfTimeHasNoNextTime) {
    ScheduleExpression rate = ScheduleExpression::parse("rate(1 day)");
    EXPECT_EQ(rate.next_after(sys_seconds::max() - seconds(10), TimeZone::utc(), sys_seconds{}), std::nullopt);
}

TEST(ScheduleExpression, AwsDocumentationExamples) {
    EXPECT_EQ(ScheduleExpression::parse("cron(0 10 * * ? *)").kind(), ScheduleKind::aws_cron);
    EXPECT_EQ(next("cron(0 10 * * ? *)", utc_instant(2024, 5, 1, 9)), utc_instant(2024, 5, 1, 10));
    EXPECT_EQ(next("cron(0 10 * * ? *)", utc_instant(2024, 5, 1, 10)), utc_instant(2024, 5, 2, 10));
    EXPECT_EQ(next("cron(15 12 * * ? *)", utc_instant(2024, 5, 1, 12, 15, 1)), utc_instant(2024, 5, 2, 12, 15));
    EXPECT_EQ(next("cron(0 18 ? * MON-FRI *)", utc_instant(2024, 5, 3, 18)), utc_instant(2024, 5, 6, 18));  // Friday -> Monday
    EXPECT_EQ(next("cron(0 8 1 * ? *)", utc_instant(2024, 5, 1, 8)), utc_instant(2024, 6, 1, 8));
    EXPECT_EQ(next("cron(0/15 * * * ? *)", utc_instant(2024, 5, 1, 10, 7)), utc_instant(2024, 5, 1, 10, 15));
    EXPECT_EQ(next("cron(0/15 * * * ? *)", utc_instant(2024, 5, 1, 10, 45)), utc_instant(2024, 5, 1, 11));
    EXPECT_EQ(next("cron(0/10 * ? * MON-FRI *)", utc_instant(2024, 5, 3, 23, 55)), utc_instant(2024, 5, 6, 0, 0));
    EXPECT_EQ(next("cron(0/5 8-17 ? * MON-FRI *)", utc_instant(2024, 5, 6, 17, 52)), utc_instant(2024, 5, 6, 17, 55));
    EXPECT_EQ(next("cron(0/5 8-17 ? * MON-FRI *)", utc_instant(2024, 5, 6, 17, 55)), utc_instant(2024, 5, 7, 8, 0));
    // The first Monday: May 6, then June 3 (June 1 is a Saturday).
    EXPECT_EQ(series("cron(0 9 ? * 2#1 *)", utc_instant(2024, 5, 1), 2),
              (std::vector{utc_instant(2024, 5, 6, 9), utc_instant(2024, 6, 3, 9)}));
}

TEST(ScheduleExpression, AwsLastDayOfMonth) {
    EXPECT_EQ(series("cron(0 0 L * ? *)", utc_instant(2024, 2, 1), 3),
              (std::vector{utc_instant(2024, 2, 29), utc_instant(2024, 3, 31), utc_instant(2024, 4, 30)}));
}

TEST(ScheduleExpression, AwsLastWeekdayOfMonth) {
    // March 31 2024 is a Sunday, August 31 a Saturday: both move back to Friday.
    EXPECT_EQ(next("cron(0 0 LW * ? *)", utc_instant(2024, 3, 1)), utc_instant(2024, 3, 29));
    EXPECT_EQ(next("cron(0 0 LW * ? *)", utc_instant(2024, 8, 1)), utc_instant(2024, 8, 30));
    EXPECT_EQ(next("cron(0 0 LW * ? *)", utc_instant(2024, 5, 1)), utc_instant(2024, 5, 31));
}

TEST(ScheduleExpression, AwsNearestWeekdayStaysInTheMonth) {
    EXPECT_EQ(next("cron(0 0 15W * ? *)", utc_instant(2024, 6, 1)), utc_instant(2024, 6, 14));   // Saturday -> Friday
    EXPECT_EQ(next("cron(0 0 15W * ? *)", utc_instant(2024, 9, 1)), utc_instant(2024, 9, 16));   // Sunday -> Monday
    EXPECT_EQ(next("cron(0 0 15W * ? *)", utc_instant(2024, 5, 1)), utc_instant(2024, 5, 15));   // a Wednesday
    EXPECT_EQ(next("cron(0 0 1W * ? *)", utc_instant(2024, 5, 15)), utc_instant(2024, 6, 3));    // not Friday May 31
    EXPECT_EQ(next("cron(0 0 31W * ? *)", utc_instant(2024, 3, 1)), utc_instant(2024, 3, 29));   // not Monday April 1
    EXPECT_EQ(next("cron(0 0 30W * ? *)", utc_instant(2024, 2, 1)), utc_instant(2024, 3, 29));   // February has no 30th
}

TEST(ScheduleExpression, AwsLastGivenWeekdayOfMonth) {
    EXPECT_EQ(series("cron(0 12 ? * 6L *)", utc_instant(2024, 5, 1), 2),
              (std::vector{utc_instant(2024, 5, 31, 12), utc_instant(2024, 6, 28, 12)}));
    EXPECT_EQ(next("cron(0 12 ? * FRIL *)", utc_instant(2024, 5, 1)), utc_instant(2024, 5, 31, 12));
    EXPECT_EQ(next("cron(0 0 ? * L *)", utc_instant(2024, 5, 1)), utc_instant(2024, 5, 4));  // L alone: Saturday
}

TEST(ScheduleExpression, AwsNamesInAnyCaseAndLists) {
    EXPECT_EQ(next("cron(0 12 ? jan-mar,DEC Sun *)", utc_instant(2024, 4, 1)), utc_instant(2024, 12, 1, 12));
    EXPECT_EQ(next("cron(5,35 8-9 * * ? *)", utc_instant(2024, 5, 1, 8, 35)), utc_instant(2024, 5, 1, 9, 5));
}

TEST(ScheduleExpression, AwsYearField) {
    EXPECT_EQ(next("cron(0 0 1 1 ? 2025)", utc_instant(2024, 6, 1)), utc_instant(2025, 1, 1));
    EXPECT_EQ(next("cron(0 0 1 1 ? 2025)", utc_instant(2025, 1, 1)), std::nullopt);
    EXPECT_EQ(next("cron(0 0 1 1 ? 1999-2000)", utc_instant(2024, 6, 1)), std::nullopt);
    EXPECT_EQ(next("cron(0 0 1 1 ? 2024/4)", utc_instant(2024, 1, 1)), utc_instant(2028, 1, 1));
    EXPECT_EQ(next("cron(0 0 * * ? *)", utc_instant(2199, 12, 31)), std::nullopt);
}

TEST(ScheduleExpression, ImpossibleDatesHaveNoNextTime) {
    EXPECT_EQ(next("cron(0 0 30 2 ? *)", utc_instant(2024, 1, 1)), std::nullopt);
    EXPECT_EQ(next("0 0 31 2 *", utc_instant(2024, 1, 1)), std::nullopt);
    EXPECT_EQ(next("0 0 31 4,6,9,11 *", utc_instant(2024, 1, 1)), std::nullopt);
}

TEST(ScheduleExpression, UnixCronEveryFiveMinutes) {
    EXPECT_EQ(ScheduleExpression::parse("*/5 * * * *").kind(), ScheduleKind::unix_cron);
    EXPECT_EQ(next("*/5 * * * *", utc_instant(2024, 5, 1, 10, 7, 30)), utc_instant(2024, 5, 1, 10, 10));
    EXPECT_EQ(next("*/5 * * * *", utc_instant(2024, 5, 1, 10, 10)), utc_instant(2024, 5, 1, 10, 15));
    EXPECT_EQ(series("0 8-18/4 * * *", utc_instant(2024, 5, 1), 4),
              (std::vector{utc_instant(2024, 5, 1, 8), utc_instant(2024, 5, 1, 12), utc_instant(2024, 5, 1, 16), utc_instant(2024, 5, 2, 8)}));
}

TEST(ScheduleExpression, UnixCronSundayIsZeroOrSeven) {
    for (const char* expression : {"0 0 * * 0", "0 0 * * 7", "0 0 * * sun", "0 0 * * 6-7"}) {
        EXPECT_EQ(next(expression, utc_instant(2024, 5, 4, 12)), utc_instant(2024, 5, 5)) << expression;
    }
    EXPECT_EQ(next("30 6 * jun mon-fri", utc_instant(2024, 5, 4)), utc_instant(2024, 6, 3, 6, 30));
}

TEST(ScheduleExpression, UnixCronDayFieldsMatchEitherWhenBothRestricted) {
    // The 13th, and every Friday: October 2024 starts on a Tuesday.
    EXPECT_EQ(series("0 0 13 * 5", utc_instant(2024, 10, 1), 4),
              (std::vector{utc_instant(2024, 10, 4), utc_instant(2024, 10, 11), utc_instant(2024, 10, 13), utc_instant(2024, 10, 18)}));
    // A field starting with '*' leaves the other in charge: odd days that are Mondays.
    EXPECT_EQ(series("0 0 */2 * 1", utc_instant(2024, 10, 1), 2), (std::vector{utc_instant(2024, 10, 7), utc_instant(2024, 10, 21)}));
}

TEST(ScheduleExpression, BadRatesSayWhatIsWrong) {
    EXPECT_EQ(parse_error(""), "schedule expression is empty");
    EXPECT_EQ(parse_error("rate(5)"), "rate(): expected 'rate(value unit)', such as rate(5 minutes)");
    EXPECT_EQ(parse_error("rate(0 minutes)"), "rate(): value must be positive, not '0'");
    EXPECT_EQ(parse_error("rate(-5 minutes)"), "rate(): value '-5' is not a whole number");
    EXPECT_EQ(parse_error("rate(5 weeks)"), "rate(): unit 'weeks' is not one of second(s), minute(s), hour(s), day(s)");
    EXPECT_EQ(parse_error("rate(99999999999999999999 days)"), "rate(): 99999999999999999999 days is longer than 100 years");
    EXPECT_EQ(parse_error("rate(5 minutes"), "rate(): missing ')' at the end");
}

TEST(ScheduleExpression, BadAwsCronSaysWhichFieldIsWrong) {
    EXPECT_EQ(parse_error("cron(0 10 * * ?)"),
              "cron(): expected 6 fields (minute hour day-of-month month day-of-week year), got 5");
    EXPECT_EQ(parse_error("cron(0 10 * * * *)"), "cron(): one of day-of-month and day-of-week must be '?'");
    EXPECT_EQ(parse_error("cron(0 10 ? * ? *)"), "cron(): only one of day-of-month and day-of-week may be '?'");
    EXPECT_EQ(parse_error("cron(60 10 * * ? *)"), "cron(): minute '60' out of range 0-59");
    EXPECT_EQ(parse_error("cron(0 24 * * ? *)"), "cron(): hour '24' out of range 0-23");
    EXPECT_EQ(parse_error("cron(0 10 ? * 8 *)"), "cron(): day-of-week '8' out of range 1-7");
    EXPECT_EQ(parse_error("cron(0 10 ? * 0 *)"), "cron(): day-of-week '0' out of range 1-7");
    EXPECT_EQ(parse_error("cron(0 10 * FOO ? *)"), "cron(): month 'FOO' is not a number or a name");
    EXPECT_EQ(parse_error("cron(0 10 * * ? 2200)"), "cron(): year '2200' out of range 1970-2199");
    EXPECT_EQ(parse_error("cron(0 17-8 * * ? *)"), "cron(): hour range '17-8' runs backwards");
    EXPECT_EQ(parse_error("cron(0/0 * * * ? *)"), "cron(): minute step '0' must be a number from 1 to 60");
    EXPECT_EQ(parse_error("cron(0 0 ? * 1/2 *)"), "cron(): day-of-week does not allow '/' (in '1/2')");
    EXPECT_EQ(parse_error("cron(0 0 ? * 3#6 *)"), "cron(): day-of-week '3#6': the occurrence after '#' must be 1-5");
    EXPECT_EQ(parse_error("cron(0 0 ? * 3#1,6#3 *)"),
              "cron(): day-of-week '3#1,6#3': L, W and # forms stand alone, without ','");
    EXPECT_EQ(parse_error("cron(0 0 L,15 * ? *)"),
              "cron(): day-of-month 'L,15': L, W and # forms stand alone, without ','");
    EXPECT_EQ(parse_error("cron(0 0 32W * ? *)"), "cron(): day-of-month '32' out of range 1-31");
    EXPECT_EQ(parse_error("cron(0 0 15X * ? *)"), "cron(): day-of-month '15X' is not a number");
    EXPECT_EQ(parse_error("cron(0 0 1W5 * ? *)"), "cron(): day-of-month '1W5' is not L, LW or a day followed by W (15W)");
    EXPECT_EQ(parse_error("cron(? 0 * * ? *)"), "cron(): minute '?' is allowed only in day-of-month or day-of-week");
    EXPECT_EQ(parse_error("cron(0 0 1,,2 * ? *)"), "cron(): day-of-month '1,,2' has an empty element");
    EXPECT_EQ(parse_error("cron(0 0 1 1-2-3 ? *)"), "cron(): month '2-3' is not a number or a name");
}

TEST(ScheduleExpression, BadUnixCronSaysWhichFieldIsWrong) {
    EXPECT_EQ(parse_error("*/5 * * *"),
              "schedule expression must be rate(...), cron(...) or a five-field cron line "
              "(minute hour day-of-month month day-of-week); got 4 fields");
    EXPECT_EQ(parse_error("hello"),
              "schedule expression must be rate(...), cron(...) or a five-field cron line "
              "(minute hour day-of-month month day-of-week); got 1 field");
    EXPECT_EQ(parse_error("0 0 ? * *"), "cron: day-of-month '?' is for cron(...); use '*'");
    EXPECT_EQ(parse_error("0 0 * * 8"), "cron: day-of-week '8' out of range 0-7");
    EXPECT_EQ(parse_error("0 0 * * L"), "cron: day-of-week 'L' is not a number or a name");
    EXPECT_EQ(parse_error("0 0 0 * *"), "cron: day-of-month '0' out of range 1-31");
    EXPECT_EQ(parse_error("0 0 * 13 *"), "cron: month '13' out of range 1-12");
    EXPECT_EQ(parse_error("*/99999999999 * * * *"), "cron: minute step '99999999999' must be a number from 1 to 60");
}

TEST(ScheduleExpression, GarbageNeverCrashesNorHangs) {
    // Half plausible expressions, some mangled by a character; half anything at all.
    const std::vector<std::vector<std::string>> fields = {
        {"*", "0", "5", "59", "0/15", "*/7", "1-5", "10,20"},
        {"*", "0", "23", "8-17", "*/3", "2"},
        {"*", "1", "31", "L", "LW", "15W", "1W", "29", "*/2"},
        {"*", "1", "2", "FEB", "jan,JUL", "*/5"},
        {"*", "1", "7", "0-7", "MON-FRI", "6L", "3#2", "L", "sun"},
        {"*", "2030", "2024-2026", "2024/3", "1999"},
    };
    const std::string alphabet = "0123456789*/,-?LW# ()abcdefhilmnorstuwyFJMNOSU\t";
    std::mt19937 random(20240501);
    auto pick = [&](const auto& from) { return from[random() % from.size()]; };
    TimeZone zones[] = {TimeZone::utc(), TimeZone::load_or_throw("Europe/Paris")};
    int parsed = 0;
    for (int i = 0; i < 20000; ++i) {
        std::string text;
        if (i % 2 == 0) {
            bool aws = random() % 2;
            size_t any_day = random() % 2 ? 2 : 4;  // AWS wants '?' in one of the day fields
            for (size_t f = 0; f < (aws ? 6u : 5u); ++f) {
                text += (f ? " " : "") + (aws && f == any_day ? std::string("?") : pick(fields[f]));
            }
            if (aws) text = "cron(" + text + ")";
            if (random() % 4 == 0) text[random() % text.size()] = pick(alphabet);
        } else {
            text = pick(std::vector<std::string>{"", "cron(", "rate(", "rate(1 ", "cron(0 0 "});
            for (size_t j = random() % 24; j > 0; --j) text += pick(alphabet);
            if (random() % 2) text += ")";
        }
        try {
            ScheduleExpression schedule = ScheduleExpression::parse(text);
            ++parsed;
            sys_seconds t = utc_instant(2024, 1, 1).t + seconds(random() % (86400LL * 366 * 30));
            auto due = schedule.next_after(t, zones[i % 2], t);
            if (due) {
                EXPECT_GT(*due, t) << text;
            }
        } catch (const ScheduleExpressionError&) {
        }
    }
    EXPECT_GT(parsed, 100);
}

TEST(ScheduleExpressionDaylightSaving, SkippedTimeFiresWhenTheGapEnds) {
    TimeZone paris = TimeZone::load_or_throw("Europe/Paris");
    // 02:30 does not exist on March 31 2024 in Paris: it fires at 03:00 CEST (01:00 UTC).
    EXPECT_EQ(series("cron(30 2 * * ? *)", utc_instant(2024, 3, 29, 12), 3, paris),
              (std::vector{utc_instant(2024, 3, 30, 1, 30), utc_instant(2024, 3, 31, 1), utc_instant(2024, 4, 1, 0, 30)}));
    TimeZone new_york = TimeZone::load_or_throw("America/New_York");
    EXPECT_EQ(series("30 2 * * *", utc_instant(2024, 3, 9, 12), 2, new_york),
              (std::vector{utc_instant(2024, 3, 10, 7), utc_instant(2024, 3, 11, 6, 30)}));
}

TEST(ScheduleExpressionDaylightSaving, TimesSkippedTogetherFireOnce) {
    TimeZone paris = TimeZone::load_or_throw("Europe/Paris");
    // 02:00, 02:30 and 03:00 all land on 01:00 UTC: one run, then 03:30 CEST.
    EXPECT_EQ(series("0,30 2,3 * * *", utc_instant(2024, 3, 31), 2, paris),
              (std::vector{utc_instant(2024, 3, 31, 1), utc_instant(2024, 3, 31, 1, 30)}));
}

TEST(ScheduleExpressionDaylightSaving, RepeatedTimeFiresAtItsFirstOccurrence) {
    TimeZone paris = TimeZone::load_or_throw("Europe/Paris");
    // 02:30 happens twice on October 27 2024 in Paris: 00:30 UTC (CEST), 01:30 UTC (CET).
    EXPECT_EQ(series("cron(30 2 * * ? *)", utc_instant(2024, 10, 26, 12), 2, paris),
              (std::vector{utc_instant(2024, 10, 27, 0, 30), utc_instant(2024, 10, 28, 1, 30)}));
    TimeZone new_york = TimeZone::load_or_throw("America/New_York");
    EXPECT_EQ(series("30 1 * * *", utc_instant(2024, 11, 2, 12), 2, new_york),
              (std::vector{utc_instant(2024, 11, 3, 5, 30), utc_instant(2024, 11, 4, 6, 30)}));
}

TEST(ScheduleExpressionDaylightSaving, HourlyScheduleRunsOnceInTheRepeatedHour) {
    TimeZone paris = TimeZone::load_or_throw("Europe/Paris");
    // Local 01:00, 02:00 (first), 03:00, 04:00: no run at 01:00 UTC, the second 02:00.
    EXPECT_EQ(series("cron(0 * * * ? *)", utc_instant(2024, 10, 26, 22, 30), 4, paris),
              (std::vector{utc_instant(2024, 10, 26, 23), utc_instant(2024, 10, 27, 0), utc_instant(2024, 10, 27, 2), utc_instant(2024, 10, 27, 3)}));
    // Within the second pass of the repeated hour, nothing is due until it ends.
    EXPECT_EQ(next("*/15 * * * *", utc_instant(2024, 10, 27, 1, 20), paris), utc_instant(2024, 10, 27, 2));
}

TEST(ScheduleExpressionDaylightSaving, HourlyScheduleRunsEveryUtcHourAcrossTheGap) {
    TimeZone new_york = TimeZone::load_or_throw("America/New_York");
    // Local 01:00 EST, 02:00 (skipped: 03:00 EDT), 03:00 EDT is the same instant, 04:00 EDT.
    EXPECT_EQ(series("0 * * * *", utc_instant(2024, 3, 10, 5, 30), 3, new_york),
              (std::vector{utc_instant(2024, 3, 10, 6), utc_instant(2024, 3, 10, 7), utc_instant(2024, 3, 10, 8)}));
}

TEST(ScheduleExpressionDaylightSaving, FarFutureUsesTheZoneRule) {
    TimeZone paris = TimeZone::load_or_throw("Europe/Paris");
    EXPECT_EQ(next("cron(30 2 * * ? *)", utc_instant(2100, 3, 27, 12), paris), utc_instant(2100, 3, 28, 1));
    EXPECT_EQ(next("cron(0 12 1 7 ? *)", utc_instant(2150, 1, 1), paris), utc_instant(2150, 7, 1, 10));
}

TEST(ScheduleExpressionDaylightSaving, OddOffsets) {
    EXPECT_EQ(next("cron(0 9 * * ? *)", utc_instant(2024, 6, 1), TimeZone::load_or_throw("Asia/Kathmandu")),
              utc_instant(2024, 6, 1, 3, 15));
    TimeZone lord_howe = TimeZone::load_or_throw("Australia/Lord_Howe");
    // Lord Howe moves by 30 minutes: 02:15 is skipped on October 6 2024, 01:45 repeated on April 7.
    EXPECT_EQ(next("cron(15 2 * * ? *)", utc_instant(2024, 10, 5, 12), lord_howe), utc_instant(2024, 10, 5, 15, 30));
    EXPECT_EQ(series("cron(45 1 * * ? *)", utc_instant(2024, 4, 6, 12), 2, lord_howe),
              (std::vector{utc_instant(2024, 4, 6, 14, 45), utc_instant(2024, 4, 7, 15, 15)}));
}

TEST(ScheduleExpressionDaylightSaving, SkippedWholeDayFiresOnceWhenItEnds) {
    // Samoa crossed the date line in 2011: December 30 never happened in Apia.
    TimeZone apia = TimeZone::load_or_throw("Pacific/Apia");
    EXPECT_EQ(series("0 12 * * *", utc_instant(2011, 12, 29, 23), 2, apia),  // 13:00 local
              (std::vector{utc_instant(2011, 12, 30, 10), utc_instant(2011, 12, 30, 22)}));
}
