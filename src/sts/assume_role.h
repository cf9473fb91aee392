// AssumeRoleWithWebIdentity, below any protocol: a signed-in user's ID token and a role's
// ARN in, temporary credentials for that role out (keys/session_store.h). The gateway
// speaks STS's query protocol around it (gateway/sts_api.cpp).
//
// Anyone may ask: the identity token is the only credential. It is verified first (by
// the user pools or the external provider that issued it, identity/identity_token.h); a
// role that does not exist and a role that does not trust the token's pool are refused
// alike, so that the answer tells a caller nothing of the roles it may not assume.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "identity/identity_token.h"
#include "keys/session_store.h"
#include "sts/role_store.h"

namespace sofaas {

struct AssumeRoleRequest {
    std::string role_arn;           // arn:aws:iam::ACCOUNT:role/NAME
    std::string session_name;      // RoleSessionName: 2-64 of A-Z a-z 0-9 _ + = , . @ -
    std::string web_identity_token; // an ID token
    std::optional<std::chrono::seconds> duration;  // DurationSeconds; none: 1 hour, or the role's maximum if less
};

enum class StsErrorKind {
    validation,              // a parameter breaks its constraints (ValidationError)
    invalid_identity_token,  // the token is not valid (InvalidIdentityToken)
    expired_token,           // the token has expired (ExpiredTokenException)
    access_denied,           // no such role, or it does not trust the token's pool (AccessDenied)
};

struct StsError {
    StsErrorKind kind;
    std::string message;  // for the caller: names no secret and no role it may not assume
};

struct AssumedRole {
    SessionCredentials credentials;
    std::string assumed_role_arn;  // arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION_NAME
    std::string assumed_role_id;   // AROA...:SESSION_NAME
    std::string provider;          // the token's issuer
    std::string audience;          // the token's first audience
};

// The role name of arn:aws:iam::ACCOUNT:role/[PATH/]NAME: a validation error when it is
// no role ARN, access denied when it is another account's.
std::variant<std::string, StsError> role_name_of_arn(std::string_view arn, std::string_view account_id);

// An external OpenID Connect provider as configured: a role may trust it by name.
struct ExternalIssuer {
    std::string name;
    std::string issuer;
};

// What the exchange checks against.
struct AssumeRoleContext {
    const IdentityTokenVerifier& verifier;
    const RoleStore& roles;
    SessionStore& sessions;
    std::string_view account_id;
    std::vector<ExternalIssuer> external_issuers = {};
};

// Verifies, checks the role's trust and issues the session (which writes the session file:
// call it off the io thread).
std::variant<AssumedRole, StsError> assume_role_with_web_identity(const AssumeRoleRequest& request,
                                                                  const AssumeRoleContext& context);

}  // namespace sofaas
