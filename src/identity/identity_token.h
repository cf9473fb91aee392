// What a signed-in user's identity token proves, once verified: the contract between the
// user pools and external OpenID Connect providers (src/identity/, which verify tokens)
// and their users (JWT-protected routes, the STS endpoint's AssumeRoleWithWebIdentity).
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "common/time.h"

namespace sofaas {

// Which token a caller presents: an ID token (who the user is; what STS takes) or an
// access token (what a JWT-protected route takes; carries scopes).
enum class TokenUse { id, access };

struct VerifiedIdentity {
    std::string issuer;    // "iss": the pool's issuer URL or the external provider's
    std::string pool;      // the sofaas user pool's name; "" for an external provider
    std::string subject;   // "sub"
    std::vector<std::string> audiences;  // "aud" (or, for access tokens, "client_id")
    std::vector<std::string> scopes;     // access tokens: "scope" split on spaces
    WallTime expires;
    // Every claim of the token's payload as its JSON text (string claims quoted), for the
    // function's event (requestContext.authorizer.jwt.claims).
    std::map<std::string, std::string> claims_json;
};

enum class TokenRejectionKind {
    malformed,        // not a JWS compact serialization, bad base64url or JSON
    bad_signature,    // no key of the issuer verifies it, or alg is none / not allowed
    expired,          // exp passed (or nbf not yet reached), allowing 60 s of skew
    unknown_issuer,   // neither a pool of this sofaas nor a configured provider
    wrong_use,        // an access token where an ID token is needed, or the reverse
    revoked,          // the user is disabled or deleted, or signed out
};

struct TokenRejection {
    TokenRejectionKind kind;
    std::string message;  // for the caller; names no key material
};

// Thread-safe. Verifies signature, alg, iss, exp/nbf and token_use; `pool`, when given,
// must be the token's pool (a token of another pool is unknown_issuer).
class IdentityTokenVerifier {
public:
    virtual ~IdentityTokenVerifier() = default;
    virtual std::variant<VerifiedIdentity, TokenRejection> verify(std::string_view token, TokenUse use,
                                                                  std::optional<std::string_view> pool) const = 0;
};

}  // namespace sofaas
