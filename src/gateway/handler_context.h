// What every request handler may use: the daemon's services and the routes in force.
#pragma once

#include <cstddef>

#include "gateway/gateway.h"
#include "gateway/route_table.h"

namespace sofaas {

// Deploy bodies are shared libraries, larger than any event.
inline constexpr size_t max_library_bytes = 64 * 1024 * 1024;

struct HandlerContext {
    GatewayServices services;
    LiveRouteTable routes;

    // After a deploy or delete: the next request sees the new routes.
    void refresh_routes();
};

}  // namespace sofaas
