// Random text for credentials: access key ids, secrets and session tokens, drawn from the
// kernel's CSPRNG (getrandom).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace sofaas {

inline constexpr std::string_view access_key_id_alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
inline constexpr std::string_view secret_alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

// `length` characters of `alphabet` (at most 256 of them), each uniformly drawn. Throws
// std::system_error when the kernel gives no random bytes.
std::string random_text(std::string_view alphabet, size_t length);

}  // namespace sofaas
