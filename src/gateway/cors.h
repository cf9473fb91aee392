// Cross-origin calls from browsers (CORS), as one policy of the gateway, by path family:
// the Lambda API (/2015-03-31/... and its other dates), function URLs (/fn/...), the user
// pools' endpoints (/auth/...) and the STS endpoint (/sts), whoever serves those paths. With allowed
// origins configured (cors.allowed_origins), sofaasd answers every preflight on those
// paths itself, before any credential check or function: a preflight never runs a
// function and is never billed. Answers to a listed origin say so; any other origin gets
// no CORS header at all, and neither do the control API and the sites, which a browser
// reaches from their own origin. Without allowed origins nothing here acts, and an
// OPTIONS request reaches a function as any other method does.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/config.h"
#include "gateway/http_event.h"
#include "gateway/http_message.h"

namespace sofaas {

enum class CorsFamily { none, lambda_api, function_url, auth, sts };

// Which family `path` belongs to; none for everything CORS does not apply to.
CorsFamily cors_family_of(std::string_view path);

class CorsPolicy {
public:
    explicit CorsPolicy(const CorsSettings& settings);

    bool enabled() const { return !settings_.allowed_origins.empty(); }
    // The answer to a preflight (OPTIONS with Origin and Access-Control-Request-Method) on
    // a path of a family, when the policy is enabled: 204 with the permissions for a
    // listed origin, 403 without a CORS header for any other. nullopt for every other
    // request, which is dispatched as usual.
    std::optional<HttpResponseParts> preflight(const IncomingRequest& request) const;
    // Every other answer on a path of a family: the CORS headers for a listed origin, and
    // none (those a function set too are removed) for any other.
    void apply(const IncomingRequest& request, HttpResponseParts& response) const;

private:
    // The Access-Control-Allow-Origin value for `origin`, or nullopt when it is not listed.
    std::optional<std::string> allowed(std::string_view origin) const;

    CorsSettings settings_;
};

}  // namespace sofaas
