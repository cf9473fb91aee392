#include "identity/password_hash.h"

#include <sodium.h>

#include <stdexcept>

namespace sofaas::identity {
namespace {

// libsodium's "interactive" limits: 2 passes over 64 MiB, about 0.1 s on one core. One
// hash at a time per daemon (gateway: the password-work thread), so memory stays bounded.
constexpr unsigned long long password_opslimit = crypto_pwhash_OPSLIMIT_INTERACTIVE;
constexpr size_t password_memlimit = crypto_pwhash_MEMLIMIT_INTERACTIVE;

void ensure_sodium() {
    // Thread-safe and idempotent; it seeds nothing sofaas relies on besides randombytes.
    if (sodium_init() < 0) throw std::runtime_error("libsodium cannot initialise");
}

}  // namespace

std::string hash_password(std::string_view password) {
    ensure_sodium();
    char encoded[crypto_pwhash_STRBYTES];
    if (crypto_pwhash_str_alg(encoded, password.data(), password.size(), password_opslimit, password_memlimit,
                              crypto_pwhash_ALG_ARGON2ID13) != 0) {
        throw std::runtime_error("argon2id: out of memory");
    }
    return encoded;
}

bool password_matches(std::string_view encoded, std::string_view password) {
    ensure_sodium();
    const std::string terminated(encoded);  // crypto_pwhash_str_verify reads a C string
    return crypto_pwhash_str_verify(terminated.c_str(), password.data(), password.size()) == 0;
}

std::string random_token(size_t bytes) {
    ensure_sodium();
    std::string raw(bytes, '\0');
    randombytes_buf(raw.data(), raw.size());
    std::string token = base64url_encode(raw);
    sodium_memzero(raw.data(), raw.size());
    return token;
}

std::string secret_digest(std::string_view secret) {
    ensure_sodium();
    unsigned char digest[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(digest, reinterpret_cast<const unsigned char*>(secret.data()), secret.size());
    char hex[sizeof digest * 2 + 1];
    sodium_bin2hex(hex, sizeof hex, digest, sizeof digest);
    return hex;
}

std::string base64url_encode(std::string_view bytes) {
    ensure_sodium();
    const int variant = sodium_base64_VARIANT_URLSAFE_NO_PADDING;
    std::string text(sodium_base64_encoded_len(bytes.size(), variant), '\0');
    sodium_bin2base64(text.data(), text.size(), reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(),
                      variant);
    text.resize(text.size() - 1);  // the terminating NUL
    return text;
}

std::optional<std::string> base64url_decode(std::string_view text) {
    ensure_sodium();
    std::string bytes(text.size() * 3 / 4 + 1, '\0');
    size_t length = 0;
    const char* end = nullptr;
    if (sodium_base642bin(reinterpret_cast<unsigned char*>(bytes.data()), bytes.size(), text.data(), text.size(),
                          nullptr, &length, &end, sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
        end != text.data() + text.size()) {
        return std::nullopt;
    }
    bytes.resize(length);
    return bytes;
}

}  // namespace sofaas::identity
