#include "gateway/cors.h"

#include <algorithm>
#include <array>

#include <fmt/format.h>

#include "gateway/lambda_api.h"
#include "gateway/responses.h"

namespace sofaas {
namespace {

// What the AWS SDK for JavaScript v3 sends (SigV4 headers, its retry and user-agent
// headers, Lambda's invocation headers), and what sofaas's own clients send.
constexpr std::string_view allowed_request_headers =
    "authorization, content-type, x-amz-date, x-amz-security-token, x-amz-content-sha256, x-amz-user-agent, "
    "amz-sdk-invocation-id, amz-sdk-request, x-amz-invocation-type, x-amz-log-type, x-amz-client-context, "
    "x-sofaas-invocation-type, x-sofaas-idempotency-key";
// What the SDK reads from Lambda's answers, and the request id sofaas adds to each.
constexpr std::string_view exposed_response_headers =
    "x-amz-function-error, x-amz-log-result, x-amz-executed-version, x-amzn-requestid, x-sofaas-request-id";
constexpr std::string_view allowed_methods = "GET, HEAD, POST, PUT, PATCH, DELETE";

bool is_cors_header(std::string_view name) {
    return name.size() >= 15 && iequals(name.substr(0, 15), "access-control-");
}

bool at_or_below(std::string_view path, std::string_view prefix) {
    return path.starts_with(prefix) && (path.size() == prefix.size() || path[prefix.size()] == '/');
}

}  // namespace

CorsFamily cors_family_of(std::string_view path) {
    if (is_lambda_api_path(path)) return CorsFamily::lambda_api;
    if (at_or_below(path, "/fn")) return CorsFamily::function_url;
    if (at_or_below(path, "/auth")) return CorsFamily::auth;
    if (at_or_below(path, "/sts")) return CorsFamily::sts;
    return CorsFamily::none;
}

CorsPolicy::CorsPolicy(const CorsSettings& settings) : settings_(settings) {}

std::optional<std::string> CorsPolicy::allowed(std::string_view origin) const {
    for (const std::string& listed : settings_.allowed_origins) {
        if (listed == "*") return std::string("*");
        if (listed == origin) return std::string(origin);
    }
    return std::nullopt;
}

std::optional<HttpResponseParts> CorsPolicy::preflight(const IncomingRequest& request) const {
    if (!enabled() || request.method != "OPTIONS") return std::nullopt;
    const auto origin = request.header("Origin");
    if (!origin || !request.header("Access-Control-Request-Method")) return std::nullopt;
    if (cors_family_of(request.path()) == CorsFamily::none) return std::nullopt;
    const std::optional<std::string> allow_origin = allowed(*origin);
    if (!allow_origin) {
        return forbidden(fmt::format("Origin {} may not call this endpoint from a browser (cors.allowed_origins)", *origin));
    }
    HttpResponseParts response;
    response.status = 204;
    response.headers = {
        {"Access-Control-Allow-Origin", *allow_origin},
        {"Access-Control-Allow-Methods", std::string(allowed_methods)},
        {"Access-Control-Allow-Headers", std::string(allowed_request_headers)},
        {"Access-Control-Max-Age", std::to_string(settings_.max_age_s)},
        {"Vary", "Origin, Access-Control-Request-Method, Access-Control-Request-Headers"},
    };
    return response;
}

void CorsPolicy::apply(const IncomingRequest& request, HttpResponseParts& response) const {
    if (!enabled() || cors_family_of(request.path()) == CorsFamily::none) return;
    std::erase_if(response.headers, [](const auto& header) { return is_cors_header(header.first); });
    const auto origin = request.header("Origin");
    if (!origin) return;
    const std::optional<std::string> allow_origin = allowed(*origin);
    if (!allow_origin) return;
    response.headers.emplace_back("Access-Control-Allow-Origin", *allow_origin);
    response.headers.emplace_back("Access-Control-Expose-Headers", std::string(exposed_response_headers));
    response.headers.emplace_back("Vary", "Origin");
}

}  // namespace sofaas
