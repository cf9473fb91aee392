#pragma once

#include <string>

namespace sofaas {

// A random RFC 4122 version-4 UUID, as Lambda request ids are.
std::string new_request_id();

}  // namespace sofaas
