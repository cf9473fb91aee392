// GET /metrics in the Prometheus text format (docs/METRICS.md).
#pragma once

#include <boost/asio/awaitable.hpp>

#include "gateway/handler_context.h"
#include "gateway/http_event.h"
#include "gateway/http_message.h"

namespace sofaas {

enum class MetricsAccess {
    credential,  // the main listener: the admin token, an admin key or a metrics key
    open,        // metrics_listen: whoever reaches the address
};

boost::asio::awaitable<HttpResponseParts> handle_metrics(HandlerContext& context, const IncomingRequest& request,
                                                         MetricsAccess access);

}  // namespace sofaas
