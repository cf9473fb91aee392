#include "identity/signing_key.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>

#include <memory>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "identity/password_hash.h"

namespace sofaas::identity {
namespace {

using nlohmann::json;

struct PkeyDeleter {
    void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyDeleter>;

struct BioDeleter {
    void operator()(BIO* bio) const { BIO_free(bio); }
};
struct BnDeleter {
    void operator()(BIGNUM* bn) const { BN_free(bn); }
};
using Bignum = std::unique_ptr<BIGNUM, BnDeleter>;

[[noreturn]] void openssl_failed(const char* what) { throw std::runtime_error(std::string("OpenSSL: ") + what); }

template <typename Write>
std::string pem_of(Write write) {
    std::unique_ptr<BIO, BioDeleter> bio(BIO_new(BIO_s_mem()));
    if (!bio || write(bio.get()) != 1) openssl_failed("cannot write a PEM");
    char* bytes = nullptr;
    const long length = BIO_get_mem_data(bio.get(), &bytes);
    return std::string(bytes, static_cast<size_t>(length));
}

std::string big_endian(const EVP_PKEY* key, const char* name, size_t width) {
    BIGNUM* raw = nullptr;
    if (EVP_PKEY_get_bn_param(key, name, &raw) != 1) openssl_failed("cannot read a public key's coordinates");
    Bignum number(raw);
    std::string bytes(width, '\0');
    if (BN_bn2binpad(number.get(), reinterpret_cast<unsigned char*>(bytes.data()), static_cast<int>(width)) < 0) {
        openssl_failed("a coordinate does not fit");
    }
    return bytes;
}

Bignum bignum_of(std::string_view bytes) {
    return Bignum(BN_bin2bn(reinterpret_cast<const unsigned char*>(bytes.data()), static_cast<int>(bytes.size()),
                            nullptr));
}

// A public key from OpenSSL parameters, or nullptr when they do not make one.
Pkey key_from(const char* type, OSSL_PARAM_BLD* builder) {
    OSSL_PARAM* params = OSSL_PARAM_BLD_to_param(builder);
    if (params == nullptr) return nullptr;
    EVP_PKEY_CTX* context = EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr);
    EVP_PKEY* key = nullptr;
    if (context == nullptr || EVP_PKEY_fromdata_init(context) != 1 ||
        EVP_PKEY_fromdata(context, &key, EVP_PKEY_PUBLIC_KEY, params) != 1) {
        key = nullptr;
    }
    EVP_PKEY_CTX_free(context);
    OSSL_PARAM_free(params);
    return Pkey(key);
}

std::optional<std::string> decoded_member(const json& jwk, const char* name) {
    const auto member = jwk.find(name);
    if (member == jwk.end() || !member->is_string()) return std::nullopt;
    return base64url_decode(member->get<std::string>());
}

// An EC P-256 public key from its x and y, checked to be a point of the curve.
Pkey ec_public_key(const json& jwk) {
    const auto curve = jwk.find("crv");
    if (curve == jwk.end() || *curve != "P-256") return nullptr;
    const auto x = decoded_member(jwk, "x");
    const auto y = decoded_member(jwk, "y");
    if (!x || !y || x->size() != 32 || y->size() != 32) return nullptr;
    const std::string point = std::string("\x04", 1) + *x + *y;  // uncompressed
    std::unique_ptr<OSSL_PARAM_BLD, decltype(&OSSL_PARAM_BLD_free)> builder(OSSL_PARAM_BLD_new(), OSSL_PARAM_BLD_free);
    if (!builder ||
        OSSL_PARAM_BLD_push_utf8_string(builder.get(), OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) != 1 ||
        OSSL_PARAM_BLD_push_octet_string(builder.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size()) != 1) {
        return nullptr;
    }
    Pkey key = key_from("EC", builder.get());
    if (!key) return nullptr;
    EVP_PKEY_CTX* check = EVP_PKEY_CTX_new_from_pkey(nullptr, key.get(), nullptr);
    const bool on_curve = check != nullptr && EVP_PKEY_public_check(check) == 1;
    EVP_PKEY_CTX_free(check);
    return on_curve ? std::move(key) : nullptr;
}

// An RSA public key from n and e; shorter than 2048 bits is refused as too weak.
Pkey rsa_public_key(const json& jwk) {
    const auto n = decoded_member(jwk, "n");
    const auto e = decoded_member(jwk, "e");
    if (!n || !e || n->size() < 256 || n->size() > 1024 || e->empty() || e->size() > 8) return nullptr;
    Bignum modulus = bignum_of(*n);
    Bignum exponent = bignum_of(*e);
    std::unique_ptr<OSSL_PARAM_BLD, decltype(&OSSL_PARAM_BLD_free)> builder(OSSL_PARAM_BLD_new(), OSSL_PARAM_BLD_free);
    if (!modulus || !exponent || !builder ||
        OSSL_PARAM_BLD_push_BN(builder.get(), OSSL_PKEY_PARAM_RSA_N, modulus.get()) != 1 ||
        OSSL_PARAM_BLD_push_BN(builder.get(), OSSL_PKEY_PARAM_RSA_E, exponent.get()) != 1) {
        return nullptr;
    }
    return key_from("RSA", builder.get());
}

std::string public_pem(EVP_PKEY* key) {
    return pem_of([key](BIO* bio) { return PEM_write_bio_PUBKEY(bio, key); });
}

}  // namespace

std::string_view to_string(SignatureAlgorithm algorithm) {
    return algorithm == SignatureAlgorithm::es256 ? "ES256" : "RS256";
}

std::optional<SignatureAlgorithm> parse_signature_algorithm(std::string_view name) {
    if (name == "ES256") return SignatureAlgorithm::es256;
    if (name == "RS256") return SignatureAlgorithm::rs256;
    return std::nullopt;
}

KeyPair generate_es256_key() {
    Pkey key(EVP_EC_gen("prime256v1"));
    if (!key) openssl_failed("cannot generate a P-256 key");
    KeyPair pair;
    pair.kid = random_token(12);
    pair.private_pem = pem_of([&](BIO* bio) {
        return PEM_write_bio_PKCS8PrivateKey(bio, key.get(), nullptr, nullptr, 0, nullptr, nullptr);
    });
    const json jwk = {{"kty", "EC"},
                      {"crv", "P-256"},
                      {"x", base64url_encode(big_endian(key.get(), OSSL_PKEY_PARAM_EC_PUB_X, 32))},
                      {"y", base64url_encode(big_endian(key.get(), OSSL_PKEY_PARAM_EC_PUB_Y, 32))},
                      {"kid", pair.kid},
                      {"alg", "ES256"},
                      {"use", "sig"}};
    pair.public_jwk = jwk.dump();
    return pair;
}

std::optional<std::vector<PublicKey>> parse_jwks(std::string_view json_text) {
    const json document = json::parse(json_text, nullptr, false);
    if (!document.is_object()) return std::nullopt;
    const auto keys = document.find("keys");
    if (keys == document.end() || !keys->is_array()) return std::nullopt;
    std::vector<PublicKey> usable;
    for (const json& jwk : *keys) {
        if (!jwk.is_object()) continue;
        const auto kid = jwk.find("kid");
        const auto kty = jwk.find("kty");
        if (kid == jwk.end() || !kid->is_string() || kty == jwk.end() || !kty->is_string()) continue;
        if (const auto use = jwk.find("use"); use != jwk.end() && *use != "sig") continue;
        if (jwk.contains("d")) continue;  // a private key has no place in a published set
        Pkey key;
        SignatureAlgorithm algorithm;
        if (*kty == "EC") {
            key = ec_public_key(jwk);
            algorithm = SignatureAlgorithm::es256;
        } else if (*kty == "RSA") {
            key = rsa_public_key(jwk);
            algorithm = SignatureAlgorithm::rs256;
        }
        if (!key) continue;
        // A key that names its algorithm is used with that one alone.
        if (const auto alg = jwk.find("alg"); alg != jwk.end() && *alg != to_string(algorithm)) continue;
        std::string pem = public_pem(key.get());
        usable.push_back(PublicKey{kid->get<std::string>(), algorithm, std::move(pem),
                                   std::shared_ptr<EVP_PKEY>(key.release(), EVP_PKEY_free)});
    }
    return usable;
}

}  // namespace sofaas::identity
