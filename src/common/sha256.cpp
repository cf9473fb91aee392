#include "common/sha256.h"

#include <stdexcept>

#include <openssl/evp.h>
#include <openssl/hmac.h>

namespace sofaas {

std::string sha256_hex(std::string_view bytes) {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    // EVP_Digest is one call: no context to leak on any path.
    if (EVP_Digest(bytes.data(), bytes.size(), digest, &length, EVP_sha256(), nullptr) != 1) {
        throw std::runtime_error("SHA-256 failed in OpenSSL");
    }
    return lowercase_hex(std::string_view(reinterpret_cast<const char*>(digest), length));
}

std::string hmac_sha256(std::string_view key, std::string_view message) {
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    // A null key tells OpenSSL to keep a previous key rather than use an empty one.
    static const unsigned char no_bytes = 0;
    const void* key_bytes = key.empty() ? static_cast<const void*>(&no_bytes) : key.data();
    const auto* message_bytes = reinterpret_cast<const unsigned char*>(message.empty() ? "" : message.data());
    if (HMAC(EVP_sha256(), key_bytes, static_cast<int>(key.size()), message_bytes, message.size(), mac, &length) ==
        nullptr) {
        throw std::runtime_error("HMAC-SHA256 failed in OpenSSL");
    }
    return std::string(reinterpret_cast<const char*>(mac), length);
}

std::string lowercase_hex(std::string_view bytes) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string hex;
    hex.reserve(bytes.size() * 2);
    for (const char c : bytes) {
        const auto byte = static_cast<unsigned char>(c);
        hex += digits[byte >> 4];
        hex += digits[byte & 0x0f];
    }
    return hex;
}

}  // namespace sofaas
