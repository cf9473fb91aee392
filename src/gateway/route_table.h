// Which function serves a request: /fn/NAME[:QUALIFIER][/rest...] and the custom routes
// functions declared at deploy ("GET /items/{id}", "ANY /files/{path+}"). Immutable; the gateway
// swaps in a new table after each deploy or delete (LiveRouteTable).
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "common/function_spec.h"

namespace sofaas {

struct RouteMatch {
    std::string function;
    std::string route_key;  // "$default" for /fn/NAME
    std::map<std::string, std::string> path_parameters;
    std::string qualifier;  // of /fn/NAME:QUALIFIER (a version or an alias); "" is $LATEST
};

class RouteTable {
public:
    explicit RouteTable(const std::vector<FunctionVersionPtr>& functions);
    // Custom routes first (literal segments beat {params}, a method beats ANY), then /fn/NAME.
    std::optional<RouteMatch> match(std::string_view method, std::string_view path) const;
    // A custom route that can answer a path at or below `prefix` ("/docs"): one whose
    // segments agree with the prefix's as far as both go, a {param} agreeing with any.
    // Its function and route_key, or nullopt.
    std::optional<RouteMatch> route_within(std::string_view prefix) const;

private:
    struct Entry {
        std::string method;
        std::vector<std::string> segments;
        std::string function;
        std::string route_key;
    };
    std::vector<Entry> entries_;
    std::set<std::string, std::less<>> functions_;
};

// The table in force. Readers take a snapshot; a deploy or delete rebuilds it.
class LiveRouteTable {
public:
    std::shared_ptr<const RouteTable> snapshot() const;
    // `list_functions` runs under the lock, so two concurrent rebuilds can never leave
    // the older listing in force.
    void rebuild(const std::function<std::vector<FunctionVersionPtr>()>& list_functions);

private:
    mutable std::mutex mutex_;
    std::shared_ptr<const RouteTable> table_ = std::make_shared<RouteTable>(std::vector<FunctionVersionPtr>{});
};

}  // namespace sofaas
