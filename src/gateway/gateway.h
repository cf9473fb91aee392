// The gateway: sofaasd's HTTP/1.1 server. It owns everything HTTP: limits on header and
// body size and read time, routing (/healthz, /v1 control API, /fn/NAME, custom routes),
// the bearer-token checks, and the mapping between HTTP and events. Beast stays inside.
#pragma once

#include <cstddef>
#include <filesystem>
#include <optional>
#include <memory>
#include <string>
#include <vector>

#include "common/config.h"

namespace boost::asio {
class io_context;
}

namespace sofaas {

class Registry;
class Scheduler;
class Pool;
class Ledger;
class Rollups;
class ClusterBilling;
class BillingShipper;
class FunctionLogStore;
class KeyStore;
class SessionStore;
class RoleStore;
class EventStore;
class Dispatcher;
class ScheduleRunner;
class Metrics;
class SiteStore;
class IdentityTokenVerifier;
namespace identity {
class UserPools;
}

struct GatewayServices {
    const Config& config;
    std::string admin_token;
    KeyStore& keys;
    RoleStore& roles;
    SessionStore& sessions;  // temporary credentials of roles
    Registry& registry;
    Scheduler& scheduler;
    Pool& pool;
    Ledger& ledger;
    FunctionLogStore& logs;
    EventStore& events;
    Dispatcher& dispatcher;
    ScheduleRunner& schedules;
    Metrics& metrics;
    // The user pools (/auth/POOL/..., /v1/user-pools) and the one verifier of identity
    // tokens, theirs and external providers' (JWT-protected routes, STS).
    identity::UserPools& user_pools;
    const IdentityTokenVerifier& identity_tokens;
    // The static sites served after every platform path and function route (site_serving.h).
    SiteStore& sites;
    // The dashboard's files, served at /ui/ (dashboard_assets.h); none: /ui/ answers 404.
    std::optional<std::filesystem::path> ui_dir = std::nullopt;
    // The ledger's rollups, which GET /v1/billing summarizes (without ?records) when the
    // ledger feeds them; none: summaries are summed from the ledger's records.
    const Rollups* rollups = nullptr;
    // On a node of a cluster: the whole cluster's bill, which GET /v1/billing summarizes
    // (without ?records) instead of this node's rollups.
    const ClusterBilling* cluster_billing = nullptr;
    // On a node of a cluster: what ships its records there, whose progress /metrics shows.
    const BillingShipper* billing_shipper = nullptr;
};

class Gateway {
public:
    // Each io_context must be run by exactly one thread (server.h).
    Gateway(boost::asio::io_context& io, GatewayServices services);
    // Accepts on the first context and spreads connections over all of them, in turn.
    Gateway(std::vector<boost::asio::io_context*> contexts, GatewayServices services);
    ~Gateway();

    // Binds config.listen_host:listen_port (0 = ephemeral) and starts accepting; and
    // config.metrics.listen_host:listen_port, when set, for GET /metrics alone, without
    // credentials. Returns the bound "HOST:PORT" of the first. Throws std::system_error
    // when it cannot bind.
    std::string start();
    // The bound "HOST:PORT" of metrics_listen, once started; empty when there is none.
    std::string metrics_address() const;
    // Stops accepting new connections; open ones finish their current request.
    void stop_accepting();
    // The registry changed outside a request (another node of a cluster changed it): the
    // next request sees the routes its functions declare now. Thread-safe.
    void refresh_routes();
    // Requests being handled right now (shutdown waits for 0).
    size_t requests_in_progress() const;

private:
    struct State;
    std::shared_ptr<State> state_;
};

}  // namespace sofaas
