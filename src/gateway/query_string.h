// Request targets as received: "/path?a=1&b=x%20y". Used by the event mapping
// (rawPath, queryStringParameters) and the control API (deploy settings, ?version=N).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sofaas {

struct SplitTarget {
    std::string_view path;   // raw, still percent-encoded
    std::string_view query;  // after '?', raw; empty when there is none
};
SplitTarget split_target(std::string_view target);

// "/a//b/" -> a, b (raw, views into `path`). Empty segments are ignored: "/items/" is
// "/items".
std::vector<std::string_view> path_segments(std::string_view path);

// %XX sequences decoded; a malformed sequence is kept as is. `plus_is_space` for query
// strings (application/x-www-form-urlencoded), not for paths.
std::string percent_decode(std::string_view text, bool plus_is_space);

// "a=1&b=x+y&a=2" -> (a,1) (b,x y) (a,2), decoded, in arrival order. "flag" -> (flag,"").
std::vector<std::pair<std::string, std::string>> parse_query(std::string_view query);

}  // namespace sofaas

namespace sofaas {

using QueryParams = std::vector<std::pair<std::string, std::string>>;

// The first value of `key`, nullopt when absent.
std::optional<std::string> find_param(const QueryParams& params, std::string_view key);
// Decimal digits only, within T (uint32_t or uint64_t); nullopt otherwise.
template <typename T = uint32_t>
std::optional<T> parse_unsigned(std::string_view text);

}  // namespace sofaas
