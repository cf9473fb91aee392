// /v1/keys: creating, listing and deleting API keys (keys/api_keys.h). Admin only; the
// secret is in the answer to the create and nowhere else.
#include <optional>
#include <variant>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "common/time.h"
#include "gateway/awaitable_calls.h"
#include "gateway/control_api.h"
#include "gateway/responses.h"
#include "keys/api_keys.h"

namespace sofaas {
namespace {

using nlohmann::json;

json public_part(const ApiKey& key) {
    return {{"name", key.name},
            {"access_key_id", key.access_key_id},
            {"scope", to_string(key.scope)},
            {"functions", key.functions},
            {"created", format_rfc3339(key.created)}};
}

HttpResponseParts key_error(const KeyError& error) {
    switch (error.kind()) {
        case KeyError::Kind::invalid: return bad_request(error.what());
        case KeyError::Kind::exists: return conflict(error.what());
        case KeyError::Kind::not_found: return not_found(error.what());
        case KeyError::Kind::unavailable: return service_unavailable(error.what());
    }
    return internal_error();
}

struct KeyRequest {
    std::string name;
    KeyScope scope = KeyScope::invoke;
    std::vector<std::string> functions;
};

std::variant<KeyRequest, HttpResponseParts> parse_key_request(std::string_view body) {
    const json object = json::parse(body, nullptr, false);
    if (!object.is_object()) return bad_request("The body must be a JSON object: {\"name\", \"scope\", \"functions\"}");
    KeyRequest request;
    const auto name = object.find("name");
    if (name == object.end() || !name->is_string()) return bad_request("\"name\" must be a string");
    request.name = name->get<std::string>();
    if (const auto scope = object.find("scope"); scope != object.end()) {
        const auto parsed = scope->is_string() ? parse_key_scope(scope->get<std::string>()) : std::nullopt;
        if (!parsed) return bad_request("\"scope\" must be \"admin\", \"invoke\" or \"metrics\"");
        request.scope = *parsed;
    }
    if (const auto functions = object.find("functions"); functions != object.end()) {
        if (!functions->is_array()) return bad_request("\"functions\" must be an array of function names");
        for (const auto& function : *functions) {
            if (!function.is_string()) return bad_request("\"functions\" must be an array of function names");
            request.functions.push_back(function.get<std::string>());
        }
    }
    for (const auto& [field, value] : object.items()) {
        if (field != "name" && field != "scope" && field != "functions")
            return bad_request("Unknown field \"" + field + "\" (name, scope, functions)");
    }
    return request;
}

}  // namespace

boost::asio::awaitable<HttpResponseParts> handle_keys_api(HandlerContext& context, const IncomingRequest& request,
                                                          const std::vector<std::string>& path) {
    KeyStore& keys = context.services.keys;
    const std::string& method = request.method;
    if (path.size() == 2) {
        if (method == "GET") {
            json listed = json::array();
            for (const auto& key : keys.list()) listed.push_back(public_part(key));
            co_return json_response(200, json{{"keys", listed}}.dump());
        }
        if (method != "POST") co_return method_not_allowed(method, request.path());
        auto parsed = parse_key_request(request.body);
        if (auto* refusal = std::get_if<HttpResponseParts>(&parsed)) co_return std::move(*refusal);
        KeyRequest wanted = std::get<KeyRequest>(std::move(parsed));
        std::optional<CreatedKey> created;
        std::optional<HttpResponseParts> refusal;
        // The key file is written and fsync'd: off the io thread.
        co_await run_blocking(context.disk_work, [&] {
            try {
                created = keys.create(wanted.name, wanted.scope, std::move(wanted.functions));
            } catch (const KeyError& error) {
                refusal = key_error(error);
            }
        });
        if (refusal) co_return std::move(*refusal);
        spdlog::info("[{}] key {} created ({}, id {})", request.request_id, created->key.name,
                     to_string(created->key.scope), created->key.access_key_id);
        json answer = public_part(created->key);
        answer["secret_access_key"] = created->secret_access_key;
        co_return json_response(201, answer.dump());
    }
    if (path.size() == 3) {
        if (method != "DELETE") co_return method_not_allowed(method, request.path());
        std::optional<HttpResponseParts> refusal;
        co_await run_blocking(context.disk_work, [&] {
            try {
                keys.remove(path[2]);
            } catch (const KeyError& error) {
                refusal = key_error(error);
            }
        });
        if (refusal) co_return std::move(*refusal);
        spdlog::info("[{}] key {} deleted", request.request_id, path[2]);
        co_return json_response(200, json{{"deleted", path[2]}}.dump());
    }
    co_return not_found("No such API: " + method + " " + std::string(request.path()));
}

}  // namespace sofaas
