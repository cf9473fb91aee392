// Who is calling: the credential in a request's "Authorization: Bearer ..." header, which
// is the admin token or an API key given as ACCESS_KEY_ID:SECRET (keys/api_keys.h).
#pragma once

#include <optional>
#include <string_view>

#include "gateway/http_message.h"
#include "keys/api_keys.h"

namespace sofaas {

enum class CallerKind {
    anonymous,    // no credential, or one that is not valid
    admin_token,  // the daemon's admin token
    api_key,      // a valid API key (see key->scope)
};

struct Caller {
    CallerKind kind = CallerKind::anonymous;
    std::optional<ApiKey> key;  // when kind == api_key

    bool known() const { return kind != CallerKind::anonymous; }
    // The whole control API: the admin token or an admin key.
    bool is_admin() const;
    // Invoking `function`: an admin, or an invoke key that names it (or names none).
    bool may_invoke(std::string_view function) const;
};

// Secrets are compared in constant time (secrets_equal). An empty admin token admits
// nobody.
Caller identify_caller(std::optional<std::string_view> authorization, std::string_view admin_token,
                       const KeyStore& keys);
Caller identify_caller(const IncomingRequest& request, std::string_view admin_token, const KeyStore& keys);

}  // namespace sofaas
