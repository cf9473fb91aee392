// HTTP dates (RFC 9110 5.6.7): Last-Modified and If-Modified-Since.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "common/time.h"

namespace sofaas {

// IMF-fixdate: "Sun, 06 Dec 2026 14:00:00 GMT" (whole seconds, as HTTP dates have).
std::string format_http_date(WallTime time);
// IMF-fixdate only (the form every current client sends); nullopt for anything else.
std::optional<WallTime> parse_http_date_text(std::string_view text);

}  // namespace sofaas
