#include "events/time_zone.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "events/time_zone_rules.h"

namespace sofaas {
namespace {

using namespace std::chrono;

constexpr std::string_view kZoneDirectory = "/usr/share/zoneinfo";
constexpr size_t kMaxNameLength = 255;
// The largest files of the database are under 10 KiB.
constexpr std::streamsize kMaxFileSize = 1 << 20;
// Farther than any offset a zone has ever had (RFC 8536 allows -25 h to +26 h).
constexpr seconds kMaxOffset = hours(27);

const sys_seconds kEarliest = sys_days{year{-9999} / January / 1};
const sys_seconds kLatest = sys_days{year{9999} / December / 31};

sys_seconds clamp(sys_seconds t) { return std::clamp(t, kEarliest, kLatest); }

// Why `name` may not be looked up as a file, or empty when it may.
std::string name_problem(std::string_view name) {
    if (name.empty()) return "time zone name is empty";
    if (name.size() > kMaxNameLength) return "time zone name is longer than 255 characters";
    if (name.front() == '/') return "time zone name '" + std::string(name) + "' must not start with '/'";
    if (name.find("..") != std::string_view::npos) {
        return "time zone name '" + std::string(name) + "' must not contain '..'";
    }
    for (char c : name) {
        bool allowed = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
                       c == '+' || c == '-' || c == '/';
        if (!allowed) {
            return "time zone name '" + std::string(name) + "' holds a character other than letters, digits and _+-/";
        }
    }
    return {};
}

std::string offset_name(seconds offset) {
    if (offset == seconds(0)) return "UTC";
    auto magnitude = abs(offset);
    auto h = duration_cast<hours>(magnitude);
    auto m = duration_cast<minutes>(magnitude - h);
    auto s = magnitude - h - m;
    char text[32];
    if (s == seconds(0)) {
        std::snprintf(text, sizeof text, "UTC%c%02d:%02d", offset < seconds(0) ? '-' : '+', int(h.count()),
                      int(m.count()));
    } else {
        std::snprintf(text, sizeof text, "UTC%c%02d:%02d:%02d", offset < seconds(0) ? '-' : '+', int(h.count()),
                      int(m.count()), int(s.count()));
    }
    return text;
}

}  // namespace

seconds TimeZone::Rules::offset_at(sys_seconds t) const {
    if (footer && t > footer_from) return footer->offset_at(t);
    auto after = std::upper_bound(transition_times.begin(), transition_times.end(), t);
    if (after == transition_times.begin()) return initial_offset;
    return offsets_after[std::distance(transition_times.begin(), after) - 1];
}

std::vector<OffsetChange> TimeZone::Rules::changes_between(sys_seconds from, sys_seconds to) const {
    std::vector<OffsetChange> changes;
    auto first = std::upper_bound(transition_times.begin(), transition_times.end(), from);
    for (auto it = first; it != transition_times.end() && *it <= to; ++it) {
        size_t i = std::distance(transition_times.begin(), it);
        changes.push_back({*it, i == 0 ? initial_offset : offsets_after[i - 1], offsets_after[i]});
    }
    if (footer && to > footer_from) {
        for (const OffsetChange& change : footer->changes_between(std::max(from, footer_from), to)) {
            changes.push_back(change);
        }
    }
    return changes;
}

TimeZone::TimeZone(std::shared_ptr<const Rules> rules) : rules_(std::move(rules)) {}

std::optional<TimeZone> TimeZone::load(std::string_view name, std::string* why) {
    auto fail = [&](std::string reason) -> std::optional<TimeZone> {
        if (why) *why = std::move(reason);
        return std::nullopt;
    };
    if (std::string problem = name_problem(name); !problem.empty()) return fail(problem);
    if (name == "UTC") return utc();

    std::filesystem::path file = std::filesystem::path(kZoneDirectory) / name;
    std::error_code error;
    if (!std::filesystem::is_regular_file(file, error)) {
        return fail("unknown time zone '" + std::string(name) + "' (no file " + file.string() + ")");
    }
    std::ifstream in(file, std::ios::binary);
    std::string bytes(kMaxFileSize + 1, '\0');
    in.read(bytes.data(), kMaxFileSize + 1);
    if (in.bad() || (!in.eof() && in.fail())) return fail("cannot read " + file.string());
    if (in.gcount() > kMaxFileSize) return fail(file.string() + " is too large for a time zone file");
    bytes.resize(static_cast<size_t>(in.gcount()));
    return from_tzif(std::string(name), bytes, why);
}

TimeZone TimeZone::load_or_throw(std::string_view name) {
    std::string why;
    auto zone = load(name, &why);
    if (!zone) throw TimeZoneError(why);
    return std::move(*zone);
}

std::optional<TimeZone> TimeZone::from_tzif(std::string name, std::string_view bytes, std::string* why) {
    auto rules = parse_tzif(std::move(name), bytes, why);
    if (!rules) return std::nullopt;
    return TimeZone(std::make_shared<const Rules>(std::move(*rules)));
}

std::optional<TimeZone> TimeZone::from_posix_rule(std::string_view rule, std::string* why) {
    auto parsed = PosixTzRule::parse(rule, why);
    if (!parsed) return std::nullopt;
    Rules rules;
    rules.name = std::string(rule);
    rules.footer = std::move(*parsed);
    return TimeZone(std::make_shared<const Rules>(std::move(rules)));
}

TimeZone TimeZone::utc() { return fixed(seconds(0)); }

TimeZone TimeZone::fixed(seconds offset) {
    if (abs(offset) >= kMaxOffset) throw TimeZoneError("fixed UTC offset out of range: " + offset_name(offset));
    Rules rules;
    rules.name = offset_name(offset);
    rules.initial_offset = offset;
    return TimeZone(std::make_shared<const Rules>(std::move(rules)));
}

const std::string& TimeZone::name() const { return rules_->name; }

seconds TimeZone::utc_offset_at(sys_seconds t) const { return rules_->offset_at(clamp(t)); }

local_seconds TimeZone::to_local(sys_seconds t) const {
    t = clamp(t);
    return local_seconds((t + rules_->offset_at(t)).time_since_epoch());
}

LocalTimeInUtc TimeZone::to_utc(local_seconds local) const {
    // The instant is local - offset for one of the offsets in effect within a day or so of
    // it: try each offset of that window against the part of the window it governs.
    sys_seconds as_if_utc = clamp(sys_seconds(local.time_since_epoch()));
    sys_seconds window_start = as_if_utc - kMaxOffset;
    std::vector<OffsetChange> changes = rules_->changes_between(window_start, as_if_utc + kMaxOffset);

    std::vector<sys_seconds> found;
    seconds offset = rules_->offset_at(window_start);
    for (size_t i = 0; i <= changes.size(); ++i) {
        sys_seconds candidate = as_if_utc - offset;
        bool after_start = i == 0 || candidate >= changes[i - 1].at;
        bool before_end = i == changes.size() || candidate < changes[i].at;
        if (after_start && before_end) found.push_back(candidate);
        if (i < changes.size()) offset = changes[i].after;
    }
    if (!found.empty()) {
        std::sort(found.begin(), found.end());
        auto kind = found.size() == 1 ? LocalTimeInUtc::Kind::unique : LocalTimeInUtc::Kind::fold;
        return {kind, found.front(), found.back()};
    }
    for (const OffsetChange& change : changes) {
        if (change.at + change.before <= as_if_utc && as_if_utc < change.at + change.after) {
            return {LocalTimeInUtc::Kind::gap, change.at, change.at};
        }
    }
    // Unreachable for consistent rules; the offset of the day before is a fair answer.
    sys_seconds guess = as_if_utc - rules_->offset_at(window_start);
    return {LocalTimeInUtc::Kind::unique, guess, guess};
}

}  // namespace sofaas
