// Which function serves a request: /fn/NAME[/rest...] and the custom routes functions
// declared at deploy ("GET /items/{id}"). Immutable; the gateway swaps in a new table
// after each deploy or delete.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/function_spec.h"

namespace sofaas {

struct RouteMatch {
    std::string function;
    std::string route_key;  // "$default" for /fn/NAME
    std::map<std::string, std::string> path_parameters;
};

class RouteTable {
public:
    explicit RouteTable(const std::vector<FunctionVersionPtr>& functions);
    // Custom routes first (literal segments beat {params}), then /fn/NAME.
    std::optional<RouteMatch> match(std::string_view method, std::string_view path) const;

private:
    struct Entry {
        std::string method;
        std::vector<std::string> segments;
        std::string function;
        std::string route_key;
    };
    std::vector<Entry> entries_;
};

}  // namespace sofaas
