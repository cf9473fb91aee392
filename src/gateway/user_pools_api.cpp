// /v1/user-pools: an administrator's side of the user pools (identity/user_pools.h):
// pools, their signing keys, their users. Admin only; passwords come in and never go out.
#include <algorithm>
#include <functional>
#include <optional>
#include <variant>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "gateway/awaitable_calls.h"
#include "gateway/control_api.h"
#include "gateway/responses.h"
#include "identity/user_pools.h"

namespace sofaas {
namespace {

using nlohmann::json;
using identity::UserPoolError;

json pool_json(const identity::UserPool& pool) {
    return {{"name", pool.name},
            {"client_id", pool.client_id},
            {"self_sign_up", pool.self_sign_up},
            {"min_password_length", pool.min_password_length},
            {"key_ids", pool.key_ids},
            {"created", format_rfc3339(pool.created)}};
}

json user_json(const identity::PoolUser& user) {
    return {{"username", user.username},
            {"sub", user.sub},
            {"enabled", user.enabled},
            {"scopes", user.scopes},
            {"created", format_rfc3339(user.created)}};
}

HttpResponseParts admin_pool_error(const UserPoolError& error) {
    using Kind = UserPoolError::Kind;
    switch (error.kind()) {
        case Kind::invalid:
        case Kind::weak_password: return bad_request(error.what());
        case Kind::exists: return conflict(error.what());
        case Kind::not_found: return not_found(error.what());
        default: return bad_request(error.what());
    }
}

// The body's object, with only `allowed` fields; or the 400 that says why not.
std::variant<json, HttpResponseParts> body_object(std::string_view body, std::initializer_list<std::string_view> allowed) {
    json object = json::parse(body, nullptr, false);
    if (!object.is_object()) return bad_request("The body must be a JSON object");
    for (const auto& item : object.items()) {
        if (std::find(allowed.begin(), allowed.end(), item.key()) == allowed.end()) {
            return bad_request(fmt::format("Unknown field \"{}\"", item.key()));
        }
    }
    return object;
}

// Runs `work` on the password thread (a user's password is hashed) or the disk thread,
// mapping a refusal to its answer.
HttpResponseParts answer_of(const std::function<HttpResponseParts()>& work) {
    try {
        return work();
    } catch (const UserPoolError& error) {
        return admin_pool_error(error);
    }
}

HttpResponseParts pools_collection(HandlerContext& context, const IncomingRequest& request) {
    identity::UserPools& pools = context.services.user_pools;
    if (request.method == "GET") {
        json listed = json::array();
        for (const auto& pool : pools.list_pools()) listed.push_back(pool_json(pool));
        return json_response(200, json{{"pools", listed}}.dump());
    }
    if (request.method != "POST") return method_not_allowed(request.method, request.path());
    auto parsed = body_object(request.body, {"name", "self_sign_up", "min_password_length"});
    if (auto* bad = std::get_if<HttpResponseParts>(&parsed)) return std::move(*bad);
    const json& object = std::get<json>(parsed);
    if (!object.contains("name") || !object["name"].is_string()) return bad_request("\"name\" must be a string");
    bool self_sign_up = true;
    if (object.contains("self_sign_up")) {
        if (!object["self_sign_up"].is_boolean()) return bad_request("\"self_sign_up\" must be true or false");
        self_sign_up = object["self_sign_up"].get<bool>();
    }
    uint32_t min_length = 8;
    if (object.contains("min_password_length")) {
        if (!object["min_password_length"].is_number_unsigned()) {
            return bad_request("\"min_password_length\" must be a whole number from 8 to 256");
        }
        min_length = static_cast<uint32_t>(std::min<uint64_t>(object["min_password_length"].get<uint64_t>(), 1u << 20));
    }
    return answer_of([&] {
        const identity::UserPool pool = pools.create_pool(object["name"].get<std::string>(), self_sign_up, min_length);
        spdlog::info("[{}] user pool {} created", request.request_id, pool.name);
        return json_response(201, pool_json(pool).dump());
    });
}

HttpResponseParts users_collection(HandlerContext& context, const IncomingRequest& request, const std::string& pool) {
    identity::UserPools& pools = context.services.user_pools;
    if (request.method == "GET") {
        return answer_of([&] {
            json listed = json::array();
            for (const auto& user : pools.list_users(pool)) listed.push_back(user_json(user));
            return json_response(200, json{{"users", listed}}.dump());
        });
    }
    if (request.method != "POST") return method_not_allowed(request.method, request.path());
    auto parsed = body_object(request.body, {"username", "password", "scopes"});
    if (auto* bad = std::get_if<HttpResponseParts>(&parsed)) return std::move(*bad);
    const json& object = std::get<json>(parsed);
    if (!object.contains("username") || !object["username"].is_string() || !object.contains("password") ||
        !object["password"].is_string()) {
        return bad_request("\"username\" and \"password\" must be strings");
    }
    std::vector<std::string> scopes;
    if (object.contains("scopes")) {
        const json& listed = object["scopes"];
        if (!listed.is_array() || listed.size() > 32) return bad_request("\"scopes\" must be an array of up to 32 scopes");
        for (const json& scope : listed) {
            if (!scope.is_string()) return bad_request("\"scopes\" must be an array of strings");
            scopes.push_back(scope.get<std::string>());
        }
    }
    return answer_of([&] {
        const identity::PoolUser user = pools.add_user(pool, object["username"].get<std::string>(),
                                                       object["password"].get<std::string>(), std::move(scopes));
        spdlog::info("[{}] user pool {}: user {} added ({})", request.request_id, pool, user.username, user.sub);
        return json_response(201, user_json(user).dump());
    });
}

HttpResponseParts one_user(HandlerContext& context, const IncomingRequest& request, const std::string& pool,
                           const std::string& username) {
    identity::UserPools& pools = context.services.user_pools;
    if (request.method == "DELETE") {
        return answer_of([&] {
            pools.delete_user(pool, username);
            spdlog::info("[{}] user pool {}: user {} deleted", request.request_id, pool, username);
            return json_response(200, json{{"deleted", username}}.dump());
        });
    }
    if (request.method != "PATCH") return method_not_allowed(request.method, request.path());
    auto parsed = body_object(request.body, {"enabled"});
    if (auto* bad = std::get_if<HttpResponseParts>(&parsed)) return std::move(*bad);
    const json& object = std::get<json>(parsed);
    if (!object.contains("enabled") || !object["enabled"].is_boolean()) return bad_request("\"enabled\" must be true or false");
    const bool enabled = object["enabled"].get<bool>();
    return answer_of([&] {
        pools.set_user_enabled(pool, username, enabled);
        spdlog::info("[{}] user pool {}: user {} {}", request.request_id, pool, username, enabled ? "enabled" : "disabled");
        return json_response(200, json{{"username", username}, {"enabled", enabled}}.dump());
    });
}

HttpResponseParts user_pools_api(HandlerContext& context, const IncomingRequest& request,
                                 const std::vector<std::string>& path) {
    identity::UserPools& pools = context.services.user_pools;
    if (path.size() == 2) return pools_collection(context, request);
    const std::string& pool = path[2];
    if (path.size() == 3) {
        if (request.method != "DELETE") return method_not_allowed(request.method, request.path());
        return answer_of([&] {
            pools.delete_pool(pool);
            spdlog::info("[{}] user pool {} deleted", request.request_id, pool);
            return json_response(200, json{{"deleted", pool}}.dump());
        });
    }
    if (path.size() == 4 && path[3] == "rotate-key") {
        if (request.method != "POST") return method_not_allowed(request.method, request.path());
        return answer_of([&] {
            const std::string kid = pools.rotate_key(pool);
            spdlog::info("[{}] user pool {}: signing key {} in use", request.request_id, pool, kid);
            return json_response(200, pool_json(*pools.find_pool(pool)).dump());
        });
    }
    if (path.size() == 4 && path[3] == "users") return users_collection(context, request, pool);
    if (path.size() == 5 && path[3] == "users") return one_user(context, request, pool, path[4]);
    return not_found(fmt::format("No such API: {} {}", request.method, request.path()));
}

}  // namespace

boost::asio::awaitable<HttpResponseParts> handle_user_pools_api(HandlerContext& context, const IncomingRequest& request,
                                                                const std::vector<std::string>& path) {
    std::optional<HttpResponseParts> answer;
    // Adding a user hashes its password (~0.1 s): on the password thread, with sign-ins.
    const bool hashes = path.size() == 4 && path[3] == "users" && request.method == "POST";
    co_await run_blocking(hashes ? context.password_work : context.disk_work,
                          [&] { answer = user_pools_api(context, request, path); });
    co_return std::move(*answer);
}

}  // namespace sofaas
