// The HTTP-to-event mapping (gateway/http_event.h make_http_event) with what a client
// controls: method, target, headers and body. Input layout:
//   METHOD\n TARGET\n (NAME: VALUE\n)* \n BODY
// Properties: the event is always a JSON object a function can parse, and the body
// reaches the function unchanged (as text, or base64 that decodes to it).
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "fuzz_input.h"
#include "gateway/base64.h"
#include "gateway/http_event.h"
#include "gateway/query_string.h"
#include "gateway/utf8.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    using namespace sofaas;
    fuzz::FuzzInput input(data, size);
    HttpRequestParts request;
    request.method = input.line();
    request.target = input.line();
    std::vector<HttpRequestParts::Header> headers;
    while (!input.empty()) {
        const std::string_view header = input.line();
        if (header.empty()) break;
        const size_t colon = header.find(':');
        const std::string_view name = header.substr(0, colon);
        const std::string_view value =
            colon == std::string_view::npos ? std::string_view() : header.substr(colon + 1);
        headers.emplace_back(std::string(name), std::string(value));
    }
    request.headers = headers;
    request.body = input.rest();
    request.source_ip = "127.0.0.1";
    request.route_key = "$default";
    request.request_id = "fuzz-request";
    request.function = "fuzz";

    const auto event = nlohmann::json::parse(make_http_event(request), nullptr, false);
    fuzz::check(event.is_object(), "the event is a JSON object");
    fuzz::check(event.value("version", "") == "2.0", "the event says version 2.0");
    fuzz::check(event["headers"].is_object(), "headers is an object");
    fuzz::check(event["requestContext"]["http"].is_object(), "requestContext.http is an object");
    if (is_valid_utf8(request.target))
        fuzz::check(event["rawPath"] == std::string(split_target(request.target).path), "rawPath is the path as sent");

    const bool base64 = event["isBase64Encoded"].get<bool>();
    if (request.body.empty()) {
        fuzz::check(!event.contains("body") && !base64, "no body, no body field");
    } else if (base64) {
        fuzz::check(base64_decode(event["body"].get<std::string>()) == std::string(request.body),
                    "a base64 body decodes to the bytes sent");
    } else {
        fuzz::check(event["body"] == std::string(request.body), "a text body arrives unchanged");
    }
    return 0;
}
