// The fields of cron(...) (EventBridge) and of a crontab(5) line.
#include <array>
#include <bitset>
#include <cctype>
#include <span>
#include <string>
#include <vector>

#include "events/cron_spec.h"

namespace sofaas {
namespace {

using Values = std::bitset<256>;  // bit i: the field's minimum + i

constexpr std::array<std::string_view, 12> kMonthNames = {"JAN", "FEB", "MAR", "APR", "MAY", "JUN",
                                                          "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"};
constexpr std::array<std::string_view, 7> kDayNames = {"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"};

struct FieldSyntax {
    std::string_view name;
    int min;
    int max;
    std::span<const std::string_view> names = {};
    int first_name_value = 0;  // the value of names[0]
    bool allows_step = true;
};

bool same_letters(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i) {
        if (std::toupper(static_cast<unsigned char>(a[i])) != b[i]) return false;
    }
    return true;
}

bool all_digits(std::string_view text) {
    if (text.empty()) return false;
    for (char c : text) {
        if (c < '0' || c > '9') return false;
    }
    return true;
}

std::string quoted(std::string_view text) { return "'" + std::string(text) + "'"; }

// Reads one field. `prefix` ("cron(): " or "cron: ") starts every message.
class FieldReader {
public:
    FieldReader(std::string_view prefix, const FieldSyntax& syntax) : prefix_(prefix), syntax_(syntax) {}

    [[noreturn]] void fail(const std::string& what) const {
        throw ScheduleExpressionError(std::string(prefix_) + std::string(syntax_.name) + " " + what);
    }

    // A number or a name of the field.
    int value(std::string_view text) const {
        if (all_digits(text)) {
            int v = text.size() > 6 ? syntax_.max + 1 : std::stoi(std::string(text));
            if (v < syntax_.min || v > syntax_.max) {
                fail(quoted(text) + " out of range " + std::to_string(syntax_.min) + "-" + std::to_string(syntax_.max));
            }
            return v;
        }
        for (size_t i = 0; i < syntax_.names.size(); ++i) {
            if (same_letters(text, syntax_.names[i])) return syntax_.first_name_value + static_cast<int>(i);
        }
        if (text.empty()) fail("has an empty value");
        fail(quoted(text) + (syntax_.names.empty() ? " is not a number" : " is not a number or a name"));
    }

    // A comma-separated list of *, n, a-b, each maybe with /step.
    Values list(std::string_view text) const {
        Values values;
        size_t start = 0;
        while (true) {
            size_t comma = text.find(',', start);
            std::string_view element = text.substr(start, comma == std::string_view::npos ? text.npos : comma - start);
            if (element.empty()) fail(quoted(text) + " has an empty element");
            values |= range(element);
            if (comma == std::string_view::npos) break;
            start = comma + 1;
        }
        return values;
    }

private:
    Values range(std::string_view element) const {
        std::string_view base = element;
        int step = 1;
        size_t slash = element.find('/');
        if (slash != std::string_view::npos) {
            if (!syntax_.allows_step) fail("does not allow '/' (in " + quoted(element) + ")");
            base = element.substr(0, slash);
            std::string_view step_text = element.substr(slash + 1);
            int span = syntax_.max - syntax_.min + 1;
            if (!all_digits(step_text) || step_text.size() > 6 || std::stoi(std::string(step_text)) < 1 ||
                std::stoi(std::string(step_text)) > span) {
                fail("step " + quoted(step_text) + " must be a number from 1 to " + std::to_string(span));
            }
            step = std::stoi(std::string(step_text));
        }
        int low = syntax_.min, high = syntax_.max;
        if (base != "*") {
            size_t dash = base.find('-');
            if (dash != std::string_view::npos) {
                low = value(base.substr(0, dash));
                high = value(base.substr(dash + 1));
                if (low > high) fail("range " + quoted(base) + " runs backwards");
            } else {
                low = value(base);
                // "5/15": from 5 to the end of the field, every 15th.
                high = slash != std::string_view::npos ? syntax_.max : low;
            }
        }
        Values values;
        for (int v = low; v <= high; v += step) values.set(v - syntax_.min);
        return values;
    }

    std::string_view prefix_;
    const FieldSyntax& syntax_;
};

template <size_t N>
std::bitset<N> shifted(const Values& values, int first_bit) {
    std::bitset<N> out;
    for (size_t i = 0; i + first_bit < N; ++i) out[i + first_bit] = values[i];
    return out;
}

std::vector<std::string_view> split_fields(std::string_view text) {
    std::vector<std::string_view> fields;
    size_t pos = 0;
    while (pos < text.size()) {
        while (pos < text.size() && std::isspace(static_cast<unsigned char>(text[pos]))) ++pos;
        size_t end = pos;
        while (end < text.size() && !std::isspace(static_cast<unsigned char>(text[end]))) ++end;
        if (end > pos) fields.push_back(text.substr(pos, end - pos));
        pos = end;
    }
    return fields;
}

const FieldSyntax kMinute{"minute", 0, 59};
const FieldSyntax kHour{"hour", 0, 23};
const FieldSyntax kDayOfMonth{"day-of-month", 1, 31};
const FieldSyntax kMonth{"month", 1, 12, kMonthNames, 1};
const FieldSyntax kAwsDayOfWeek{"day-of-week", 1, 7, kDayNames, 1, false};
const FieldSyntax kUnixDayOfWeek{"day-of-week", 0, 7, kDayNames, 0};
const FieldSyntax kYear{"year", 1970, 2199};

constexpr std::string_view kAws = "cron(): ";
constexpr std::string_view kUnix = "cron: ";

void check_no_question_mark(std::string_view prefix, std::string_view field, std::string_view name) {
    if (field.find('?') == std::string_view::npos) return;
    if (prefix == kUnix) throw ScheduleExpressionError("cron: " + std::string(name) + " '?' is for cron(...); use '*'");
    throw ScheduleExpressionError("cron(): " + std::string(name) + " '?' is allowed only in day-of-month or day-of-week");
}

void check_stands_alone(const FieldReader& reader, std::string_view field) {
    if (field.find(',') != std::string_view::npos) {
        reader.fail(quoted(field) + ": L, W and # forms stand alone, without ','");
    }
}

void read_aws_day_of_month(ScheduleExpression::CronSpec& spec, std::string_view field) {
    FieldReader reader(kAws, kDayOfMonth);
    bool special = field.find_first_of("LW") != std::string_view::npos;
    if (!special) {
        spec.days_of_month = shifted<32>(reader.list(field), 1);
        spec.day_of_month_star = field.front() == '*';
        return;
    }
    check_stands_alone(reader, field);
    if (field == "L") {
        spec.last_day_of_month = true;
    } else if (field == "LW") {
        spec.last_weekday_of_month = true;
    } else if (field.size() >= 2 && field.back() == 'W' && all_digits(field.substr(0, field.size() - 1))) {
        spec.nearest_weekday_to = static_cast<unsigned>(reader.value(field.substr(0, field.size() - 1)));
    } else {
        reader.fail(quoted(field) + " is not L, LW or a day followed by W (15W)");
    }
}

void read_aws_day_of_week(ScheduleExpression::CronSpec& spec, std::string_view field) {
    FieldReader reader(kAws, kAwsDayOfWeek);
    if (size_t hash = field.find('#'); hash != std::string_view::npos) {
        check_stands_alone(reader, field);
        std::string_view nth = field.substr(hash + 1);
        if (!all_digits(nth) || nth.size() != 1 || nth[0] < '1' || nth[0] > '5') {
            reader.fail(quoted(field) + ": the occurrence after '#' must be 1-5");
        }
        spec.nth_weekday = reader.value(field.substr(0, hash)) - 1;
        spec.nth = static_cast<unsigned>(nth[0] - '0');
        return;
    }
    if (field == "L") {
        spec.weekdays.set(6);  // the last day of the week: Saturday
        return;
    }
    if (field.size() >= 2 && std::toupper(static_cast<unsigned char>(field.back())) == 'L') {
        check_stands_alone(reader, field);
        spec.last_in_month_weekday = reader.value(field.substr(0, field.size() - 1)) - 1;
        return;
    }
    spec.weekdays = shifted<7>(reader.list(field), 0);  // AWS 1 (SUN) is bit 0
    spec.day_of_week_star = field.front() == '*';
}

}  // namespace

ScheduleExpression::CronSpec parse_aws_cron(std::string_view text) {
    auto fields = split_fields(text);
    if (fields.size() != 6) {
        throw ScheduleExpressionError("cron(): expected 6 fields (minute hour day-of-month month day-of-week year), got " +
                                      std::to_string(fields.size()));
    }
    const std::array<std::string_view, 6> names = {"minute", "hour", "day-of-month", "month", "day-of-week", "year"};
    for (size_t i : {0, 1, 3, 5}) check_no_question_mark(kAws, fields[i], names[i]);
    bool day_of_month_any = fields[2] == "?", day_of_week_any = fields[4] == "?";
    if (day_of_month_any && day_of_week_any) {
        throw ScheduleExpressionError("cron(): only one of day-of-month and day-of-week may be '?'");
    }
    if (!day_of_month_any && !day_of_week_any) {
        throw ScheduleExpressionError("cron(): one of day-of-month and day-of-week must be '?'");
    }

    ScheduleExpression::CronSpec spec;
    spec.minutes = shifted<60>(FieldReader(kAws, kMinute).list(fields[0]), 0);
    spec.hours = shifted<24>(FieldReader(kAws, kHour).list(fields[1]), 0);
    spec.months = shifted<13>(FieldReader(kAws, kMonth).list(fields[3]), 1);
    if (day_of_month_any) {
        spec.days_of_month.set().reset(0);
        spec.day_of_month_star = true;
        check_no_question_mark(kAws, fields[4], "day-of-week");
        read_aws_day_of_week(spec, fields[4]);
    } else {
        spec.weekdays.set();
        spec.day_of_week_star = true;
        check_no_question_mark(kAws, fields[2], "day-of-month");
        read_aws_day_of_month(spec, fields[2]);
    }
    spec.any_year = false;  // '*' means 1970-2199
    spec.years = shifted<230>(FieldReader(kAws, kYear).list(fields[5]), 0);
    return spec;
}

ScheduleExpression::CronSpec parse_unix_cron(std::string_view text) {
    auto fields = split_fields(text);
    if (fields.size() != 5) {
        throw ScheduleExpressionError(
            "schedule expression must be rate(...), cron(...) or a five-field cron line "
            "(minute hour day-of-month month day-of-week); got " +
            std::to_string(fields.size()) + " field" + (fields.size() == 1 ? "" : "s"));
    }
    const std::array<std::string_view, 5> names = {"minute", "hour", "day-of-month", "month", "day-of-week"};
    for (size_t i = 0; i < fields.size(); ++i) check_no_question_mark(kUnix, fields[i], names[i]);

    ScheduleExpression::CronSpec spec;
    spec.minutes = shifted<60>(FieldReader(kUnix, kMinute).list(fields[0]), 0);
    spec.hours = shifted<24>(FieldReader(kUnix, kHour).list(fields[1]), 0);
    spec.days_of_month = shifted<32>(FieldReader(kUnix, kDayOfMonth).list(fields[2]), 1);
    spec.months = shifted<13>(FieldReader(kUnix, kMonth).list(fields[3]), 1);
    Values weekdays = FieldReader(kUnix, kUnixDayOfWeek).list(fields[4]);
    for (int d = 0; d < 7; ++d) spec.weekdays[d] = weekdays[d];
    if (weekdays[7]) spec.weekdays.set(0);  // 7 is Sunday too
    spec.day_of_month_star = fields[2].front() == '*';
    spec.day_of_week_star = fields[4].front() == '*';
    return spec;
}

}  // namespace sofaas
