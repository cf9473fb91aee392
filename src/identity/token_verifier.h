// The IdentityTokenVerifier of this daemon: tokens of its user pools (issuer
// ISSUER_BASE/auth/POOL, keys from the pool, the user's standing checked) and of the
// configured external OpenID Connect providers (issuer as configured, keys from their
// JWKS, audience checked).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "identity/external_providers.h"
#include "identity/identity_token.h"
#include "identity/user_pools.h"

namespace sofaas::identity {

// The issuer URL of a pool's tokens: `issuer_base` (configured, e.g.
// "https://auth.example.com") or else "http://HOST" of the request, then "/auth/POOL".
std::string pool_issuer(const std::optional<std::string>& issuer_base, std::string_view request_host,
                        std::string_view pool);
// The pool an issuer URL names, by the same rule; nullopt when it names none.
std::optional<std::string> pool_of_issuer(const std::optional<std::string>& issuer_base, std::string_view issuer);

class TokenVerifier final : public IdentityTokenVerifier {
public:
    TokenVerifier(const UserPools& pools, const ExternalProviders& providers, std::optional<std::string> issuer_base)
        : pools_(pools), providers_(providers), issuer_base_(std::move(issuer_base)) {}

    std::variant<VerifiedIdentity, TokenRejection> verify(std::string_view token, TokenUse use,
                                                          std::optional<std::string_view> pool) const override;

private:
    const UserPools& pools_;
    const ExternalProviders& providers_;
    std::optional<std::string> issuer_base_;
};

}  // namespace sofaas::identity
