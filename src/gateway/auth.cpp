#include "gateway/auth.h"

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

}  // namespace

bool Caller::is_admin() const {
    return kind == CallerKind::admin_token || (kind == CallerKind::api_key && key->scope == KeyScope::admin);
}

bool Caller::may_invoke(std::string_view function) const {
    return kind == CallerKind::admin_token || (kind == CallerKind::api_key && key->may_invoke(function));
}

Caller identify_caller(std::optional<std::string_view> authorization, std::string_view admin_token,
                       const KeyStore& keys) {
    const auto credential = bearer_credential(authorization);
    if (!credential) return {};
    if (!admin_token.empty() && secrets_equal(*credential, admin_token)) return {CallerKind::admin_token, std::nullopt};
    const size_t colon = credential->find(':');
    if (colon == std::string_view::npos) return {};
    if (auto key = keys.verify(credential->substr(0, colon), credential->substr(colon + 1))) {
        return {CallerKind::api_key, std::move(key)};
    }
    return {};
}

Caller identify_caller(const IncomingRequest& request, std::string_view admin_token, const KeyStore& keys) {
    return identify_caller(request.header("Authorization"), admin_token, keys);
}

}  // namespace sofaas
