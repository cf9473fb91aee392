#include "identity/json_web_token.h"

#include <jwt.h>

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

jwt_alg_t libjwt_algorithm(SignatureAlgorithm algorithm) {
    return algorithm == SignatureAlgorithm::es256 ? JWT_ALG_ES256 : JWT_ALG_RS256;
}

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
    if (parts == nullptr || parts->algorithm != to_string(key.algorithm)) return false;
    const std::string terminated(token);
    jwt_t* decoded = nullptr;
    const int failed = jwt_decode(&decoded, terminated.c_str(), reinterpret_cast<const unsigned char*>(key.pem.data()),
                                  static_cast<int>(key.pem.size()));
    Jwt owned(decoded);
    return failed == 0 && owned && jwt_get_alg(owned.get()) == libjwt_algorithm(key.algorithm);
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
