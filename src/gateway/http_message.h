// A request as the handlers see it: plain types, so the control API and the function
// endpoints compile without Beast and read like functions from request to response.
// Responses are HttpResponseParts (http_event.h).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sofaas {

struct IncomingRequest {
    std::string method;
    std::string target;  // as received: raw path + "?" + query
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
    std::string source_ip;
    std::string request_id;

    std::string_view path() const;
    std::string_view query() const;
    // Case-insensitive. First value, nullopt when absent.
    std::optional<std::string_view> header(std::string_view name) const;
    // Every value of a repeated header, in arrival order.
    std::vector<std::string_view> header_values(std::string_view name) const;
};

bool iequals(std::string_view a, std::string_view b);

// A header that cannot smuggle a second header or response into the one it is written in:
// a name of visible characters other than the separators ':', '(', ')', ',' and ';', and
// no CR, LF or NUL in the value.
bool is_safe_header(std::string_view name, std::string_view value);

}  // namespace sofaas
