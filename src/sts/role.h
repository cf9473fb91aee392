// Roles: what the holder of temporary credentials may do, and who may become one. A role
// grants invoking a list of functions (each with all its versions and aliases, or one
// qualifier), issues sessions of at most max_session, and trusts the identity tokens of
// the user pools (or external OpenID Connect providers) it names.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/time.h"

namespace sofaas {

// What AWS allows a role's sessions: 15 minutes at least, 12 hours at most, 1 hour unless
// asked otherwise.
inline constexpr std::chrono::seconds min_session_duration{900};
inline constexpr std::chrono::seconds max_session_duration{43200};
inline constexpr std::chrono::seconds default_session_duration{3600};

// One function, every qualifier of it ("orders"), or one qualifier ("orders:prod",
// "orders:3", "orders:$LATEST").
struct InvokeGrant {
    std::string function;
    std::optional<std::string> qualifier;

    // "" and "$LATEST" are the same qualifier: an unqualified call runs $LATEST.
    bool allows(std::string_view function, std::string_view qualifier) const;
    std::string text() const;  // "NAME" or "NAME:QUALIFIER"
    friend bool operator==(const InvokeGrant&, const InvokeGrant&) = default;
};

// "NAME" or "NAME:QUALIFIER"; nullopt with *why when it is neither.
std::optional<InvokeGrant> parse_invoke_grant(std::string_view text, std::string* why);

struct Role {
    std::string name;
    std::vector<InvokeGrant> grants;
    std::chrono::seconds max_session = default_session_duration;
    // User pool names, and external providers' names or issuer URLs, whose ID tokens may
    // assume it.
    std::vector<std::string> trusted_pools;
    WallTime created;

    bool may_invoke(std::string_view function, std::string_view qualifier) const;
    // Whether an identity token of `pool` ("" for an external provider) issued by `issuer`
    // may assume this role; `provider`, for an external provider, is its configured name.
    bool trusts(std::string_view pool, std::string_view issuer, std::string_view provider = {}) const;
};

}  // namespace sofaas
