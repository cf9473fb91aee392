// JSON Web Tokens (RFC 7519) in JWS compact form, signed and checked with libjwt. libjwt
// verifies with whatever algorithm a token's header names (an HS256 token checked against
// an RSA or EC public key would be an HMAC keyed with the key's PEM text), so the header
// is read here first and the algorithm is pinned to the key's before libjwt sees it.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "identity/signing_key.h"

namespace sofaas::identity {

// Longer tokens are refused unread: ours are under 2 KiB, a provider's seldom over 4.
inline constexpr size_t max_token_bytes = 16 * 1024;

// A token's parts, read but not yet verified: nothing here may be trusted.
struct UnverifiedToken {
    std::string algorithm;     // the header's "alg", as written
    std::string kid;           // the header's "kid"; empty when absent
    std::string payload_json;  // a JSON object's text
};

// What is wrong with a token's form, for the caller.
struct MalformedToken {
    std::string message;
};

std::variant<UnverifiedToken, MalformedToken> read_token(std::string_view token);

// Whether `key` signed `token` (which read_token has read), with the key's algorithm and
// no other.
bool signed_by(std::string_view token, const PublicKey& key);

// A token with `claims_json` (a JSON object's text) as its payload, signed ES256 with
// `pair`. Throws std::runtime_error when libjwt fails.
std::string sign_es256(std::string_view claims_json, const KeyPair& pair);

}  // namespace sofaas::identity
