#include "keys/sigv4_canonical.h"

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>

namespace sofaas::sigv4 {
namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_lower_hex(char c) { return is_digit(c) || (c >= 'a' && c <= 'f'); }
bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; }

bool is_unreserved(char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || is_digit(c) || c == '-' || c == '_' || c == '.' ||
           c == '~';
}

// A header name as SignedHeaders lists it: lowercase letters, digits and the other token
// characters of RFC 9110.
bool is_signed_header_name(std::string_view name) {
    if (name.empty()) return false;
    return std::all_of(name.begin(), name.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || is_digit(c) || std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
    });
}

std::string_view trim(std::string_view text) {
    while (!text.empty() && is_space(text.front())) text.remove_prefix(1);
    while (!text.empty() && is_space(text.back())) text.remove_suffix(1);
    return text;
}

std::vector<std::string_view> split(std::string_view text, char separator) {
    std::vector<std::string_view> parts;
    for (;;) {
        const size_t at = text.find(separator);
        parts.push_back(text.substr(0, at));
        if (at == std::string_view::npos) return parts;
        text.remove_prefix(at + 1);
    }
}

void append_encoded(std::string& out, std::string_view bytes, bool keep_slash) {
    static constexpr char digits[] = "0123456789ABCDEF";
    for (const char c : bytes) {
        if (is_unreserved(c) || (keep_slash && c == '/')) {
            out += c;
        } else {
            const auto byte = static_cast<unsigned char>(c);
            out += '%';
            out += digits[byte >> 4];
            out += digits[byte & 0x0f];
        }
    }
}

int hex_value(char c) {
    if (is_digit(c)) return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// '%XX' becomes its byte; a '%' not followed by two hex digits stays itself. '+' is a
// plus sign here, as in every SigV4 implementation.
std::string percent_decode(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '%' && i + 2 < text.size() && hex_value(text[i + 1]) >= 0 && hex_value(text[i + 2]) >= 0) {
            out += static_cast<char>(hex_value(text[i + 1]) * 16 + hex_value(text[i + 2]));
            i += 2;
        } else {
            out += text[i];
        }
    }
    return out;
}

std::vector<std::pair<std::string, std::string>> decoded_query(std::string_view raw_query) {
    std::vector<std::pair<std::string, std::string>> parameters;
    if (raw_query.empty()) return parameters;
    for (const std::string_view pair : split(raw_query, '&')) {
        const size_t equals = pair.find('=');
        const std::string_view name = pair.substr(0, equals);
        const std::string_view value = equals == std::string_view::npos ? std::string_view() : pair.substr(equals + 1);
        parameters.emplace_back(percent_decode(name), percent_decode(value));
    }
    return parameters;
}

std::optional<unsigned> read_number(std::string_view digits) {
    unsigned number = 0;
    for (const char c : digits) {
        if (!is_digit(c)) return std::nullopt;
        number = number * 10 + static_cast<unsigned>(c - '0');
    }
    return number;
}

std::optional<WallTime> utc_time(unsigned year, unsigned month, unsigned day, unsigned hour, unsigned minute,
                                 unsigned second) {
    const std::chrono::year_month_day date{std::chrono::year(static_cast<int>(year)), std::chrono::month(month),
                                           std::chrono::day(day)};
    if (!date.ok() || hour > 23 || minute > 59 || second > 59) return std::nullopt;
    const auto seconds = std::chrono::sys_days(date) + std::chrono::hours(hour) + std::chrono::minutes(minute) +
                         std::chrono::seconds(second);
    return std::chrono::time_point_cast<std::chrono::microseconds>(seconds);
}

}  // namespace

ParsedAuthorization parse_authorization(std::string_view value) {
    const auto refuse = [](std::string message) { return ParsedAuthorization{std::nullopt, std::move(message)}; };
    if (!value.starts_with(algorithm) || value.size() == algorithm.size() || !is_space(value[algorithm.size()])) {
        return refuse("Unsupported AWS signing algorithm: only AWS4-HMAC-SHA256 is accepted.");
    }
    std::optional<std::string_view> credential, signed_headers, signature;
    for (const std::string_view part : split(value.substr(algorithm.size()), ',')) {
        const std::string_view item = trim(part);
        const size_t equals = item.find('=');
        if (equals == std::string_view::npos) return refuse("Authorization header elements must be NAME=VALUE.");
        const std::string_view name = item.substr(0, equals);
        std::optional<std::string_view>* slot = name == "Credential"      ? &credential
                                                : name == "SignedHeaders" ? &signed_headers
                                                : name == "Signature"     ? &signature
                                                                          : nullptr;
        if (!slot) return refuse("Unknown element '" + std::string(name.substr(0, 40)) + "' in the Authorization header.");
        if (*slot) return refuse("Authorization header has '" + std::string(name) + "' more than once.");
        *slot = item.substr(equals + 1);
    }
    for (const auto& [name, slot] : {std::pair{"Credential", &credential}, std::pair{"SignedHeaders", &signed_headers},
                                     std::pair{"Signature", &signature}}) {
        if (!*slot) return refuse(std::string("Authorization header requires '") + name + "' parameter.");
    }

    AuthorizationHeader header;
    const std::vector<std::string_view> scope = split(*credential, '/');
    if (scope.size() != 5 || std::any_of(scope.begin(), scope.end(), [](auto part) { return part.empty(); })) {
        return refuse("Credential must be ACCESS_KEY_ID/YYYYMMDD/REGION/SERVICE/aws4_request.");
    }
    if (scope[1].size() != 8 || !read_number(scope[1])) return refuse("Credential date must be YYYYMMDD.");
    if (scope[4] != "aws4_request") return refuse("Credential should be scoped with a valid terminator: 'aws4_request'.");
    header.access_key_id = scope[0];
    header.date = scope[1];
    header.region = scope[2];
    header.service = scope[3];

    header.signed_headers = *signed_headers;
    header.signed_header_names = split(*signed_headers, ';');
    for (const std::string_view name : header.signed_header_names) {
        if (!is_signed_header_name(name)) return refuse("SignedHeaders must be lowercase header names separated by ';'.");
    }
    std::vector<std::string_view> sorted = header.signed_header_names;
    std::sort(sorted.begin(), sorted.end());
    if (std::adjacent_find(sorted.begin(), sorted.end()) != sorted.end()) {
        return refuse("SignedHeaders names a header more than once.");
    }

    if (signature->size() != 64 || !std::all_of(signature->begin(), signature->end(), is_lower_hex)) {
        return refuse("Signature must be 64 lowercase hexadecimal digits.");
    }
    header.signature = *signature;
    return {std::move(header), {}};
}

std::optional<WallTime> parse_amz_date(std::string_view text) {
    if (text.size() != 16 || text[8] != 'T' || text[15] != 'Z') return std::nullopt;
    const auto year = read_number(text.substr(0, 4)), month = read_number(text.substr(4, 2)),
               day = read_number(text.substr(6, 2)), hour = read_number(text.substr(9, 2)),
               minute = read_number(text.substr(11, 2)), second = read_number(text.substr(13, 2));
    if (!year || !month || !day || !hour || !minute || !second) return std::nullopt;
    return utc_time(*year, *month, *day, *hour, *minute, *second);
}

std::string format_amz_date(WallTime time) {
    const auto seconds = std::chrono::floor<std::chrono::seconds>(time);
    const auto days = std::chrono::floor<std::chrono::days>(seconds);
    const std::chrono::year_month_day date(days);
    const std::chrono::hh_mm_ss clock(seconds - days);
    char text[32];
    std::snprintf(text, sizeof text, "%04d%02u%02uT%02d%02d%02dZ", static_cast<int>(date.year()),
                  static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()),
                  static_cast<int>(clock.hours().count()), static_cast<int>(clock.minutes().count()),
                  static_cast<int>(clock.seconds().count()));
    return text;
}

std::optional<WallTime> parse_http_date(std::string_view text) {
    // "Sun, 06 Dec 2026 08:30:00 GMT": the weekday is not checked, as HTTP allows.
    static constexpr std::array<std::string_view, 12> months = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                                "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    if (text.size() < 29 || text.substr(3, 2) != ", " || text[7] != ' ' || text[11] != ' ' || text[16] != ' ' ||
        text[19] != ':' || text[22] != ':' || text[25] != ' ') {
        return std::nullopt;
    }
    const std::string_view zone = text.substr(26);
    if (zone != "GMT" && zone != "-0000" && zone != "+0000") return std::nullopt;
    const auto month = std::find(months.begin(), months.end(), text.substr(8, 3));
    if (month == months.end()) return std::nullopt;
    const auto year = read_number(text.substr(12, 4)), day = read_number(text.substr(5, 2)),
               hour = read_number(text.substr(17, 2)), minute = read_number(text.substr(20, 2)),
               second = read_number(text.substr(23, 2));
    if (!year || !day || !hour || !minute || !second) return std::nullopt;
    return utc_time(*year, static_cast<unsigned>(month - months.begin() + 1), *day, *hour, *minute, *second);
}

std::string canonical_uri(std::string_view raw_path) {
    if (raw_path.empty()) return "/";
    // RFC 3986 5.2.4, and runs of '/' made one, as botocore's remove_dot_segments does.
    std::vector<std::string_view> segments;
    for (const std::string_view segment : split(raw_path, '/')) {
        if (segment.empty() || segment == ".") continue;
        if (segment == "..") {
            if (!segments.empty()) segments.pop_back();
            continue;
        }
        segments.push_back(segment);
    }
    std::string path = raw_path.front() == '/' ? "/" : "";
    for (size_t i = 0; i < segments.size(); ++i) {
        if (i > 0) path += '/';
        path += segments[i];
    }
    if (raw_path.back() == '/' && !segments.empty()) path += '/';

    std::string encoded;
    encoded.reserve(path.size() + 16);
    append_encoded(encoded, path, true);
    return encoded;
}

std::string canonical_query(std::string_view raw_query) {
    std::vector<std::pair<std::string, std::string>> encoded;
    for (const auto& [name, value] : decoded_query(raw_query)) {
        std::pair<std::string, std::string> pair;
        append_encoded(pair.first, name, false);
        append_encoded(pair.second, value, false);
        encoded.push_back(std::move(pair));
    }
    std::sort(encoded.begin(), encoded.end());
    std::string query;
    for (const auto& [name, value] : encoded) {
        if (!query.empty()) query += '&';
        query += name;
        query += '=';
        query += value;
    }
    return query;
}

std::optional<std::string> query_parameter(std::string_view raw_query, std::string_view name) {
    for (auto& [parameter, value] : decoded_query(raw_query)) {
        if (parameter == name) return std::move(value);
    }
    return std::nullopt;
}

std::optional<std::string> canonical_headers(std::span<const std::string_view> signed_names,
                                             std::span<const std::pair<std::string, std::string>> headers) {
    std::string lines;
    for (const std::string_view name : signed_names) {
        lines += name;
        lines += ':';
        bool found = false;
        for (const auto& [header_name, value] : headers) {
            if (header_name.size() != name.size() ||
                !std::equal(name.begin(), name.end(), header_name.begin(), [](char lower, char any) {
                    return lower == (any >= 'A' && any <= 'Z' ? static_cast<char>(any - 'A' + 'a') : any);
                })) {
                continue;
            }
            if (found) lines += ',';
            found = true;
            // Python's ' '.join(value.split()): trimmed, each run of whitespace one space.
            bool in_space = false;
            for (const char c : trim(value)) {
                if (is_space(c)) {
                    in_space = true;
                    continue;
                }
                if (in_space) lines += ' ';
                in_space = false;
                lines += c;
            }
        }
        if (!found) return std::nullopt;
        lines += '\n';
    }
    return lines;
}

}  // namespace sofaas::sigv4
