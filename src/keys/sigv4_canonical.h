// The pieces of a SigV4 signature that are text rules rather than checks: reading the
// Authorization header and the request dates, and writing the canonical request. Used by
// sigv4.cpp only; declared here so the rules can be tested one by one.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/time.h"

namespace sofaas::sigv4 {

inline constexpr std::string_view algorithm = "AWS4-HMAC-SHA256";

// "AWS4-HMAC-SHA256 Credential=AKID/DATE/REGION/SERVICE/aws4_request, SignedHeaders=a;b,
// Signature=HEX", its parts still pointing into the header value.
struct AuthorizationHeader {
    std::string_view access_key_id;
    std::string_view date;  // YYYYMMDD
    std::string_view region;
    std::string_view service;
    std::string_view signed_headers;  // as sent: "host;x-amz-date"
    std::vector<std::string_view> signed_header_names;
    std::string_view signature;  // 64 lowercase hex digits
};

// The header, or why it is unreadable (a message in AWS's words).
struct ParsedAuthorization {
    std::optional<AuthorizationHeader> header;
    std::string error;
};
ParsedAuthorization parse_authorization(std::string_view value);

// X-Amz-Date: ISO 8601 basic format, 20261206T083000Z.
std::optional<WallTime> parse_amz_date(std::string_view text);
std::string format_amz_date(WallTime time);
// Date: the HTTP date (IMF-fixdate, "Sun, 06 Dec 2026 08:30:00 GMT"), or the "-0000"/"+0000"
// zone Python's email.utils.formatdate writes.
std::optional<WallTime> parse_http_date(std::string_view text);

// The path with dot segments and empty segments removed, then every byte but the
// unreserved ones (A-Z a-z 0-9 - _ . ~) and '/' percent-encoded. The path is taken as sent,
// already encoded, so it is encoded a second time: "hello%3Alive" signs as "hello%253Alive".
// That is what botocore signs for every service but S3, and what AWS verifies.
std::string canonical_uri(std::string_view raw_path);

// Each name and value decoded, then encoded again (unreserved bytes kept, the rest %XX);
// sorted by name, then value; joined "name=value&...". A name without '=' gets "name=".
std::string canonical_query(std::string_view raw_query);

// The decoded value of the first query parameter called `name`.
std::optional<std::string> query_parameter(std::string_view raw_query, std::string_view name);

// One "name:value\n" line per signed name, in the order given; the value is every
// header of that name (any case) in arrival order, each trimmed with inner runs of
// whitespace made one space, joined with ','. nullopt when a signed header is absent.
std::optional<std::string> canonical_headers(std::span<const std::string_view> signed_names,
                                             std::span<const std::pair<std::string, std::string>> headers);

}  // namespace sofaas::sigv4
