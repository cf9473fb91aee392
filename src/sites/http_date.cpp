#include "sites/http_date.h"

#include <ctime>

namespace sofaas {

std::string format_http_date(WallTime time) {
    const std::time_t seconds = std::chrono::duration_cast<std::chrono::seconds>(time.time_since_epoch()).count();
    std::tm parts{};
    gmtime_r(&seconds, &parts);
    char text[64];
    const size_t length = std::strftime(text, sizeof text, "%a, %d %b %Y %H:%M:%S GMT", &parts);
    return std::string(text, length);
}

std::optional<WallTime> parse_http_date_text(std::string_view text) {
    if (text.size() != 29) return std::nullopt;
    const std::string copy(text);
    std::tm parts{};
    const char* end = strptime(copy.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &parts);
    if (end == nullptr || *end != '\0') return std::nullopt;
    const std::time_t seconds = timegm(&parts);
    if (seconds == -1) return std::nullopt;
    return WallTime(std::chrono::seconds(seconds));
}

}  // namespace sofaas
