#include "events/schedule_expression.h"

#include <array>
#include <cctype>

#include "events/cron_spec.h"
#include "events/time_zone.h"

namespace sofaas {
namespace {

using namespace std::chrono;

constexpr seconds kLongestPeriod = days(36525);  // 100 years

std::string_view trim(std::string_view text) {
    while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) text.remove_prefix(1);
    while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.remove_suffix(1);
    return text;
}

// The text between "name(" and the final ')', or nullopt when `text` is not such a call.
std::optional<std::string_view> call_arguments(std::string_view text, std::string_view name) {
    if (text.substr(0, name.size() + 1) != std::string(name) + "(") return std::nullopt;
    if (text.back() != ')') {
        throw ScheduleExpressionError(std::string(name) + "(): missing ')' at the end");
    }
    return text.substr(name.size() + 1, text.size() - name.size() - 2);
}

struct RateUnit {
    std::string_view singular;
    std::string_view plural;
    seconds length;
};

constexpr std::array<RateUnit, 4> kRateUnits = {{
    {"second", "seconds", seconds(1)},
    {"minute", "minutes", minutes(1)},
    {"hour", "hours", hours(1)},
    {"day", "days", days(1)},
}};

seconds parse_rate(std::string_view arguments) {
    arguments = trim(arguments);
    size_t blank = arguments.find_first_of(" \t");
    if (arguments.empty() || blank == std::string_view::npos) {
        throw ScheduleExpressionError("rate(): expected 'rate(value unit)', such as rate(5 minutes)");
    }
    std::string_view value = arguments.substr(0, blank);
    std::string_view unit = trim(arguments.substr(blank));

    const RateUnit* found = nullptr;
    for (const RateUnit& candidate : kRateUnits) {
        if (unit == candidate.singular || unit == candidate.plural) found = &candidate;
    }
    if (!found) {
        throw ScheduleExpressionError("rate(): unit '" + std::string(unit) +
                                      "' is not one of second(s), minute(s), hour(s), day(s)");
    }
    for (char c : value) {
        if (c < '0' || c > '9') {
            throw ScheduleExpressionError("rate(): value '" + std::string(value) + "' is not a whole number");
        }
    }
    // Compared digit by digit first, so no count of any length can overflow.
    int64_t count = 0;
    int64_t longest = kLongestPeriod / found->length;
    for (char c : value) {
        count = count * 10 + (c - '0');
        if (count > longest) {
            throw ScheduleExpressionError("rate(): " + std::string(value) + " " + std::string(unit) +
                                          " is longer than 100 years");
        }
    }
    if (count == 0) throw ScheduleExpressionError("rate(): value must be positive, not '" + std::string(value) + "'");
    return found->length * count;
}

std::optional<sys_seconds> next_rate_time(sys_seconds t, sys_seconds anchor, seconds period) {
    // Whole periods elapsed since the anchor, in __int128 so that no two instants overflow.
    __int128 elapsed = static_cast<__int128>(t.time_since_epoch().count()) - anchor.time_since_epoch().count();
    __int128 periods = elapsed < 0 ? 1 : elapsed / period.count() + 1;
    __int128 next = anchor.time_since_epoch().count() + periods * period.count();
    if (next > sys_seconds::max().time_since_epoch().count()) return std::nullopt;
    return sys_seconds(seconds(static_cast<int64_t>(next)));
}

}  // namespace

ScheduleExpression ScheduleExpression::parse(std::string_view text) {
    std::string_view trimmed = trim(text);
    ScheduleExpression expression;
    expression.text_ = std::string(trimmed);
    if (trimmed.empty()) throw ScheduleExpressionError("schedule expression is empty");
    if (auto arguments = call_arguments(trimmed, "rate")) {
        expression.kind_ = ScheduleKind::rate;
        expression.period_ = parse_rate(*arguments);
    } else if (auto arguments = call_arguments(trimmed, "cron")) {
        expression.kind_ = ScheduleKind::aws_cron;
        expression.cron_ = std::make_shared<const CronSpec>(parse_aws_cron(*arguments));
    } else {
        expression.kind_ = ScheduleKind::unix_cron;
        expression.cron_ = std::make_shared<const CronSpec>(parse_unix_cron(trimmed));
    }
    return expression;
}

std::optional<sys_seconds> ScheduleExpression::next_after(sys_seconds t, const TimeZone& zone,
                                                          sys_seconds anchor) const {
    if (kind_ == ScheduleKind::rate) return next_rate_time(t, anchor, period_);
    return next_cron_time(*cron_, t, zone);
}

}  // namespace sofaas
