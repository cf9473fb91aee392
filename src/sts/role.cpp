#include "sts/role.h"

#include <algorithm>

#include "common/function_spec.h"

namespace sofaas {
namespace {

bool is_latest(std::string_view qualifier) { return qualifier.empty() || qualifier == "$LATEST"; }

// A version number or an alias name: Lambda's [A-Za-z0-9_-]{1,128}.
bool is_qualifier_text(std::string_view text) {
    return !text.empty() && text.size() <= 128 && std::all_of(text.begin(), text.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
    });
}

}  // namespace

bool InvokeGrant::allows(std::string_view called_function, std::string_view called_qualifier) const {
    if (called_function != function) return false;
    if (!qualifier) return true;
    if (is_latest(*qualifier)) return is_latest(called_qualifier);
    return *qualifier == called_qualifier;
}

std::string InvokeGrant::text() const { return qualifier ? function + ":" + *qualifier : function; }

std::optional<InvokeGrant> parse_invoke_grant(std::string_view text, std::string* why) {
    const size_t colon = text.find(':');
    const std::string_view function = text.substr(0, colon);
    if (!is_valid_function_name(function)) {
        *why = "Not a function name: '" + std::string(function) + "' (FUNCTION or FUNCTION:QUALIFIER)";
        return std::nullopt;
    }
    InvokeGrant grant{std::string(function), std::nullopt};
    if (colon == std::string_view::npos) return grant;
    const std::string_view qualifier = text.substr(colon + 1);
    if (qualifier != "$LATEST" && !is_qualifier_text(qualifier)) {
        *why = "Not a qualifier: '" + std::string(qualifier) + "' ($LATEST, a version number or an alias name)";
        return std::nullopt;
    }
    grant.qualifier = std::string(qualifier);
    return grant;
}

bool Role::may_invoke(std::string_view function, std::string_view qualifier) const {
    return std::any_of(grants.begin(), grants.end(),
                       [&](const InvokeGrant& grant) { return grant.allows(function, qualifier); });
}

bool Role::trusts(std::string_view pool, std::string_view issuer, std::string_view provider) const {
    return std::any_of(trusted_pools.begin(), trusted_pools.end(), [&](const std::string& trusted) {
        return (!pool.empty() && trusted == pool) || (!issuer.empty() && trusted == issuer) ||
               (pool.empty() && !provider.empty() && trusted == provider);
    });
}

}  // namespace sofaas
