// Time spec parsing (common/time.h parse_time_spec): the since/until of GET /v1/billing
// and `sofaas billing --since`. Properties: never an exception; an absolute time
// (one that does not depend on `now`) formats as RFC 3339 that parses back to itself.
#include <string_view>

#include "common/time.h"
#include "fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    using namespace sofaas;
    using namespace std::chrono;
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    const WallTime now = WallTime(sys_days(year(2026) / 11 / 27)) + hours(18);
    const auto parsed = parse_time_spec(text, now);
    if (!parsed) return 0;
    const auto a_day_later = parse_time_spec(text, now + days(1));
    fuzz::check(a_day_later.has_value(), "whether a spec parses does not depend on now");
    if (*a_day_later != *parsed) {
        fuzz::check(*parsed <= now, "a relative time is before now");
        return 0;
    }
    const auto formatted = format_rfc3339(*parsed);
    fuzz::check(parse_time_spec(formatted, now) == parsed, "RFC 3339 output parses back");
    return 0;
}
