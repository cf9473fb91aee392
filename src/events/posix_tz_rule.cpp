#include "events/posix_tz_rule.h"

#include <algorithm>
#include <cctype>

namespace sofaas {
namespace {

using namespace std::chrono;

class Cursor {
public:
    explicit Cursor(std::string_view text) : text_(text) {}

    bool done() const { return pos_ >= text_.size(); }
    char peek() const { return done() ? '\0' : text_[pos_]; }
    bool take(char c) {
        if (done() || text_[pos_] != c) return false;
        ++pos_;
        return true;
    }
    // Up to `max_digits` decimal digits; nullopt when there is none.
    std::optional<int> number(int max_digits) {
        int value = 0, count = 0;
        while (count < max_digits && std::isdigit(static_cast<unsigned char>(peek()))) {
            value = value * 10 + (text_[pos_++] - '0');
            ++count;
        }
        if (count == 0) return std::nullopt;
        return value;
    }
    // A zone abbreviation: three or more letters, or <...> of letters, digits, '+', '-'.
    bool abbreviation() {
        size_t length = 0;
        if (take('<')) {
            while (!done() && (std::isalnum(static_cast<unsigned char>(peek())) || peek() == '+' || peek() == '-')) {
                ++pos_;
                ++length;
            }
            return take('>') && length >= 3;
        }
        while (std::isalpha(static_cast<unsigned char>(peek()))) {
            ++pos_;
            ++length;
        }
        return length >= 3;
    }
    // [+-]hh[:mm[:ss]] with hh up to `max_hours`.
    std::optional<seconds> signed_time(int max_hours) {
        int sign = 1;
        if (take('-')) {
            sign = -1;
        } else {
            take('+');
        }
        auto h = number(3);
        if (!h || *h > max_hours) return std::nullopt;
        int m = 0, s = 0;
        if (take(':')) {
            auto mm = number(2);
            if (!mm || *mm > 59) return std::nullopt;
            m = *mm;
            if (take(':')) {
                auto ss = number(2);
                if (!ss || *ss > 59) return std::nullopt;
                s = *ss;
            }
        }
        return seconds(sign * (*h * 3600 + m * 60 + s));
    }
    bool starts_offset() const {
        char c = peek();
        return c == '+' || c == '-' || std::isdigit(static_cast<unsigned char>(c));
    }

private:
    std::string_view text_;
    size_t pos_ = 0;
};

std::optional<PosixTzRule::RuleDate> parse_date(Cursor& cursor) {
    using Form = PosixTzRule::RuleDate::Form;
    PosixTzRule::RuleDate date;
    if (cursor.take('J')) {
        auto n = cursor.number(3);
        if (!n || *n < 1 || *n > 365) return std::nullopt;
        date.form = Form::julian_no_leap;
        date.day = *n;
        return date;
    }
    if (cursor.take('M')) {
        auto m = cursor.number(2);
        if (!m || *m < 1 || *m > 12 || !cursor.take('.')) return std::nullopt;
        auto w = cursor.number(1);
        if (!w || *w < 1 || *w > 5 || !cursor.take('.')) return std::nullopt;
        auto d = cursor.number(1);
        if (!d || *d > 6) return std::nullopt;
        date.form = Form::month_week_day;
        date.month = *m;
        date.week = *w;
        date.weekday = *d;
        return date;
    }
    auto n = cursor.number(3);
    if (!n || *n > 365) return std::nullopt;
    date.form = Form::zero_based;
    date.day = *n;
    return date;
}

std::optional<PosixTzRule::Change> parse_change(Cursor& cursor) {
    auto date = parse_date(cursor);
    if (!date) return std::nullopt;
    PosixTzRule::Change change{*date};
    if (cursor.take('/')) {
        auto time = cursor.signed_time(167);
        if (!time) return std::nullopt;
        change.time = *time;
    }
    return change;
}

sys_days day_of(const PosixTzRule::RuleDate& date, int y) {
    using Form = PosixTzRule::RuleDate::Form;
    sys_days january_first{year{y} / January / 1};
    switch (date.form) {
        case Form::julian_no_leap: {
            // Jn never counts February 29: J60 is March 1 in every year.
            bool after_leap_day = year{y}.is_leap() && date.day >= 60;
            return january_first + days(date.day - 1 + (after_leap_day ? 1 : 0));
        }
        case Form::zero_based:
            return january_first + days(date.day);
        case Form::month_week_day: {
            year_month ym = year{y} / month{static_cast<unsigned>(date.month)};
            weekday wd{static_cast<unsigned>(date.weekday)};
            if (date.week == 5) return sys_days{ym / wd[last]};
            return sys_days{ym / wd[static_cast<unsigned>(date.week)]};
        }
    }
    return january_first;
}

int year_of(sys_seconds t) { return static_cast<int>(year_month_day{floor<days>(t)}.year()); }

}  // namespace

std::optional<PosixTzRule> PosixTzRule::parse(std::string_view text, std::string* why) {
    auto fail = [&](std::string reason) -> std::optional<PosixTzRule> {
        if (why) *why = "TZ rule '" + std::string(text) + "': " + reason;
        return std::nullopt;
    };
    Cursor cursor(text);
    PosixTzRule rule;
    if (!cursor.abbreviation()) return fail("expected a standard time name of three or more letters");
    auto std_west = cursor.signed_time(24);
    if (!std_west) return fail("expected the standard time's offset, such as -1 or <+03>-3");
    rule.std_offset_ = -*std_west;
    if (cursor.done()) return rule;

    if (!cursor.abbreviation()) return fail("expected a daylight time name of three or more letters");
    rule.dst_offset_ = rule.std_offset_ + hours(1);
    if (cursor.starts_offset()) {
        auto dst_west = cursor.signed_time(24);
        if (!dst_west) return fail("bad daylight time offset");
        rule.dst_offset_ = -*dst_west;
    }
    if (cursor.done()) {
        // POSIX leaves the dates to the implementation; the common choice is the US rule.
        rule.dst_start_ = Change{RuleDate{RuleDate::Form::month_week_day, 0, 3, 2, 0}};
        rule.dst_end_ = Change{RuleDate{RuleDate::Form::month_week_day, 0, 11, 1, 0}};
        return rule;
    }
    if (!cursor.take(',')) return fail("expected ',' before the daylight time start date");
    auto start = parse_change(cursor);
    if (!start) return fail("bad daylight time start (Jn, n or Mm.w.d, then /time)");
    if (!cursor.take(',')) return fail("expected ',' before the daylight time end date");
    auto end = parse_change(cursor);
    if (!end) return fail("bad daylight time end (Jn, n or Mm.w.d, then /time)");
    if (!cursor.done()) return fail("unexpected text after the daylight time end");
    rule.dst_start_ = *start;
    rule.dst_end_ = *end;
    return rule;
}

std::vector<PosixTzRule::YearChange> PosixTzRule::year_changes(int first_year, int last_year) const {
    std::vector<YearChange> changes;
    for (int y = first_year; y <= last_year; ++y) {
        // Each change's time of day is in the local time in effect just before it.
        changes.push_back({day_of(dst_start_.date, y) + dst_start_.time - std_offset_, true});
        changes.push_back({day_of(dst_end_.date, y) + dst_end_.time - *dst_offset_, false});
    }
    // At equal instants the change to daylight time goes last: "0/0,J365/25" (daylight
    // time all year) ends one year's daylight time where the next one's begins.
    std::sort(changes.begin(), changes.end(), [](const YearChange& a, const YearChange& b) {
        return a.at != b.at ? a.at < b.at : a.to_dst < b.to_dst;
    });
    std::vector<YearChange> merged;
    for (const YearChange& change : changes) {
        if (!merged.empty() && merged.back().at == change.at) merged.pop_back();
        merged.push_back(change);
    }
    return merged;
}

seconds PosixTzRule::offset_at(sys_seconds t) const {
    if (!dst_offset_) return std_offset_;
    int y = year_of(t);
    auto changes = year_changes(y - 1, y + 1);
    auto after = std::upper_bound(changes.begin(), changes.end(), t,
                                  [](sys_seconds value, const YearChange& c) { return value < c.at; });
    bool dst = after == changes.begin() ? !changes.front().to_dst : std::prev(after)->to_dst;
    return dst ? *dst_offset_ : std_offset_;
}

std::vector<OffsetChange> PosixTzRule::changes_between(sys_seconds from, sys_seconds to) const {
    std::vector<OffsetChange> result;
    if (!dst_offset_ || to <= from) return result;
    auto changes = year_changes(year_of(from) - 1, year_of(to) + 1);
    for (size_t i = 1; i < changes.size(); ++i) {
        const YearChange& change = changes[i];
        if (change.at <= from || change.at > to || changes[i - 1].to_dst == change.to_dst) continue;
        seconds before = changes[i - 1].to_dst ? *dst_offset_ : std_offset_;
        seconds after = change.to_dst ? *dst_offset_ : std_offset_;
        if (before != after) result.push_back({change.at, before, after});
    }
    return result;
}

}  // namespace sofaas
