// Time zones of the system tz database (/usr/share/zoneinfo), for schedules whose cron
// fields are local times ("every day at 02:30 in Europe/Paris").
//
// A TimeZone is immutable once made: copies share the loaded rules, and any thread may use
// one. Offsets are seconds east of UTC (Paris in winter: +3600). Instants are handled from
// year -9999 to 9999; outside that they are clamped to those limits.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace sofaas {

class TimeZoneError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// What a local civil time is in UTC.
struct LocalTimeInUtc {
    enum class Kind {
        unique,  // the clocks show it exactly once
        gap,     // the clocks skip it (spring forward)
        fold,    // the clocks show it twice (fall back)
    };
    Kind kind;
    // unique: the instant. fold: its first occurrence. gap: the first instant after the gap
    // (the moment the clocks jumped).
    std::chrono::sys_seconds earliest;
    // fold: its second occurrence. Otherwise the same as `earliest`.
    std::chrono::sys_seconds latest;
};

class TimeZone {
public:
    // A zone of the tz database by name ("Europe/Paris", "Etc/GMT+5"). The name may hold
    // only letters, digits and "_+-/", must not start with '/' nor contain "..", and is at
    // most 255 characters. "UTC" needs no file. nullopt with the reason in *why otherwise.
    static std::optional<TimeZone> load(std::string_view name, std::string* why = nullptr);
    // The same, throwing TimeZoneError with that reason.
    static TimeZone load_or_throw(std::string_view name);
    // A zone from the bytes of a TZif file (RFC 8536); `name` is only its label.
    static std::optional<TimeZone> from_tzif(std::string name, std::string_view bytes, std::string* why = nullptr);
    // A zone from a POSIX TZ string alone, as TZif footers hold them: "CET-1CEST,M3.5.0,M10.5.0/3".
    static std::optional<TimeZone> from_posix_rule(std::string_view rule, std::string* why = nullptr);

    static TimeZone utc();
    // The same offset at every instant, named like "UTC+05:45".
    static TimeZone fixed(std::chrono::seconds offset);

    const std::string& name() const;
    std::chrono::seconds utc_offset_at(std::chrono::sys_seconds t) const;
    std::chrono::local_seconds to_local(std::chrono::sys_seconds t) const;
    LocalTimeInUtc to_utc(std::chrono::local_seconds local) const;

    struct Rules;  // defined in events/time_zone_rules.h

private:
    explicit TimeZone(std::shared_ptr<const Rules> rules);
    std::shared_ptr<const Rules> rules_;
};

}  // namespace sofaas
