#include "gateway/jwt_authorizer.h"

#include <algorithm>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "gateway/http_message.h"
#include "gateway/responses.h"

namespace sofaas {
namespace {

// What API Gateway answers: {"message": "Unauthorized"} and a challenge (RFC 6750 3)
// that says why, in words that carry no key material.
HttpResponseParts refused(int status, std::string_view message, std::string challenge) {
    HttpResponseParts response = json_response(status, nlohmann::json{{"message", message}}.dump());
    response.headers.emplace_back("WWW-Authenticate", std::move(challenge));
    return response;
}

std::string challenge_text(std::string_view text) {
    // Challenge parameters are quoted strings: no quote, backslash or control character inside.
    std::string clean;
    for (const char c : text) {
        if (c != '"' && c != '\\' && static_cast<unsigned char>(c) >= 0x20 && c != 0x7f) clean += c;
    }
    return clean;
}

}  // namespace

std::variant<JwtClaims, HttpResponseParts> authorize_jwt(const IdentityTokenVerifier& verifier, const UserSettings& users,
                                                         const FunctionSpec& spec,
                                                         std::optional<std::string_view> authorization) {
    constexpr std::string_view scheme = "bearer ";
    if (!authorization || authorization->size() <= scheme.size() ||
        !iequals(authorization->substr(0, scheme.size()), scheme)) {
        return refused(401, "Unauthorized", "Bearer realm=\"sofaas\"");
    }
    std::string_view token = authorization->substr(scheme.size());
    while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
    const auto provider = std::find_if(users.oidc_providers.begin(), users.oidc_providers.end(),
                                       [&](const OidcProviderSettings& p) { return p.name == spec.jwt_pool; });
    const bool external = provider != users.oidc_providers.end();
    auto verified = verifier.verify(token, TokenUse::access,
                                    external ? std::nullopt : std::optional<std::string_view>(spec.jwt_pool));
    // A provider's route takes that provider's tokens, no pool's and no other provider's.
    if (const auto* identity = std::get_if<VerifiedIdentity>(&verified);
        identity && external && (!identity->pool.empty() || identity->issuer != provider->issuer)) {
        verified = TokenRejection{TokenRejectionKind::unknown_issuer, "The token is not one of " + provider->name};
    }
    if (const auto* rejection = std::get_if<TokenRejection>(&verified)) {
        return refused(401, "Unauthorized",
                       fmt::format("Bearer realm=\"sofaas\", error=\"invalid_token\", error_description=\"{}\"",
                                   challenge_text(rejection->message)));
    }
    const VerifiedIdentity& identity = std::get<VerifiedIdentity>(verified);
    if (!spec.jwt_scope.empty() &&
        std::find(identity.scopes.begin(), identity.scopes.end(), spec.jwt_scope) == identity.scopes.end()) {
        return refused(403, "Forbidden",
                       fmt::format("Bearer realm=\"sofaas\", error=\"insufficient_scope\", scope=\"{}\"",
                                   challenge_text(spec.jwt_scope)));
    }
    JwtClaims claims;
    // API Gateway gives every claim as a string: a string as it is, anything else as its JSON.
    for (const auto& [name, json_text] : identity.claims_json) {
        const nlohmann::json value = nlohmann::json::parse(json_text, nullptr, false);
        claims.claims.emplace(name, value.is_string() ? value.get<std::string>() : json_text);
    }
    claims.scopes = identity.scopes;
    return claims;
}

}  // namespace sofaas
