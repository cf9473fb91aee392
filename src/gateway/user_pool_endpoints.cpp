// /auth/POOL/...: what anyone may call on a user pool (docs/USERS.md): sign-up, sign-in,
// refresh and sign-out with small JSON bodies, and the pool's public keys and OpenID
// discovery document. Anonymous: every byte is read as hostile, no secret is logged, and
// password hashing runs on its own thread, a bounded number of calls waiting for it.
#include "gateway/user_pool_endpoints.h"

#include <atomic>
#include <optional>
#include <variant>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "gateway/awaitable_calls.h"
#include "gateway/responses.h"
#include "identity/token_verifier.h"
#include "identity/user_pools.h"

namespace sofaas {
namespace {

using nlohmann::json;
using identity::UserPoolError;

// Usernames, passwords and refresh tokens fit in far less.
constexpr size_t max_auth_body_bytes = 8 * 1024;
// Calls waiting for the password thread beyond which more are refused (429): each hash
// takes ~0.1 s, so a queue this long is already 3 s of waiting.
constexpr int max_waiting_password_calls = 32;

HttpResponseParts pool_error(const UserPoolError& error) {
    using Kind = UserPoolError::Kind;
    switch (error.kind()) {
        case Kind::invalid: return error_response(400, "InvalidParameterException", error.what());
        case Kind::weak_password: return error_response(400, "InvalidPasswordException", error.what());
        case Kind::exists: return error_response(409, "UsernameExistsException", error.what());
        case Kind::not_found: return error_response(404, "ResourceNotFoundException", error.what());
        case Kind::not_authorized: return error_response(401, "NotAuthorizedException", error.what());
        case Kind::sign_up_closed: return error_response(403, "NotAuthorizedException", error.what());
        case Kind::locked: {
            HttpResponseParts response = error_response(429, "TooManyRequestsException", error.what());
            response.headers.emplace_back("Retry-After", std::to_string(error.retry_after().count()));
            return response;
        }
    }
    return internal_error();
}

// The named string fields of a JSON object body, each required; any other field is refused.
std::variant<std::vector<std::string>, HttpResponseParts> string_fields(std::string_view body,
                                                                        std::initializer_list<const char*> names) {
    const json object = json::parse(body, nullptr, false);
    std::string shape;
    for (const char* name : names) shape += fmt::format("{}\"{}\": \"...\"", shape.empty() ? "" : ", ", name);
    if (!object.is_object()) return bad_request("The body must be a JSON object: {" + shape + "}");
    std::vector<std::string> values;
    for (const char* name : names) {
        const auto field = object.find(name);
        if (field == object.end() || !field->is_string()) {
            return bad_request(fmt::format("\"{}\" must be a string (body: {{{}}})", name, shape));
        }
        values.push_back(field->get<std::string>());
    }
    if (object.size() != names.size()) return bad_request("Unknown field in the body: {" + shape + "} only");
    return values;
}

std::string tokens_json(const identity::IssuedTokens& tokens) {
    json answer = {{"id_token", tokens.id_token},
                   {"access_token", tokens.access_token},
                   {"token_type", "Bearer"},
                   {"expires_in", tokens.expires_in.count()}};
    if (!tokens.refresh_token.empty()) answer["refresh_token"] = tokens.refresh_token;
    return answer.dump();
}

HttpResponseParts no_store(HttpResponseParts response) {
    // Tokens are secrets: no cache on the way may keep them.
    response.headers.emplace_back("Cache-Control", "no-store");
    return response;
}

std::string openid_configuration(const std::string& issuer, const identity::UserPool& pool) {
    const json document = {
        {"issuer", issuer},
        {"jwks_uri", issuer + "/.well-known/jwks.json"},
        {"token_endpoint", issuer + "/sign-in"},
        {"response_types_supported", {"token"}},
        {"subject_types_supported", {"public"}},
        {"id_token_signing_alg_values_supported", {"ES256"}},
        {"scopes_supported", {"openid"}},
        {"claims_supported", {"sub", "iss", "aud", "exp", "iat", "auth_time", "token_use", "username", "sid"}},
        {"client_id", pool.client_id}};
    return document.dump();
}

}  // namespace

bool is_user_pool_path(std::string_view path) { return path.starts_with("/auth/"); }

boost::asio::awaitable<HttpResponseParts> handle_user_pool_endpoint(HandlerContext& context,
                                                                    const IncomingRequest& request) {
    const std::string_view rest = request.path().substr(6);  // after "/auth/"
    const size_t slash = rest.find('/');
    const std::string pool(rest.substr(0, slash));
    const std::string_view action = slash == std::string_view::npos ? std::string_view() : rest.substr(slash + 1);
    identity::UserPools& pools = context.services.user_pools;
    const std::string issuer = identity::pool_issuer(context.services.config.users.issuer_url,
                                                     request.header("Host").value_or(""), pool);
    // Every answer names the pool only as the caller wrote it, once it is known to exist.
    if (!pools.find_pool(pool)) co_return not_found("User pool not found");

    if (action == ".well-known/jwks.json" || action == ".well-known/openid-configuration") {
        if (request.method != "GET" && request.method != "HEAD") co_return method_not_allowed(request.method, request.path());
        if (action == ".well-known/jwks.json") {
            HttpResponseParts response = json_response(200, pools.jwks(pool));
            // Short: a rotated key must reach verifiers before tokens signed with it do.
            response.headers.emplace_back("Cache-Control", "max-age=300");
            co_return response;
        }
        co_return json_response(200, openid_configuration(issuer, *pools.find_pool(pool)));
    }
    const bool known_action = action == "sign-up" || action == "sign-in" || action == "refresh" || action == "sign-out";
    if (!known_action) co_return not_found("No such user pool endpoint (sign-up, sign-in, refresh, sign-out, .well-known/...)");
    if (request.method != "POST") co_return method_not_allowed(request.method, request.path());
    if (request.body.size() > max_auth_body_bytes) co_return payload_too_large(max_auth_body_bytes);

    std::optional<HttpResponseParts> answer;
    const auto refused = [&](const UserPoolError& error) {
        // The reason, never the password or token: those are in no log line.
        spdlog::info("[{}] user pool {}: {} refused: {}", request.request_id, pool, action, error.what());
        answer = pool_error(error);
    };

    if (action == "refresh" || action == "sign-out") {
        auto fields = string_fields(request.body, {"refresh_token"});
        if (auto* bad = std::get_if<HttpResponseParts>(&fields)) co_return std::move(*bad);
        const std::string refresh_token = std::get<std::vector<std::string>>(fields).at(0);
        // SQLite writes of a few rows: on the disk thread, as deploys and keys are.
        co_await run_blocking(context.disk_work, [&] {
            try {
                if (action == "refresh") {
                    answer = no_store(json_response(200, tokens_json(pools.refresh(pool, refresh_token))));
                } else {
                    pools.sign_out(pool, refresh_token);
                    answer = json_response(200, json{{"signed_out", true}}.dump());
                }
            } catch (const UserPoolError& error) {
                refused(error);
            }
        });
        co_return std::move(*answer);
    }

    auto fields = string_fields(request.body, {"username", "password"});
    if (auto* bad = std::get_if<HttpResponseParts>(&fields)) co_return std::move(*bad);
    const auto& values = std::get<std::vector<std::string>>(fields);
    const std::string& username = values.at(0);
    const std::string& password = values.at(1);
    struct WaitingCall {
        std::atomic<int>& count;
        ~WaitingCall() { count.fetch_sub(1); }
    } waiting{context.password_calls_waiting};
    if (waiting.count.fetch_add(1) >= max_waiting_password_calls) {
        co_return too_many_requests("Too many sign-ins at once: try again in a moment");
    }
    co_await run_blocking(context.password_work, [&] {
        try {
            if (action == "sign-up") {
                const identity::PoolUser user = pools.sign_up(pool, username, password);
                spdlog::info("[{}] user pool {}: user {} signed up", request.request_id, pool, user.sub);
                answer = json_response(201, json{{"username", user.username}, {"sub", user.sub}}.dump());
            } else {
                answer = no_store(
                    json_response(200, tokens_json(pools.sign_in(pool, username, password, request.source_ip, issuer))));
            }
        } catch (const UserPoolError& error) {
            refused(error);
        }
    });
    co_return std::move(*answer);
}

}  // namespace sofaas
