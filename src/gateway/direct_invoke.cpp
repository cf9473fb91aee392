// POST /v1/functions/NAME/invoke[?version=N]: the payload is the event, the output is the
// body. The X-Sofaas-* headers carry what Lambda's REPORT line says.
#include <fmt/format.h>

#include "gateway/awaitable_calls.h"
#include "gateway/control_api.h"
#include "gateway/query_string.h"
#include "gateway/responses.h"
#include "registry/registry.h"
#include "scheduler/scheduler.h"

namespace sofaas {
boost::asio::awaitable<HttpResponseParts> invoke_function(HandlerContext& context,
                                                          const IncomingRequest& request,
                                                          const std::string& function) {
    Registry& registry = context.services.registry;
    FunctionVersionPtr version;
    if (const auto wanted = find_param(parse_query(request.query()), "version")) {
        const auto number = parse_unsigned(*wanted);
        if (!number || *number == 0) co_return bad_request("version must be a positive integer");
        version = registry.find(function, *number);
        if (!version) co_return not_found(fmt::format("Function not found: {} version {}", function, *number));
    } else {
        version = registry.latest(function);
        if (!version) co_return not_found(fmt::format("Function not found: {}", function));
    }

    InvocationRequest invocation{version, request.body, Trigger::invoke, request.request_id};
    InvocationReport report = co_await async_invoke(context.services.scheduler, std::move(invocation));

    HttpResponseParts response;
    if (report.status == InvocationStatus::ok) {
        response.headers.emplace_back("Content-Type", "application/octet-stream");
        response.body = std::move(report.output);  // up to 6 MiB: moved, not copied
    } else {
        response = invocation_error(report);
    }
    add_invocation_headers(response, report);
    co_return response;
}

}  // namespace sofaas
