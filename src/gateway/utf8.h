#pragma once

#include <string_view>

namespace sofaas {

// Well-formed UTF-8 (RFC 3629): no overlong forms, no surrogates, nothing above U+10FFFF.
// Decides whether a body can travel as JSON text or must be base64-encoded.
bool is_valid_utf8(std::string_view text);

}  // namespace sofaas
