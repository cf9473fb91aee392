// Function endpoints: /fn/NAME[/rest...] and custom routes. The request becomes a Lambda
// v2 HTTP event; the function's output becomes the response (http_event.h).
#pragma once

#include <boost/asio/awaitable.hpp>

#include "gateway/handler_context.h"
#include "gateway/http_event.h"
#include "gateway/http_message.h"
#include "gateway/route_table.h"

namespace sofaas {

boost::asio::awaitable<HttpResponseParts> handle_function_endpoint(HandlerContext& context,
                                                                   const IncomingRequest& request,
                                                                   RouteMatch route);

}  // namespace sofaas
