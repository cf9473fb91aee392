// SHA-256 and HMAC-SHA256, computed by OpenSSL: the digest of a deployed library recorded
// in its spec, and the keyed hashes of AWS Signature Version 4 (keys/sigv4.h).
#pragma once

#include <string>
#include <string_view>

namespace sofaas {

// Lowercase hex digest (64 characters).
std::string sha256_hex(std::string_view bytes);

// HMAC-SHA256 (RFC 2104) of `message` under `key`: the 32 raw bytes of the MAC.
std::string hmac_sha256(std::string_view key, std::string_view message);

// Two lowercase hex digits per byte.
std::string lowercase_hex(std::string_view bytes);

}  // namespace sofaas
