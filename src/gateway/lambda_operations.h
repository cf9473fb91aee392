// The operations of the Lambda API (lambda_functions.cpp, lambda_aliases.cpp,
// lambda_invoke.cpp) and what they share; lambda_api.cpp routes to them.
#pragma once

#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "gateway/auth.h"
#include "gateway/lambda_api.h"

namespace sofaas {

// What sofaas answers for Runtime: native code against the sofaas ABI, the closest of
// Lambda's runtimes being its OS-only one. CreateFunction takes it, or provided.al2.
inline constexpr std::string_view lambda_runtime = "provided.al2023";

struct LambdaCall {
    HandlerContext& context;
    const IncomingRequest& request;
    const Caller& caller;
    const std::vector<std::string>& path;  // decoded segments: "2015-03-31", "functions", ...
};

boost::asio::awaitable<HttpResponseParts> route_lambda_operation(LambdaCall& call);

// CreateAlias, GetAlias, UpdateAlias, DeleteAlias, ListAliases (lambda_aliases.cpp):
// path[3] is "aliases".
boost::asio::awaitable<HttpResponseParts> lambda_alias_operation(LambdaCall& call, const FunctionVersionPtr& latest);

}  // namespace sofaas
