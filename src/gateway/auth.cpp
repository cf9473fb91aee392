#include "gateway/auth.h"

#include "gateway/gateway.h"
#include "gateway/responses.h"

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

Caller from_verdict(SigV4Verdict verdict) {
    if (verdict.key) return {CallerKind::api_key, std::move(verdict.key), std::nullopt};
    return {CallerKind::anonymous, std::nullopt, std::move(verdict.failure)};
}

}  // namespace

TrustedCredentials trusted_credentials(const GatewayServices& services) {
    return {services.admin_token, services.keys, services.config.region};
}

bool Caller::is_admin() const {
    return kind == CallerKind::admin_token || (kind == CallerKind::api_key && key->scope == KeyScope::admin);
}

bool Caller::may_invoke(std::string_view function) const {
    return kind == CallerKind::admin_token || (kind == CallerKind::api_key && key->may_invoke(function));
}

bool Caller::may_read_metrics() const {
    return is_admin() || (kind == CallerKind::api_key && key->scope == KeyScope::metrics);
}

std::string_view Caller::what_the_key_may_do() const {
    return key && key->scope == KeyScope::metrics ? "This key may only read /metrics" : "This key may only invoke functions";
}

HttpResponseParts unauthorized(const Caller& caller) {
    if (caller.signature_failure) return unauthorized(caller.signature_failure->message);
    return unauthorized();
}

Caller identify_caller(const IncomingRequest& request, const TrustedCredentials& trusted, WallTime now) {
    const SignedRequest signed_request{request.method, request.path(), request.query(), request.headers, request.body};
    SigV4Verdict verdict = verify_sigv4(signed_request, trusted.keys, now, trusted.region, sigv4_service);
    if (verdict.is_sigv4()) return from_verdict(std::move(verdict));
    return bearer_caller(request.header("Authorization"), trusted);
}

Caller caller_before_body(std::optional<std::string_view> authorization, const TrustedCredentials& trusted) {
    if (authorization && is_sigv4_authorization(*authorization)) {
        return from_verdict(sigv4_claimed_signer(*authorization, trusted.keys, trusted.region, sigv4_service));
    }
    return bearer_caller(authorization, trusted);
}

}  // namespace sofaas
