#pragma once

#include <filesystem>
#include <string>

#include "common/config.h"

namespace sofaas {

struct AdminToken {
    std::string value;
    std::string source;  // for the log: "config", "SOFAAS_ADMIN_TOKEN" or the file's path
};

// config.admin_token, else $SOFAAS_ADMIN_TOKEN, else DATA/admin.token (created on first
// start, mode 0600, 32 random bytes in hex). Throws std::runtime_error when the file can
// be neither read nor created.
AdminToken resolve_admin_token(const Config& config);

}  // namespace sofaas
