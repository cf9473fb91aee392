// /v1/roles: creating, showing, listing and deleting roles (sts/role_store.h), and revoking
// the temporary credentials issued for one. Admin only. Deleting a role revokes its
// sessions too.
#include <optional>
#include <variant>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "common/function_spec.h"
#include "common/time.h"
#include "gateway/awaitable_calls.h"
#include "gateway/control_api.h"
#include "gateway/responses.h"
#include "keys/session_store.h"
#include "sts/role_store.h"

namespace sofaas {
namespace {

using nlohmann::json;

json role_json(const Role& role, const Config& config) {
    json grants = json::array();
    for (const auto& grant : role.grants) grants.push_back(grant.text());
    return {{"name", role.name},
            {"arn", "arn:aws:iam::" + config.account_id + ":role/" + role.name},
            {"invoke", grants},
            {"max_session_s", role.max_session.count()},
            {"trusted_pools", role.trusted_pools},
            {"created", format_rfc3339(role.created)}};
}

HttpResponseParts role_error(const RoleError& error) {
    switch (error.kind()) {
        case RoleError::Kind::invalid: return bad_request(error.what());
        case RoleError::Kind::exists: return conflict(error.what());
        case RoleError::Kind::not_found: return not_found(error.what());
    }
    return internal_error();
}

std::variant<Role, HttpResponseParts> parse_role_request(std::string_view body) {
    const json object = json::parse(body, nullptr, false);
    constexpr std::string_view shape = "{\"name\", \"invoke\": [...], \"max_session_s\", \"trusted_pools\": [...]}";
    if (!object.is_object()) return bad_request("The body must be a JSON object: " + std::string(shape));
    Role role;
    const auto name = object.find("name");
    if (name == object.end() || !name->is_string()) return bad_request("\"name\" must be a string");
    role.name = name->get<std::string>();
    const auto strings = [&](const char* field, std::vector<std::string>& into) -> std::optional<HttpResponseParts> {
        const auto found = object.find(field);
        if (found == object.end()) return std::nullopt;
        const auto refusal = bad_request("\"" + std::string(field) + "\" must be an array of strings");
        if (!found->is_array()) return refusal;
        for (const auto& item : *found) {
            if (!item.is_string()) return refusal;
            into.push_back(item.get<std::string>());
        }
        return std::nullopt;
    };
    std::vector<std::string> grants;
    if (auto refusal = strings("invoke", grants)) return std::move(*refusal);
    for (const auto& text : grants) {
        std::string why;
        auto grant = parse_invoke_grant(text, &why);
        if (!grant) return bad_request(why);
        role.grants.push_back(std::move(*grant));
    }
    if (auto refusal = strings("trusted_pools", role.trusted_pools)) return std::move(*refusal);
    if (const auto max_session = object.find("max_session_s"); max_session != object.end()) {
        if (!max_session->is_number_unsigned()) return bad_request("\"max_session_s\" must be a number of seconds");
        role.max_session = std::chrono::seconds(std::min<uint64_t>(max_session->get<uint64_t>(), 1u << 30));
    }
    for (const auto& [field, value] : object.items()) {
        if (field != "name" && field != "invoke" && field != "trusted_pools" && field != "max_session_s")
            return bad_request("Unknown field \"" + field + "\" (name, invoke, max_session_s, trusted_pools)");
    }
    return role;
}

// Runs `change` (which writes and fsyncs a file) off the io thread; a RoleError it throws
// becomes its answer.
boost::asio::awaitable<std::optional<HttpResponseParts>> change_roles(HandlerContext& context,
                                                                      std::function<void()> change) {
    std::optional<HttpResponseParts> refusal;
    co_await run_blocking(context.disk_work, [&] {
        try {
            change();
        } catch (const RoleError& error) {
            refusal = role_error(error);
        }
    });
    co_return refusal;
}

}  // namespace

boost::asio::awaitable<HttpResponseParts> handle_roles_api(HandlerContext& context, const IncomingRequest& request,
                                                           const std::vector<std::string>& path) {
    RoleStore& roles = context.services.roles;
    SessionStore& sessions = context.services.sessions;
    const Config& config = context.services.config;
    const std::string& method = request.method;
    if (path.size() == 2) {
        if (method == "GET") {
            json listed = json::array();
            for (const auto& role : roles.list()) listed.push_back(role_json(role, config));
            co_return json_response(200, json{{"roles", listed}}.dump());
        }
        if (method != "POST") co_return method_not_allowed(method, request.path());
        auto parsed = parse_role_request(request.body);
        if (auto* refusal = std::get_if<HttpResponseParts>(&parsed)) co_return std::move(*refusal);
        Role wanted = std::get<Role>(std::move(parsed));
        std::optional<Role> created;
        if (auto refusal = co_await change_roles(context, [&] { created = roles.create(std::move(wanted)); })) {
            co_return std::move(*refusal);
        }
        spdlog::info("[{}] role {} created", request.request_id, created->name);
        co_return json_response(201, role_json(*created, config).dump());
    }
    const std::string& name = path[2];
    if (!is_valid_function_name(name)) co_return bad_request("Role names are 1-64 characters of A-Z a-z 0-9 _ -");
    if (path.size() == 3) {
        if (method == "GET") {
            const std::optional<Role> role = roles.find(name);
            if (!role) co_return not_found("No role named '" + name + "'");
            json shown = role_json(*role, config);
            json live = json::array();
            for (const Session& session : sessions.live_sessions(name)) {
                live.push_back({{"access_key_id", session.access_key_id},
                                {"user_sub", session.user_sub},
                                {"issuer", session.issuer},
                                {"session_name", session.session_name},
                                {"expires", format_rfc3339(session.expires)}});
            }
            shown["sessions"] = std::move(live);
            co_return json_response(200, shown.dump());
        }
        if (method != "DELETE") co_return method_not_allowed(method, request.path());
        size_t revoked = 0;
        if (auto refusal = co_await change_roles(context, [&] {
                roles.remove(name);
                revoked = sessions.revoke_role(name);
            })) {
            co_return std::move(*refusal);
        }
        spdlog::info("[{}] role {} deleted, {} sessions revoked", request.request_id, name, revoked);
        co_return json_response(200, json{{"deleted", name}, {"sessions_revoked", revoked}}.dump());
    }
    if (path.size() == 4 && path[3] == "revoke-sessions") {
        if (method != "POST") co_return method_not_allowed(method, request.path());
        size_t revoked = 0;
        if (auto refusal = co_await change_roles(context, [&] {
                if (!roles.find(name)) throw RoleError(RoleError::Kind::not_found, "No role named '" + name + "'");
                revoked = sessions.revoke_role(name);
            })) {
            co_return std::move(*refusal);
        }
        spdlog::info("[{}] role {}: {} sessions revoked", request.request_id, name, revoked);
        co_return json_response(200, json{{"role", name}, {"sessions_revoked", revoked}}.dump());
    }
    co_return not_found("No such API: " + method + " " + std::string(request.path()));
}

}  // namespace sofaas
