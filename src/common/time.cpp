#include "common/time.h"

#include <charconv>
#include <cstdio>

namespace sofaas {
namespace {

using namespace std::chrono;

// Parses exactly `width` decimal digits at `pos`; advances pos.
bool digits(std::string_view text, size_t& pos, size_t width, int& out) {
    if (pos + width > text.size()) return false;
    int value = 0;
    for (size_t i = 0; i < width; ++i) {
        char c = text[pos + i];
        if (c < '0' || c > '9') return false;
        value = value * 10 + (c - '0');
    }
    out = value;
    pos += width;
    return true;
}

bool expect(std::string_view text, size_t& pos, char c) {
    if (pos >= text.size() || text[pos] != c) return false;
    ++pos;
    return true;
}

// Civil-calendar arithmetic from <chrono>: no TZ environment, no locale.
std::optional<sys_days> parse_date(std::string_view text, size_t& pos) {
    int y = 0, m = 0, d = 0;
    if (!digits(text, pos, 4, y) || !expect(text, pos, '-') || !digits(text, pos, 2, m) ||
        !expect(text, pos, '-') || !digits(text, pos, 2, d)) {
        return std::nullopt;
    }
    year_month_day date{year{y}, month{static_cast<unsigned>(m)}, day{static_cast<unsigned>(d)}};
    if (!date.ok()) return std::nullopt;
    return sys_days{date};
}

std::optional<WallTime> parse_relative(std::string_view text, WallTime now) {
    if (text.size() < 2) return std::nullopt;
    char unit = text.back();
    std::string_view number = text.substr(0, text.size() - 1);
    uint64_t n = 0;
    auto [end, ec] = std::from_chars(number.data(), number.data() + number.size(), n);
    if (ec != std::errc() || end != number.data() + number.size()) return std::nullopt;
    uint64_t unit_seconds = 0;
    switch (unit) {
        case 's': unit_seconds = 1; break;
        case 'm': unit_seconds = 60; break;
        case 'h': unit_seconds = 3600; break;
        case 'd': unit_seconds = 86400; break;
        case 'w': unit_seconds = 7 * 86400; break;
        default: return std::nullopt;
    }
    // Beyond ~100 years is a typo, not a query; also keeps the arithmetic far from overflow.
    if (n > 36500ULL * 86400 / unit_seconds) return std::nullopt;
    return now - seconds(n * unit_seconds);
}

std::optional<WallTime> parse_rfc3339(std::string_view text) {
    size_t pos = 0;
    auto date = parse_date(text, pos);
    if (!date) return std::nullopt;
    if (pos == text.size()) return WallTime(*date);  // date only: midnight UTC

    if (pos >= text.size() || (text[pos] != 'T' && text[pos] != 't' && text[pos] != ' ')) return std::nullopt;
    ++pos;
    int hh = 0, mm = 0, ss = 0;
    if (!digits(text, pos, 2, hh) || !expect(text, pos, ':') || !digits(text, pos, 2, mm) ||
        !expect(text, pos, ':') || !digits(text, pos, 2, ss)) {
        return std::nullopt;
    }
    if (hh > 23 || mm > 59 || ss > 59) return std::nullopt;

    int64_t fraction_us = 0;
    if (pos < text.size() && text[pos] == '.') {
        ++pos;
        size_t first = pos;
        int64_t scale = 100000;
        while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
            fraction_us += (text[pos] - '0') * scale;  // digits past microseconds are dropped
            scale /= 10;
            ++pos;
        }
        if (pos == first) return std::nullopt;
    }

    if (pos >= text.size()) return std::nullopt;  // RFC 3339 requires a zone
    int offset_minutes = 0;
    char zone = text[pos++];
    if (zone == 'Z' || zone == 'z') {
        // UTC
    } else if (zone == '+' || zone == '-') {
        int oh = 0, om = 0;
        if (!digits(text, pos, 2, oh) || !expect(text, pos, ':') || !digits(text, pos, 2, om)) return std::nullopt;
        if (oh > 23 || om > 59) return std::nullopt;
        offset_minutes = (oh * 60 + om) * (zone == '-' ? -1 : 1);
    } else {
        return std::nullopt;
    }
    if (pos != text.size()) return std::nullopt;

    WallTime local = WallTime(*date) + hours(hh) + minutes(mm) + seconds(ss) + microseconds(fraction_us);
    WallTime utc = local - minutes(offset_minutes);
    // An offset can carry 0000-01-01 or 9999-12-31 past the four-digit years that
    // format_rfc3339 (and RFC 3339) can write: found by tests/fuzz/time_spec_fuzz.cpp.
    if (utc < WallTime(sys_days(year(0) / 1 / 1)) || utc >= WallTime(sys_days(year(10000) / 1 / 1))) {
        return std::nullopt;
    }
    return utc;
}

}  // namespace

WallTime wall_now() {
    return time_point_cast<microseconds>(WallClock::now());
}

namespace {

// Written digit by digit: three timestamps go into every invocation's records, and
// snprintf's format parsing was a visible share of the request path.
void append_digits(std::string& out, uint64_t value, int width) {
    char digits[20];
    for (int i = width - 1; i >= 0; --i) {
        digits[i] = static_cast<char>('0' + value % 10);
        value /= 10;
    }
    out.append(digits, static_cast<size_t>(width));
}

void append_date(std::string& out, year_month_day date) {
    append_digits(out, static_cast<uint64_t>(static_cast<int>(date.year())), 4);
    out += '-';
    append_digits(out, static_cast<unsigned>(date.month()), 2);
    out += '-';
    append_digits(out, static_cast<unsigned>(date.day()), 2);
}

}  // namespace

void append_rfc3339(std::string& out, WallTime t) {
    const auto day = floor<days>(t);
    const hh_mm_ss time{t - day};
    append_date(out, year_month_day{day});
    out += 'T';
    append_digits(out, static_cast<uint64_t>(time.hours().count()), 2);
    out += ':';
    append_digits(out, static_cast<uint64_t>(time.minutes().count()), 2);
    out += ':';
    append_digits(out, static_cast<uint64_t>(time.seconds().count()), 2);
    out += '.';
    append_digits(out, static_cast<uint64_t>(time.subseconds().count()), 6);
    out += 'Z';
}

std::string format_rfc3339(WallTime t) {
    std::string text;
    text.reserve(27);
    append_rfc3339(text, t);
    return text;
}

std::string format_date(WallTime t) {
    std::string text;
    append_date(text, year_month_day{floor<days>(t)});
    return text;
}

std::optional<WallTime> parse_time_spec(std::string_view text, WallTime now) {
    if (text.empty()) return std::nullopt;
    if (text.size() >= 10 && text[4] == '-') return parse_rfc3339(text);
    return parse_relative(text, now);
}

}  // namespace sofaas
