// The keys tokens are signed and verified with: a user pool's ES256 (P-256) key pairs,
// made with OpenSSL, and the public keys of a JSON Web Key Set (RFC 7517), as the pools
// publish theirs and external OpenID Connect providers publish theirs.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

struct evp_pkey_st;  // OpenSSL's EVP_PKEY

namespace sofaas::identity {

// The signature algorithms a token may name. Anything else (none, HS256, ...) is refused
// before a signature is looked at.
enum class SignatureAlgorithm { es256, rs256 };
std::string_view to_string(SignatureAlgorithm algorithm);  // "ES256", "RS256"
std::optional<SignatureAlgorithm> parse_signature_algorithm(std::string_view name);

struct KeyPair {
    std::string kid;
    std::string private_pem;  // PKCS#8
    std::string public_jwk;   // JSON object text: kty, crv, x, y, kid, alg, use
};

// A new P-256 key pair with a random key id. Throws std::runtime_error when OpenSSL fails.
KeyPair generate_es256_key();

// A public key that can verify a token, as read from a JWK.
struct PublicKey {
    std::string kid;
    SignatureAlgorithm algorithm;
    std::string pem;  // SubjectPublicKeyInfo
    // The key decoded once: OpenSSL 3 takes about 0.9 ms to decode a PEM, fifteen times
    // what a P-256 signature check costs, and the verifier runs on every request.
    std::shared_ptr<evp_pkey_st> decoded;
};

// The signing keys of a JWKS document ({"keys": [...]}) that sofaas can use: EC P-256 keys
// for ES256 and RSA keys (2048 bits or more) for RS256, each with a kid. Others (private
// parts, encryption keys, other curves) are left out. nullopt: not a JWKS at all.
std::optional<std::vector<PublicKey>> parse_jwks(std::string_view json_text);

}  // namespace sofaas::identity
