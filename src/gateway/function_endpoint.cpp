#include "gateway/function_endpoint.h"

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "gateway/auth.h"
#include "gateway/awaitable_calls.h"
#include "gateway/jwt_authorizer.h"
#include "gateway/responses.h"
#include "registry/registry.h"
#include "scheduler/scheduler.h"

namespace sofaas {
namespace {

// A successful output read as a function-URL response, before the invocation's record is
// written (scheduler.h): an output that is none is recorded as the function's error.
class FunctionUrlReader final : public OutputReader {
public:
    std::optional<std::string> read(std::string& output) override {
        std::variant<FunctionResponse, InvalidResponse> mapped = map_function_output(std::move(output));
        if (const auto* invalid = std::get_if<InvalidResponse>(&mapped)) {
            return fmt::format("The function returned an invalid HTTP response: {}", invalid->why);
        }
        response = std::move(std::get<FunctionResponse>(mapped));
        return std::nullopt;
    }

    FunctionResponse response;  // once read() has accepted the output
};

// Whoever calls a function endpoint may be anyone: a failure is told as API Gateway tells
// it, and no response carries the X-Sofaas-* report (billing, duration, version), unless the
// function's owner asked for them (--expose-errors) or the caller's credential may invoke
// the function anyway (it would read the same on the control API).
bool discloses_details(const FunctionSpec& spec, const Caller& caller, std::string_view qualifier) {
    return spec.expose_errors || caller.may_invoke(spec.name, qualifier);
}

}  // namespace

boost::asio::awaitable<HttpResponseParts> handle_function_endpoint(HandlerContext& context,
                                                                   const IncomingRequest& request,
                                                                   RouteMatch route) {
    // The route table may be a moment older than the registry: the registry decides.
    const ResolvedVersion resolved = context.services.registry.resolve(route.function, route.qualifier);
    const Caller caller = identify_caller(request, trusted_credentials(context.services));
    // A qualifier that names nothing is told only to those who may call the function: which
    // aliases exist is no stranger's business.
    const FunctionVersionPtr gate = resolved.version ? resolved.version : context.services.registry.latest(route.function);
    if (gate && gate->spec.auth == AuthMode::key) {
        if (!caller.known()) co_return unauthorized(caller);
        if (!caller.may_invoke(route.function, route.qualifier)) co_return forbidden("This key may not invoke " + route.function);
    }
    std::optional<JwtClaims> verified_claims;
    if (gate && gate->spec.auth == AuthMode::jwt) {
        auto authorized = authorize_jwt(context.services.identity_tokens, context.services.config.users, gate->spec,
                                        request.header("Authorization"));
        if (auto* refusal = std::get_if<HttpResponseParts>(&authorized)) co_return std::move(*refusal);
        verified_claims = std::get<JwtClaims>(std::move(authorized));
    }
    if (!resolved.version) co_return unresolved_qualifier(resolved.failure, route.function, route.qualifier);
    const FunctionVersionPtr& version = resolved.version;

    HttpRequestParts parts;
    parts.method = request.method;
    parts.target = request.target;
    parts.headers = request.headers;
    // A sofaas credential is for sofaas: the function never sees it, whatever its auth, nor
    // the session token of temporary credentials.
    std::vector<HttpRequestParts::Header> without_credential;
    if (caller.known() || version->spec.auth != AuthMode::none) {
        for (const auto& header : request.headers)
            if (!iequals(header.first, "Authorization") && !iequals(header.first, "X-Amz-Security-Token"))
                without_credential.push_back(header);
        parts.headers = without_credential;
    }
    parts.body = request.body;
    parts.source_ip = request.source_ip;
    parts.route_key = std::move(route.route_key);
    parts.path_parameters = std::move(route.path_parameters);
    parts.request_id = request.request_id;
    parts.function = route.function;
    parts.authorizer = verified_claims ? &*verified_claims : nullptr;

    auto reader = std::make_shared<FunctionUrlReader>();
    InvocationRequest invocation{version, make_http_event(parts), Trigger::http, request.request_id, reader};
    invocation.principal = caller.principal();
    InvocationReport report = co_await async_invoke(context.services.scheduler, std::move(invocation));
    const bool details = discloses_details(version->spec, caller, route.qualifier);
    if (report.status != InvocationStatus::ok && !details) co_return generic_invocation_error(report);

    HttpResponseParts response;
    if (report.status == InvocationStatus::ok) {
        for (const std::string& name : reader->response.dropped_headers) {
            spdlog::info("[{}] {}:{} set the platform's header {}: not sent", request.request_id, route.function,
                         report.version, name);
        }
        response = std::move(reader->response.response);
    } else {
        response = invocation_error(report);
    }
    if (details) add_invocation_headers(response, report);
    co_return response;
}

}  // namespace sofaas
