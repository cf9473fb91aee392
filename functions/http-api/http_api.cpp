// http-api: a small REST API behind an HTTP endpoint. The event is the Lambda HTTP API
// v2 JSON; the output is a {"statusCode","headers","body"} object the gateway turns into
// the HTTP response. Deployed with the routes `GET /items/{id}` and `POST /items`:
//
//   $ curl localhost:8080/items/42
//   {"id":"42","name":"item 42"}
#include <sofaas/sofaas.hpp>

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <string_view>

using nlohmann::json;

namespace {

std::string respond(int status, const json& body) {
    return json{{"statusCode", status},
                {"headers", {{"content-type", "application/json"}}},
                {"body", body.dump()}}
        .dump();
}

std::string error(int status, std::string message) {
    return respond(status, json{{"error", std::move(message)}});
}

std::string decode_base64(std::string_view text) {
    static constexpr std::string_view alphabet =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string bytes;
    uint32_t bits = 0;
    int bit_count = 0;
    for (char c : text) {
        const size_t value = alphabet.find(c);
        if (value == std::string_view::npos) continue;  // '=' padding, line breaks
        bits = (bits << 6) | static_cast<uint32_t>(value);
        bit_count += 6;
        if (bit_count >= 8) {
            bit_count -= 8;
            bytes.push_back(static_cast<char>((bits >> bit_count) & 0xff));
        }
    }
    return bytes;
}

// The item id of ".../items/{id}": from the route's path parameters when the function is
// behind a custom route, else from the raw path (as under /fn/http-api/items/42).
std::optional<std::string> item_id(const json& event) {
    if (auto params = event.find("pathParameters"); params != event.end() && params->is_object())
        if (auto id = params->find("id"); id != params->end() && id->is_string())
            return id->get<std::string>();
    const std::string path = event.value("rawPath", "");
    const size_t items = path.rfind("/items/");
    if (items == std::string::npos) return std::nullopt;
    std::string id = path.substr(items + 7);
    if (id.empty() || id.find('/') != std::string::npos) return std::nullopt;
    return id;
}

bool is_collection(const json& event) {
    const std::string path = event.value("rawPath", "");
    return path.ends_with("/items") || path.ends_with("/items/");
}

std::string get_item(const std::string& id) {
    return respond(200, json{{"id", id}, {"name", "item " + id}});
}

std::string create_item(const json& event, std::string_view request_id) {
    std::string body = event.value("body", "");
    if (event.value("isBase64Encoded", false)) body = decode_base64(body);
    json item = json::parse(body, nullptr, /*allow_exceptions=*/false);
    if (item.is_discarded()) return error(400, "the body is not valid JSON");
    if (!item.is_object()) return error(400, "the body must be a JSON object");
    item["id"] = std::string(request_id);
    return respond(201, item);
}

sofaas::Response handle(const sofaas::Request& request) {
    const json event = json::parse(request.payload(), nullptr, /*allow_exceptions=*/false);
    if (!event.is_object() || !event.contains("requestContext"))
        return sofaas::Response::failure("expected an HTTP API v2 event", "InvalidEvent");
    const std::string method = event["requestContext"].value(json::json_pointer("/http/method"), "");

    if (method == "GET")
        if (auto id = item_id(event)) return sofaas::Response::success(get_item(*id));
    if (method == "POST" && is_collection(event))
        return sofaas::Response::success(create_item(event, request.request_id()));
    return sofaas::Response::success(error(404, "no route for " + method + " " +
                                                    event.value("rawPath", "")));
}

}  // namespace

SOFAAS_HANDLER(handle)
