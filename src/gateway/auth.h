#pragma once

#include <string_view>

#include "gateway/http_message.h"

namespace sofaas {

// True when the request carries "Authorization: Bearer ADMIN_TOKEN". The comparison
// takes the same time wherever the first wrong byte is, so response timing does not
// reveal how much of a guessed token was right. An empty admin token admits nobody.
bool has_admin_token(const IncomingRequest& request, std::string_view admin_token);

}  // namespace sofaas
