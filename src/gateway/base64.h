// Base64 (RFC 4648, standard alphabet, padded): how binary bodies travel inside the JSON
// events and responses of function endpoints (isBase64Encoded).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace sofaas {

std::string base64_encode(std::string_view bytes);
// nullopt when `text` is not valid base64 (bad character, bad length or padding).
std::optional<std::string> base64_decode(std::string_view text);

}  // namespace sofaas
