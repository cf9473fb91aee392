// The Lambda function-URL (API Gateway HTTP API v2) payload and response mapping, as
// documented by AWS, so handlers written for Lambda read the same fields here.
#include "gateway/http_event.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <chrono>
#include <ctime>
#include <string_view>
#include <unordered_map>

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "common/json_writer.h"
#include "gateway/base64.h"
#include "gateway/http_message.h"
#include "gateway/query_string.h"
#include "gateway/responses.h"
#include "gateway/utf8.h"

namespace sofaas {
namespace {

using Json = nlohmann::ordered_json;

std::string to_lower(std::string_view text) {
    std::string out(text);
    std::ranges::transform(out, out.begin(), [](unsigned char c) { return std::tolower(c); });
    return out;
}

std::string_view trim(std::string_view text) {
    while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
    while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
    return text;
}

// Bodies of these media types reach the function as text; everything else as base64.
bool is_text_media_type(std::string_view content_type) {
    const std::string type = to_lower(trim(content_type.substr(0, content_type.find(';'))));
    return type.starts_with("text/") || type == "application/json" || type == "application/xml" ||
           type == "application/x-www-form-urlencoded" || type.ends_with("+json") ||
           type.ends_with("+xml");
}

// Apache common-log time, as requestContext.time: "27/Nov/2026:18:43:49 +0000". Written
// into `text`, as it is made on every request.
using RequestTimeText = std::array<char, 32>;
std::string_view request_time(std::chrono::system_clock::time_point now, RequestTimeText& text) {
    static constexpr const char* months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                             "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    const std::time_t seconds = std::chrono::system_clock::to_time_t(now);
    std::tm utc{};
    gmtime_r(&seconds, &utc);
    const auto written = fmt::format_to_n(text.data(), text.size(), "{:02}/{}/{:04}:{:02}:{:02}:{:02} +0000",
                                          utc.tm_mday, months[utc.tm_mon], utc.tm_year + 1900, utc.tm_hour,
                                          utc.tm_min, utc.tm_sec);
    return {text.data(), std::min(written.size, text.size())};
}

using Fields = std::vector<std::pair<std::string, std::string>>;

void add_cookies(std::vector<std::string_view>& cookies, std::string_view header) {
    while (!header.empty()) {
        const size_t separator = header.find(';');
        const std::string_view cookie = trim(header.substr(0, separator));
        if (!cookie.empty()) cookies.push_back(cookie);
        if (separator == std::string_view::npos) break;
        header.remove_prefix(separator + 1);
    }
}

// Joins repeated names with "," in arrival order, as Lambda does. A request has a handful
// of names, found by a linear search; a hostile one has thousands (a 16 KiB query string
// holds 3000), and a search through all the names before each would cost the io thread
// milliseconds per request: past a handful, an index finds them.
Fields joined(Fields pairs) {
    constexpr size_t searched_linearly = 16;
    Fields out;
    out.reserve(pairs.size());  // never reallocates: the index's views into `out` stay valid
    std::unordered_map<std::string_view, size_t> index;
    for (auto& [name, value] : pairs) {
        Fields::iterator found = out.end();
        if (out.size() <= searched_linearly) {
            found = std::ranges::find(out, name, &Fields::value_type::first);
        } else {
            if (index.empty()) {
                for (size_t i = 0; i < out.size(); ++i) index.emplace(out[i].first, i);
            }
            if (const auto at = index.find(name); at != index.end()) found = out.begin() + at->second;
        }
        if (found != out.end()) {
            found->second += ',';
            found->second += value;
            continue;
        }
        out.emplace_back(std::move(name), std::move(value));
        if (!index.empty()) index.emplace(out.back().first, out.size() - 1);
    }
    return out;
}

template <typename Pairs>
void write_object(JsonWriter& json, const Pairs& pairs) {
    json.begin_object();
    for (const auto& [name, value] : pairs) json.field(name, value);
    json.end_object();
}

// Most plain-text output fails JSON parsing at its first byte, but setting up the parser
// cost more than the rest of the response mapping: decide from that byte first.
bool may_start_json(std::string_view output) {
    const size_t first = output.find_first_not_of(" \t\r\n");
    if (first == std::string_view::npos) return false;
    const char c = output[first];
    return c == '{' || c == '[' || c == '"' || c == '-' || (c >= '0' && c <= '9') || c == 't' || c == 'f' ||
           c == 'n' || c == '\xEF';  // 0xEF: a UTF-8 byte order mark, which the parser skips
}

// Room for Content-Type and the headers every invocation adds (add_invocation_headers),
// so the vector is allocated once per response.
constexpr size_t invocation_header_room = 1 + invocation_header_count;

// The output becomes the body as it is: moved, never copied (it may be 6 MiB).
FunctionResponse raw_output(std::string output) {
    FunctionResponse mapped;
    HttpResponseParts& response = mapped.response;
    response.headers.reserve(invocation_header_room);
    response.headers.emplace_back("Content-Type", is_valid_utf8(output) ? "text/plain; charset=utf-8"
                                                                        : "application/octet-stream");
    response.body = std::move(output);
    return mapped;
}

FunctionResponse json_output(std::string output) {
    FunctionResponse mapped;
    HttpResponseParts& response = mapped.response;
    response.headers.reserve(invocation_header_room);
    response.headers.emplace_back("Content-Type", "application/json");
    response.body = std::move(output);
    return mapped;
}

}  // namespace

// Built on every request: JsonWriter, not a DOM. Header values are not guaranteed UTF-8:
// the writer replaces bad bytes rather than fail the request.
std::string make_http_event(const HttpRequestParts& request) {
    const auto [raw_path, raw_query] = split_target(request.target);

    std::vector<std::string_view> cookies;
    Fields headers;
    headers.reserve(request.headers.size());
    std::string_view content_type, user_agent, host;
    for (const auto& [name, value] : request.headers) {
        std::string lower = to_lower(name);
        // Lambda moves cookies out of the headers into their own array.
        if (lower == "cookie") {
            add_cookies(cookies, value);
            continue;
        }
        if (lower == "content-type") content_type = value;
        if (lower == "user-agent") user_agent = value;
        if (lower == "host") host = value;
        headers.emplace_back(std::move(lower), value);
    }

    const auto now = std::chrono::system_clock::now();
    RequestTimeText time_text;
    std::string event;
    event.reserve(768 + request.body.size() * 4 / 3);
    JsonWriter json(event);
    json.begin_object()
        .field("version", "2.0")
        .field("routeKey", request.route_key)
        .field("rawPath", raw_path)
        .field("rawQueryString", raw_query);
    if (!cookies.empty()) {
        json.key("cookies").begin_array();
        for (std::string_view cookie : cookies) json.value(cookie);
        json.end_array();
    }
    json.key("headers");
    write_object(json, joined(std::move(headers)));
    if (auto query = parse_query(raw_query); !query.empty()) {
        json.key("queryStringParameters");
        write_object(json, joined(std::move(query)));
    }
    if (!request.path_parameters.empty()) {
        json.key("pathParameters");
        write_object(json, request.path_parameters);
    }

    json.key("requestContext")
        .begin_object()
        .field("accountId", "anonymous")
        .field("apiId", request.function)
        .field("domainName", host.empty() ? std::string_view("localhost") : host)
        .field("domainPrefix", request.function)
        .key("http")
        .begin_object()
        .field("method", request.method)
        .field("path", raw_path)
        .field("protocol", "HTTP/1.1")
        .field("sourceIp", request.source_ip)
        .field("userAgent", user_agent)
        .end_object()
        .field("requestId", request.request_id);
    if (request.authorizer != nullptr) {
        json.key("authorizer").begin_object().key("jwt").begin_object().key("claims");
        write_object(json, request.authorizer->claims);
        json.key("scopes").begin_array();
        for (const std::string& scope : request.authorizer->scopes) json.value(scope);
        json.end_array().end_object().end_object();
    }
    json.field("routeKey", request.route_key)
        .field("stage", "$default")
        .field("time", request_time(now, time_text))
        .field("timeEpoch",
               static_cast<int64_t>(
                   std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count()))
        .end_object();

    const bool as_text = is_text_media_type(content_type) && is_valid_utf8(request.body);
    if (!request.body.empty()) {
        if (as_text) {
            json.field("body", request.body);
        } else {
            json.field("body", base64_encode(request.body));
        }
    }
    json.field("isBase64Encoded", !request.body.empty() && !as_text).end_object();
    return event;
}

std::variant<FunctionResponse, InvalidResponse> map_function_output(std::string output) {
    if (!may_start_json(output)) return raw_output(std::move(output));
    Json json = Json::parse(output, nullptr, false);
    if (json.is_discarded()) return raw_output(std::move(output));
    if (!json.is_object() || !json.contains("statusCode")) return json_output(std::move(output));

    const Json& status = json["statusCode"];
    // 1xx are interim answers: as the final one, the client would wait for another.
    if (!status.is_number_integer() || status.get<int64_t>() < 200 || status.get<int64_t>() > 599) {
        return InvalidResponse{"statusCode must be an integer from 200 to 599"};
    }
    FunctionResponse mapped;
    HttpResponseParts& response = mapped.response;
    response.status = status.get<int>();

    bool has_content_type = false;
    if (json.contains("headers")) {
        const Json& headers = json["headers"];
        if (!headers.is_object()) return InvalidResponse{"headers must be an object"};
        for (const auto& [name, value] : headers.items()) {
            // Names are quoted as JSON: they may hold any byte, CR and LF included.
            const std::string quoted = Json(name).dump(-1, ' ', false, Json::error_handler_t::replace);
            if (!value.is_primitive() || value.is_null()) {
                return InvalidResponse{fmt::format("header {} must be a string", quoted)};
            }
            std::string text = value.is_string() ? value.get<std::string>() : value.dump();
            if (!is_valid_header(name, text)) {
                return InvalidResponse{fmt::format("header {} is not a valid HTTP header", quoted)};
            }
            if (is_platform_header(name)) {
                mapped.dropped_headers.push_back(name);
                continue;
            }
            if (iequals(name, "content-type")) has_content_type = true;
            response.headers.emplace_back(name, std::move(text));
        }
    }
    if (json.contains("cookies")) {
        const Json& cookies = json["cookies"];
        if (!cookies.is_array()) return InvalidResponse{"cookies must be an array of strings"};
        for (const Json& cookie : cookies) {
            if (!cookie.is_string() || !is_valid_header("Set-Cookie", cookie.get<std::string>())) {
                return InvalidResponse{"cookies must be an array of strings without control characters"};
            }
            response.headers.emplace_back("Set-Cookie", cookie.get<std::string>());
        }
    }
    if (json.contains("body") && !json["body"].is_null()) {
        const Json& body = json["body"];
        response.body = body.is_string() ? body.get<std::string>() : body.dump();
        const auto base64 = json.find("isBase64Encoded");
        if (base64 != json.end() && base64->is_boolean() && base64->get<bool>()) {
            auto decoded = base64_decode(response.body);
            if (!decoded) return InvalidResponse{"body is not valid base64"};
            response.body = std::move(*decoded);
        }
    }
    if (!has_content_type && !response.body.empty()) {
        response.headers.emplace_back("Content-Type", "application/json");
    }
    return mapped;
}

}  // namespace sofaas
