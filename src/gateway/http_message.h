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

// A header as HTTP defines it (RFC 9110 5.1, 5.5): the name a token (letters, digits and
// !#$%&'*+-.^_`|~), the value without control characters other than tab. So it can neither
// split the response it is written in nor read differently to a client or a proxy.
bool is_valid_header(std::string_view name, std::string_view value);

// X-Sofaas-*, in any case: headers that only the platform sets.
bool is_platform_header(std::string_view name);

}  // namespace sofaas
