// Passwords at rest: argon2id (libsodium's crypto_pwhash), a memory-hard KDF, so that a
// stolen users database costs an attacker 64 MiB and a few passes of memory per guess.
// Also the random tokens and base64url text the user pools hand out.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace sofaas::identity {

// The encoded hash ("$argon2id$v=19$m=65536,t=2,p=1$salt$hash"), salt included. Slow on
// purpose (about 0.1 s): call it off the io threads. Throws std::runtime_error when the
// memory cannot be had.
std::string hash_password(std::string_view password);
// Whether `password` is the one `encoded` was made from (libsodium compares in constant time).
bool password_matches(std::string_view encoded, std::string_view password);

// `bytes` random bytes (the kernel's generator) as base64url without padding.
std::string random_token(size_t bytes);
// SHA-256 of a secret as hex: refresh tokens are stored as this, never as themselves.
std::string secret_digest(std::string_view secret);

std::string base64url_encode(std::string_view bytes);
// nullopt: a character outside the base64url alphabet, padding, or a bad length.
std::optional<std::string> base64url_decode(std::string_view text);

}  // namespace sofaas::identity
