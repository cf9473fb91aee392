#include "gateway/router.h"

#include <chrono>
#include <optional>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <nlohmann/json.hpp>

#include "billing/ledger.h"
#include "common/function_spec.h"
#include "gateway/auth.h"
#include "gateway/control_api.h"
#include "gateway/function_endpoint.h"
#include "gateway/jwt_authorizer.h"
#include "gateway/lambda_api.h"
#include "gateway/metrics_endpoint.h"
#include "gateway/responses.h"
#include "gateway/site_serving.h"
#include "gateway/sts_api.h"
#include "gateway/user_pool_endpoints.h"
#include "logs/function_logs.h"
#include "registry/registry.h"

namespace sofaas {
namespace {

void log_outcome(const IncomingRequest& request, const HttpResponseParts& response,
                 std::chrono::steady_clock::duration elapsed) {
    const double ms = std::chrono::duration<double, std::milli>(elapsed).count();
    const auto level = response.status >= 500 ? spdlog::level::warn
                       : response.status >= 400 ? spdlog::level::info
                                                : spdlog::level::debug;
    spdlog::log(level, "[{}] {} {} -> {} ({:.2f} ms)", request.request_id, request.method, request.path(),
                response.status, ms);
}

// 503 while invocations are refused, so that a load balancer takes the node out; the
// reason names no path, since anyone may ask.
HttpResponseParts health_response(const HandlerContext& context) {
    const GatewayServices& services = context.services;
    const LedgerHealth ledger = services.ledger.health();
    const uint64_t log_lines_dropped = services.logs.lines_dropped();
    nlohmann::ordered_json body;
    body["status"] = ledger.writable ? "ok" : "degraded";
    if (!ledger.writable) body["reason"] = ledger.reason;
    if (ledger.backlog > 0) body["records_waiting"] = ledger.backlog;
    if (ledger.lost > 0) body["records_lost"] = ledger.lost;
    if (log_lines_dropped > 0) body["log_lines_dropped"] = log_lines_dropped;
    if (const size_t streams = context.followers.open_count(); streams > 0) body["log_streams"] = streams;
    HttpResponseParts response = json_response(ledger.writable ? 200 : 503, body.dump());
    if (!ledger.writable) response.headers.emplace_back("Retry-After", "1");
    return response;
}

}  // namespace

void HandlerContext::refresh_routes() {
    routes.rebuild([this] { return services.registry.list_latest(); });
}

Router::Router(GatewayServices services, RouterRole role)
    : context_{std::move(services)},
      role_(role),
      dashboard_(context_.services.ui_dir),
      cors_(context_.services.config.cors) {
    if (role_ == RouterRole::everything) context_.refresh_routes();
}

boost::asio::awaitable<HttpResponseParts> Router::handle(IncomingRequest request) {
    const auto started = std::chrono::steady_clock::now();
    // A browser's preflight is answered here, before credentials and functions: it runs
    // nothing and bills nothing (cors.h).
    std::optional<HttpResponseParts> response = cors_.preflight(request);
    const bool preflight = response.has_value();
    try {
        if (!preflight) response = co_await dispatch(request);
    } catch (const std::exception& error) {
        spdlog::error("[{}] {} {} failed: {}", request.request_id, request.method, request.path(), error.what());
    } catch (...) {
        spdlog::error("[{}] {} {} failed: unknown exception", request.request_id, request.method, request.path());
    }
    if (!response) response = internal_error();
    if (!preflight) cors_.apply(request, *response);
    log_outcome(request, *response, std::chrono::steady_clock::now() - started);
    co_return std::move(*response);
}

std::optional<HttpResponseParts> Router::refusal_before_body(std::string_view method, std::string_view target,
                                                            std::optional<std::string_view> authorization) const {
    const std::string_view path = target.substr(0, target.find('?'));
    const GatewayServices& services = context_.services;
    if (role_ == RouterRole::metrics_only) return std::nullopt;
    // The STS endpoint takes anyone: the identity token in the body is the credential.
    if (path == "/sts" || path == "/sts/") return std::nullopt;
    const Caller caller = caller_before_body(authorization, trusted_credentials(services));
    if (path == "/metrics") {
        if (!caller.known()) return unauthorized(caller);
        return std::nullopt;
    }
    if (path == "/v1" || path.starts_with("/v1/")) {
        if (!caller.known()) return unauthorized(caller);
        return std::nullopt;
    }
    if (is_lambda_api_path(path)) {
        if (caller.signature_failure) {
            return lambda_error(caller.signature_failure->http_status(), caller.signature_failure->error_type(),
                                caller.signature_failure->message);
        }
        if (!caller.known()) return lambda_error(403, "MissingAuthenticationTokenException", "Missing Authentication Token");
        return std::nullopt;
    }
    const std::optional<RouteMatch> route = context_.routes.snapshot()->match(method, path);
    if (!route) return std::nullopt;
    // An alias with weights may pick another version for the call itself, which is checked
    // again then (function_endpoint.cpp): this early answer only spares reading the body.
    const FunctionVersionPtr version = services.registry.resolve(route->function, route->qualifier).version;
    if (version && version->spec.auth == AuthMode::key && !caller.may_invoke(route->function, route->qualifier)) {
        return unauthorized(caller);
    }
    if (version && version->spec.auth == AuthMode::jwt) {
        auto authorized = authorize_jwt(services.identity_tokens, services.config.users, version->spec, authorization);
        if (auto* refusal = std::get_if<HttpResponseParts>(&authorized)) return std::move(*refusal);
    }
    return std::nullopt;
}

boost::asio::awaitable<HttpResponseParts> Router::dispatch(const IncomingRequest& request) {
    const std::string_view path = request.path();
    // Only origin-form ("/path?query"): "fn/hello", "*" or "http://host/fn/hello" would each
    // need a reading of its own, and a proxy in front may read them otherwise.
    if (!path.starts_with('/')) co_return malformed_request("The request target must be a path starting with /.");
    if (role_ == RouterRole::metrics_only) {
        if (path != "/metrics") {
            co_return not_found(fmt::format("No route for {} {}: this address serves /metrics only", request.method, path));
        }
        HttpResponseParts response = co_await handle_metrics(context_, request, MetricsAccess::open);
        co_return response;
    }
    if (path == "/metrics") {
        HttpResponseParts response = co_await handle_metrics(context_, request, MetricsAccess::credential);
        co_return response;
    }
    if (path == "/healthz") {
        if (request.method != "GET" && request.method != "HEAD") co_return method_not_allowed(request.method, path);
        co_return health_response(context_);
    }
    if (is_sts_request(request)) {
        HttpResponseParts response = co_await handle_sts(context_, request);
        co_return response;
    }
    if (is_dashboard_path(path)) co_return dashboard_.respond(request);
    if (path == "/v1" || path.starts_with("/v1/")) {
        HttpResponseParts response = co_await handle_control_api(context_, request);
        co_return response;
    }
    if (is_lambda_api_path(path)) {
        HttpResponseParts response = co_await handle_lambda_api(context_, request);
        co_return response;
    }
    if (is_user_pool_path(path)) {
        HttpResponseParts response = co_await handle_user_pool_endpoint(context_, request);
        co_return response;
    }
    std::optional<RouteMatch> route = context_.routes.snapshot()->match(request.method, path);
    if (route) {
        RouteMatch match = std::move(*route);
        HttpResponseParts response = co_await handle_function_endpoint(context_, request, std::move(match));
        co_return response;
    }
    if (path.starts_with("/fn/")) {
        const std::string_view rest = path.substr(4);
        const std::string_view target = rest.substr(0, rest.find('/'));
        const std::string_view function = target.substr(0, target.find(':'));
        if (!is_valid_function_name(function)) co_return invalid_function_name(function);
        co_return not_found(fmt::format("Function not found: {}", function));
    }
    // Last: a site never hides a function or the platform (docs/SITES.md).
    if (std::optional<SiteMatch> site = context_.services.sites.snapshot()->match(request.header("Host").value_or(""), path)) {
        SiteMatch match = std::move(*site);
        HttpResponseParts response = co_await serve_site(context_, request, std::move(match));
        co_return response;
    }
    co_return not_found(fmt::format("No route for {} {}", request.method, path));
}

}  // namespace sofaas
