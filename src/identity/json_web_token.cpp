#include "identity/json_web_token.h"

#include <jwt.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>

#include <cstdlib>
#include <memory>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "identity/password_hash.h"

namespace sofaas::identity {
namespace {

using nlohmann::json;

struct JwtDeleter {
    void operator()(jwt_t* token) const { jwt_free(token); }
};
using Jwt = std::unique_ptr<jwt_t, JwtDeleter>;

bool base64url_text(std::string_view part) {
    for (const char c : part) {
        const bool alphabet = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
                              c == '_';
        if (!alphabet) return false;
    }
    return true;
}

}  // namespace

std::variant<UnverifiedToken, MalformedToken> read_token(std::string_view token) {
    if (token.empty()) return MalformedToken{"The token is empty"};
    if (token.size() > max_token_bytes) return MalformedToken{"The token is longer than any this server accepts"};
    const size_t first_dot = token.find('.');
    const size_t second_dot = first_dot == std::string_view::npos ? first_dot : token.find('.', first_dot + 1);
    if (second_dot == std::string_view::npos || token.find('.', second_dot + 1) != std::string_view::npos) {
        return MalformedToken{"The token is not a JWS in compact form (header.payload.signature)"};
    }
    const std::string_view header_part = token.substr(0, first_dot);
    const std::string_view payload_part = token.substr(first_dot + 1, second_dot - first_dot - 1);
    const std::string_view signature_part = token.substr(second_dot + 1);
    if (!base64url_text(header_part) || !base64url_text(payload_part) || !base64url_text(signature_part)) {
        return MalformedToken{"The token's parts must be base64url without padding"};
    }
    const auto header_text = base64url_decode(header_part);
    const auto payload_text = base64url_decode(payload_part);
    if (!header_text || !payload_text) return MalformedToken{"The token's parts must be base64url without padding"};
    const json header = json::parse(*header_text, nullptr, false);
    const json payload = json::parse(*payload_text, nullptr, false);
    if (!header.is_object() || !payload.is_object()) {
        return MalformedToken{"The token's header and payload must be JSON objects"};
    }
    const auto alg = header.find("alg");
    if (alg == header.end() || !alg->is_string()) return MalformedToken{"The token's header names no algorithm"};
    // Encrypted (JWE) or detached-payload tokens: nothing sofaas reads.
    if (header.contains("enc") || header.contains("crit")) {
        return MalformedToken{"The token's header asks for something this server does not do (enc, crit)"};
    }
    UnverifiedToken read;
    read.algorithm = alg->get<std::string>();
    if (const auto kid = header.find("kid"); kid != header.end()) {
        if (!kid->is_string()) return MalformedToken{"The token's key id must be a string"};
        read.kid = kid->get<std::string>();
    }
    read.payload_json = *payload_text;
    return read;
}

bool signed_by(std::string_view token, const PublicKey& key) {
    const auto read = read_token(token);
    const auto* parts = std::get_if<UnverifiedToken>(&read);
    // The algorithm is the key's: a token naming another one (none, HS256) is not looked at.
    if (parts == nullptr || parts->algorithm != to_string(key.algorithm) || !key.decoded) return false;
    const size_t last_dot = token.rfind('.');
    const std::string_view signed_part = token.substr(0, last_dot);
    const auto signature = base64url_decode(token.substr(last_dot + 1));
    if (!signature) return false;
    std::string encoded_signature = *signature;
    if (key.algorithm == SignatureAlgorithm::es256) {
        // JWS writes an ECDSA signature as r || s, 32 bytes each (RFC 7518 3.4); OpenSSL
        // reads it DER-encoded.
        if (signature->size() != 64) return false;
        const auto* bytes = reinterpret_cast<const unsigned char*>(signature->data());
        ECDSA_SIG* pair = ECDSA_SIG_new();
        BIGNUM* r = BN_bin2bn(bytes, 32, nullptr);
        BIGNUM* s = BN_bin2bn(bytes + 32, 32, nullptr);
        if (pair == nullptr || r == nullptr || s == nullptr || ECDSA_SIG_set0(pair, r, s) != 1) {
            BN_free(r);
            BN_free(s);
            ECDSA_SIG_free(pair);
            return false;
        }
        unsigned char* der = nullptr;
        const int length = i2d_ECDSA_SIG(pair, &der);
        ECDSA_SIG_free(pair);  // frees r and s with it
        if (length <= 0) return false;
        encoded_signature.assign(reinterpret_cast<const char*>(der), static_cast<size_t>(length));
        OPENSSL_free(der);
    }
    std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> context(EVP_MD_CTX_new(), EVP_MD_CTX_free);
    // RSA keys check PKCS #1 v1.5 signatures by default: RS256's.
    return context && EVP_DigestVerifyInit(context.get(), nullptr, EVP_sha256(), nullptr, key.decoded.get()) == 1 &&
           EVP_DigestVerify(context.get(), reinterpret_cast<const unsigned char*>(encoded_signature.data()),
                            encoded_signature.size(), reinterpret_cast<const unsigned char*>(signed_part.data()),
                            signed_part.size()) == 1;
}

std::string sign_es256(std::string_view claims_json, const KeyPair& pair) {
    jwt_t* created = nullptr;
    if (jwt_new(&created) != 0) throw std::runtime_error("libjwt: out of memory");
    Jwt token(created);
    const std::string claims(claims_json);
    if (jwt_add_grants_json(token.get(), claims.c_str()) != 0 ||
        jwt_add_header(token.get(), "kid", pair.kid.c_str()) != 0 ||
        jwt_set_alg(token.get(), JWT_ALG_ES256, reinterpret_cast<const unsigned char*>(pair.private_pem.data()),
                    static_cast<int>(pair.private_pem.size())) != 0) {
        throw std::runtime_error("libjwt: cannot prepare the token");
    }
    char* encoded = jwt_encode_str(token.get());
    if (encoded == nullptr) throw std::runtime_error("libjwt: cannot sign the token");
    std::string text(encoded);
    std::free(encoded);  // libjwt 1.10 allocates it with malloc
    return text;
}

}  // namespace sofaas::identity
