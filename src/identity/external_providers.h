// External OpenID Connect providers (an identity system the operator already runs): their
// tokens are verified with the keys of their JWKS, fetched over HTTP(S) from the
// configured jwks_url by a thread of this module, at start, hourly, and when a token
// names a key id not seen yet (at most once per provider every 30 s: a stream of made-up
// key ids costs the provider one fetch a half-minute).
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "identity/signing_key.h"

namespace sofaas::identity {

struct ExternalProvider {
    std::string name;
    std::string issuer;    // exactly the iss of its tokens
    std::string jwks_url;  // http:// or https:// (certificates verified)
    std::string audience;  // must be among the aud (or be the client_id) of its tokens
};

// How the JWKS fetches run (tests shorten them).
struct JwksFetchSettings {
    std::chrono::seconds refresh_every{3600};
    std::chrono::seconds min_refetch_interval{30};
    std::chrono::seconds timeout{5};
};

class ExternalProviders {
public:
    ExternalProviders(std::vector<ExternalProvider> providers, JwksFetchSettings settings = {});
    ~ExternalProviders();  // stops the fetching thread
    ExternalProviders(const ExternalProviders&) = delete;
    ExternalProviders& operator=(const ExternalProviders&) = delete;

    std::optional<ExternalProvider> by_issuer(std::string_view issuer) const;
    // The key with this id (any of the provider's keys when `kid` is empty), or nullopt;
    // an unknown kid asks for a fetch (rate-limited) and the next token may find it.
    std::vector<PublicKey> keys_for(std::string_view provider, std::string_view kid) const;
    // How many times the provider's keys have been fetched successfully (for tests and logs).
    uint64_t fetches(std::string_view provider) const;

private:
    struct State;
    std::shared_ptr<State> state_;
};

}  // namespace sofaas::identity
