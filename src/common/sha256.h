// SHA-256 of a deployed library, recorded in its spec so a version can be verified.
#pragma once

#include <string>
#include <string_view>

namespace sofaas {

// Lowercase hex digest (64 characters).
std::string sha256_hex(std::string_view bytes);

}  // namespace sofaas
