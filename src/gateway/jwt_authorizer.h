// The JWT authorizer of functions deployed with --auth jwt, as API Gateway's HTTP API
// runs one: the caller presents an access token of the function's user pool as
// "Authorization: Bearer TOKEN"; none or a bad one is a 401 with WWW-Authenticate, a
// token without the required scope a 403. The verified claims go into the event. The
// function's jwt_pool names a user pool of this daemon or a configured external OpenID
// Connect provider (then its tokens are taken instead).
#pragma once

#include <optional>
#include <string_view>
#include <variant>

#include "common/config.h"
#include "common/function_spec.h"
#include "gateway/http_event.h"
#include "identity/identity_token.h"

namespace sofaas {

// Only for a spec whose auth is AuthMode::jwt: the claims for the event, or the refusal.
std::variant<JwtClaims, HttpResponseParts> authorize_jwt(const IdentityTokenVerifier& verifier, const UserSettings& users,
                                                         const FunctionSpec& spec,
                                                         std::optional<std::string_view> authorization);

}  // namespace sofaas
