#include "sts/assume_role.h"

#include <algorithm>
#include <cctype>

#include "common/sha256.h"

namespace sofaas {
namespace {

constexpr std::string_view denied_message =
    "Not authorized to perform sts:AssumeRoleWithWebIdentity: no such role, or it does not trust the token's pool";

bool is_session_name(std::string_view name) {
    return name.size() >= 2 && name.size() <= 64 && std::all_of(name.begin(), name.end(), [](char c) {
               return std::isalnum(static_cast<unsigned char>(c)) || std::string_view("_+=,.@-").find(c) != std::string_view::npos;
           });
}

StsError token_error(const TokenRejection& rejection) {
    if (rejection.kind == TokenRejectionKind::expired) {
        return {StsErrorKind::expired_token, "Token expired: " + rejection.message};
    }
    return {StsErrorKind::invalid_identity_token, "Invalid web identity token: " + rejection.message};
}

// AWS's role ids are AROA and 17 characters, fixed for the role's life: ours are derived
// from its name and creation time, so a role deleted and made again gets another.
std::string role_id(const Role& role) {
    std::string digest = sha256_hex(role.name + "\n" + format_rfc3339(role.created)).substr(0, 17);
    std::transform(digest.begin(), digest.end(), digest.begin(), [](char c) { return static_cast<char>(std::toupper(c)); });
    return "AROA" + digest;
}

}  // namespace

std::variant<std::string, StsError> role_name_of_arn(std::string_view arn, std::string_view account_id) {
    constexpr std::string_view prefix = "arn:aws:iam::";
    const auto malformed = [&] {
        return StsError{StsErrorKind::validation,
                        "RoleArn must be arn:aws:iam::ACCOUNT:role/NAME (this is account " + std::string(account_id) + ")"};
    };
    if (!arn.starts_with(prefix)) return malformed();
    const std::string_view rest = arn.substr(prefix.size());
    const size_t colon = rest.find(':');
    if (colon == std::string_view::npos) return malformed();
    const std::string_view account = rest.substr(0, colon);
    const std::string_view resource = rest.substr(colon + 1);
    if (!resource.starts_with("role/")) return malformed();
    const std::string_view name = resource.substr(resource.rfind('/') + 1);
    if (name.empty()) return malformed();
    if (account != account_id) return StsError{StsErrorKind::access_denied, std::string(denied_message)};
    return std::string(name);
}

std::variant<AssumedRole, StsError> assume_role_with_web_identity(const AssumeRoleRequest& request,
                                                                  const AssumeRoleContext& context) {
    const std::string_view account_id = context.account_id;
    if (!is_session_name(request.session_name)) {
        return StsError{StsErrorKind::validation,
                        "RoleSessionName must be 2 to 64 characters of A-Z, a-z, 0-9 and _+=,.@-"};
    }
    if (request.duration && (*request.duration < min_session_duration || *request.duration > max_session_duration)) {
        return StsError{StsErrorKind::validation,
                        "DurationSeconds must be between 900 and 43200, not " + std::to_string(request.duration->count())};
    }
    auto role_name = role_name_of_arn(request.role_arn, account_id);
    if (auto* error = std::get_if<StsError>(&role_name)) return std::move(*error);

    auto verified = context.verifier.verify(request.web_identity_token, TokenUse::id, std::nullopt);
    if (auto* rejection = std::get_if<TokenRejection>(&verified)) return token_error(*rejection);
    const VerifiedIdentity& identity = std::get<VerifiedIdentity>(verified);

    std::string_view provider;
    if (identity.pool.empty()) {
        for (const ExternalIssuer& external : context.external_issuers) {
            if (external.issuer == identity.issuer) provider = external.name;
        }
    }
    const std::optional<Role> role = context.roles.find(std::get<std::string>(role_name));
    if (!role || !role->trusts(identity.pool, identity.issuer, provider)) {
        return StsError{StsErrorKind::access_denied, std::string(denied_message)};
    }
    const std::chrono::seconds duration = request.duration.value_or(std::min(default_session_duration, role->max_session));
    if (duration > role->max_session) {
        return StsError{StsErrorKind::validation, "The requested DurationSeconds exceeds the MaxSessionDuration set for "
                                                  "this role (" + std::to_string(role->max_session.count()) + " s)"};
    }

    AssumedRole assumed;
    assumed.credentials =
        context.sessions.issue(SessionGrant{role->name, identity.subject, identity.issuer, request.session_name}, duration);
    assumed.assumed_role_arn =
        "arn:aws:sts::" + std::string(account_id) + ":assumed-role/" + role->name + "/" + request.session_name;
    assumed.assumed_role_id = role_id(*role) + ":" + request.session_name;
    assumed.provider = identity.issuer;
    assumed.audience = identity.audiences.empty() ? std::string() : identity.audiences.front();
    return assumed;
}

}  // namespace sofaas
