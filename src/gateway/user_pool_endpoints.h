// /auth/POOL/...: a user pool's public endpoints (sign-up, sign-in, refresh, sign-out,
// .well-known/jwks.json and .well-known/openid-configuration), reached without credentials.
#pragma once

#include <string_view>

#include <boost/asio/awaitable.hpp>

#include "gateway/handler_context.h"
#include "gateway/http_event.h"
#include "gateway/http_message.h"

namespace sofaas {

bool is_user_pool_path(std::string_view path);
boost::asio::awaitable<HttpResponseParts> handle_user_pool_endpoint(HandlerContext& context,
                                                                    const IncomingRequest& request);

}  // namespace sofaas
