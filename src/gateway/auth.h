// Who is calling: the credential in a request's Authorization header. Either
// "Bearer TOKEN", where TOKEN is the admin token or an API key given as
// ACCESS_KEY_ID:SECRET (keys/api_keys.h), or an AWS Signature Version 4 made with an API
// key's id and secret or with temporary credentials of a role (keys/sigv4.h), as the AWS
// CLI and SDKs send it.
#pragma once

#include <optional>
#include <string_view>

#include "common/invocation_report.h"
#include "common/time.h"
#include "gateway/http_event.h"
#include "gateway/http_message.h"
#include "keys/api_keys.h"
#include "keys/sigv4.h"
#include "sts/role.h"
#include "sts/role_store.h"

namespace sofaas {

struct GatewayServices;

// The service every SigV4 credential scope must name: sofaas answers as AWS Lambda.
inline constexpr std::string_view sigv4_service = "lambda";

// What a credential is checked against.
struct TrustedCredentials {
    std::string_view admin_token;  // empty: admits nobody
    const KeyStore& keys;
    std::string_view region;  // the SigV4 credential scope's region (Config::region)
    const SessionStore& sessions;
    const RoleStore& roles;
};
TrustedCredentials trusted_credentials(const GatewayServices& services);

enum class CallerKind {
    anonymous,    // no credential, or one that is not valid
    admin_token,  // the daemon's admin token
    api_key,      // a valid API key (see key->scope)
    session,      // temporary credentials of a role that exists (see session, role)
};

struct Caller {
    CallerKind kind = CallerKind::anonymous;
    std::optional<ApiKey> key;  // when kind == api_key
    // A SigV4 signature that was refused, and why: the caller is anonymous, and the AWS
    // API answers with this failure's status and error type instead of a plain 401.
    std::optional<SigV4Failure> signature_failure;
    std::optional<Session> session;  // when kind == session
    std::optional<Role> role;        // the session's role, as it is now

    bool known() const { return kind != CallerKind::anonymous; }
    // The whole control API: the admin token or an admin key.
    bool is_admin() const;
    // Invoking `function` at `qualifier` ("" or "$LATEST": the latest): an admin, an invoke
    // key that names the function (or names none), or a session whose role grants it.
    bool may_invoke(std::string_view function, std::string_view qualifier) const;
    // GET /metrics: an admin, or a metrics key.
    bool may_read_metrics() const;
    // Why a known caller who is no admin is refused the rest of the control API (its
    // key's scope).
    std::string_view what_the_key_may_do() const;
    // Who the billing record names (InvocationReport::principal).
    Principal principal() const;
};

// The 401 for a caller who is not known: a refused signature says why, as AWS does.
HttpResponseParts unauthorized(const Caller& caller);

// Secrets are compared in constant time (secrets_equal); a SigV4 signature is verified as
// of `now`, against the whole request, body included.
Caller identify_caller(const IncomingRequest& request, const TrustedCredentials& trusted, WallTime now = wall_now());

// Before the body is read (Expect: 100-continue) only the Authorization header is known.
// A Bearer credential is checked in full; a SigV4 signature covers the body, so here only
// its header is read and its key looked up: a caller who may be admitted once the body has
// arrived and identify_caller has verified it.
Caller caller_before_body(std::optional<std::string_view> authorization, const TrustedCredentials& trusted);

}  // namespace sofaas
