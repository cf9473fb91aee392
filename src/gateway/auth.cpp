#include "gateway/auth.h"

#include "gateway/gateway.h"
#include "gateway/responses.h"
#include "sts/role_store.h"

namespace sofaas {
namespace {

std::optional<std::string_view> bearer_credential(std::optional<std::string_view> authorization) {
    if (!authorization) return std::nullopt;
    constexpr std::string_view scheme = "Bearer ";
    if (authorization->size() < scheme.size() || !iequals(authorization->substr(0, scheme.size()), scheme)) {
        return std::nullopt;
    }
    std::string_view credential = authorization->substr(scheme.size());
    while (!credential.empty() && credential.front() == ' ') credential.remove_prefix(1);
    while (!credential.empty() && credential.back() == ' ') credential.remove_suffix(1);
    return credential;
}

Caller bearer_caller(std::optional<std::string_view> authorization, const TrustedCredentials& trusted) {
    const auto credential = bearer_credential(authorization);
    if (!credential) return {};
    if (!trusted.admin_token.empty() && secrets_equal(*credential, trusted.admin_token)) {
        return {CallerKind::admin_token, std::nullopt, std::nullopt};
    }
    const size_t colon = credential->find(':');
    if (colon == std::string_view::npos) return {};
    if (auto key = trusted.keys.verify(credential->substr(0, colon), credential->substr(colon + 1))) {
        return {CallerKind::api_key, std::move(key), std::nullopt};
    }
    return {};
}

// A session counts while its role exists; the role is read now, so that a changed role
// applies to the sessions already issued, as on AWS.
Caller from_verdict(SigV4Verdict verdict, const TrustedCredentials& trusted) {
    if (verdict.key) return {CallerKind::api_key, std::move(verdict.key), std::nullopt};
    if (verdict.session) {
        std::optional<Role> role = trusted.roles.find(verdict.session->role);
        if (!role) {
            return {CallerKind::anonymous, std::nullopt,
                    SigV4Failure{SigV4FailureKind::unknown_key, "The security token included in the request is invalid."}};
        }
        return {CallerKind::session, std::nullopt, std::nullopt, std::move(verdict.session), std::move(role)};
    }
    return {CallerKind::anonymous, std::nullopt, std::move(verdict.failure)};
}

}  // namespace

TrustedCredentials trusted_credentials(const GatewayServices& services) {
    return {services.admin_token, services.keys, services.config.region, services.sessions, services.roles};
}

bool Caller::is_admin() const {
    return kind == CallerKind::admin_token || (kind == CallerKind::api_key && key->scope == KeyScope::admin);
}

bool Caller::may_invoke(std::string_view function, std::string_view qualifier) const {
    switch (kind) {
        case CallerKind::anonymous: return false;
        case CallerKind::admin_token: return true;
        case CallerKind::api_key: return key->may_invoke(function);
        case CallerKind::session: return role->may_invoke(function, qualifier);
    }
    return false;
}

bool Caller::may_read_metrics() const {
    return is_admin() || (kind == CallerKind::api_key && key->scope == KeyScope::metrics);
}

std::string_view Caller::what_the_key_may_do() const {
    if (kind == CallerKind::session) return "Temporary credentials may only invoke the functions their role grants";
    return key && key->scope == KeyScope::metrics ? "This key may only read /metrics" : "This key may only invoke functions";
}

Principal Caller::principal() const {
    switch (kind) {
        case CallerKind::anonymous:
        case CallerKind::admin_token: return {};
        case CallerKind::api_key: return {key->access_key_id, "", ""};
        case CallerKind::session: return {session->access_key_id, session->role, session->user_sub};
    }
    return {};
}

HttpResponseParts unauthorized(const Caller& caller) {
    if (caller.signature_failure) return unauthorized(caller.signature_failure->message);
    return unauthorized();
}

Caller identify_caller(const IncomingRequest& request, const TrustedCredentials& trusted, WallTime now) {
    const SignedRequest signed_request{request.method, request.path(), request.query(), request.headers, request.body};
    SigV4Verdict verdict =
        verify_sigv4(signed_request, SigningSecrets{trusted.keys, &trusted.sessions}, now, trusted.region, sigv4_service);
    if (verdict.is_sigv4()) return from_verdict(std::move(verdict), trusted);
    return bearer_caller(request.header("Authorization"), trusted);
}

Caller caller_before_body(std::optional<std::string_view> authorization, const TrustedCredentials& trusted) {
    if (authorization && is_sigv4_authorization(*authorization)) {
        return from_verdict(
            sigv4_claimed_signer(*authorization, SigningSecrets{trusted.keys, &trusted.sessions}, trusted.region,
                                 sigv4_service),
            trusted);
    }
    return bearer_caller(authorization, trusted);
}

}  // namespace sofaas
