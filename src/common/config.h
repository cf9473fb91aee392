// Daemon configuration: config/sofaasd.json, overridden by command-line flags.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <stdexcept>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/uid_range.h"

namespace sofaas {

struct Limits {
    uint32_t max_timeout_s = 300;
    size_t max_payload_bytes = 6 * 1024 * 1024;  // request and response bodies
    size_t max_header_bytes = 16 * 1024;
    uint32_t read_timeout_s = 30;    // whole request (headers and body) must arrive by then
    uint32_t init_timeout_s = 10;    // dlopen + sofaas_init
    uint32_t max_memory_mb = 10240;
    uint32_t max_queue = 1000;       // waiting invocations per function version, beyond max_concurrency
};

struct FunctionDefaults {
    uint32_t memory_mb = 128;
    uint32_t timeout_s = 3;
    uint32_t max_concurrency = 100;
    uint32_t min_warm = 0;
    uint32_t idle_timeout_s = 600;
};

// Queued events: asynchronous invocations and schedule firings (src/events/).
struct EventSettings {
    // A failed run is run again after retry_delay_s, the next after twice that (Lambda:
    // about 1 and 2 minutes).
    uint32_t retry_delay_s = 60;
    // Events waiting per function beyond which an asynchronous invocation is refused (429).
    uint64_t max_queued_per_function = 10'000'000;
    // Of a function's max_concurrency, the part queued events may use at once (percent, at
    // least one run): the rest is kept for callers who wait for their answer.
    uint32_t concurrency_share_percent = 50;
    // Runs of queued events at once, all functions together.
    uint32_t max_running = 64;
    // Who holds an event's lease: "local" unless set, or with a PostgreSQL store
    // "HOSTNAME:PORT" of this daemon (default_node_id()). Daemons sharing one store must
    // differ, and a daemon should keep its id across restarts: it releases the leases its
    // id holds when it starts.
    std::string node_id;
};

// Function logs (src/logs/): how much of them is kept, and who may watch them live. The
// billing ledger is never subject to these: billing records are kept whole.
struct LogSettings {
    // Per function: past this size its oldest day-files go, then the oldest lines of the
    // newest one.
    uint64_t max_bytes_per_function = 100ull * 1024 * 1024;
    // Day-files older than this many days go (a line is kept at least this long).
    uint32_t max_age_days = 7;
    // `sofaas logs --follow` streams open at once, all functions together; beyond: 429.
    uint32_t max_followers = 64;
};

// Where the state that daemons may share lives (today the queued events, dead letters and
// schedules): in files of data_dir, or in one PostgreSQL database that several daemons,
// the nodes of a cluster, share.
enum class StoreKind { sqlite, postgres };

struct StoreSettings {
    StoreKind kind = StoreKind::sqlite;
    std::string postgres_url;  // postgres: "postgresql://USER@HOST:PORT/DATABASE?..."
};

// GET /metrics (metrics/metrics.h, docs/METRICS.md).
struct MetricsSettings {
    // false: nothing is counted and /metrics answers 404 (for measuring what counting costs).
    bool enabled = true;
    // Set: /metrics is served on this address too, without credentials, for a scraper on a
    // private network (metrics_listen, "HOST:PORT"). Anyone who reaches it reads the names
    // of the functions and their traffic.
    std::optional<std::string> listen_host;
    uint16_t listen_port = 0;
};

// An external OpenID Connect provider whose tokens the daemon accepts (docs/USERS.md).
struct OidcProviderSettings {
    std::string name;
    std::string issuer;    // exactly the "iss" of its tokens
    std::string jwks_url;  // http:// or https://
    std::string audience;  // must be in the "aud" (or be the "client_id") of its tokens
};

// User pools and the tokens they issue (src/identity/, docs/USERS.md).
struct UserSettings {
    // The base of every pool's issuer URL (ISSUER_URL/auth/POOL), e.g.
    // "https://auth.example.com". Unset: "http://" and the Host of the request that signs in.
    std::optional<std::string> issuer_url;
    uint32_t token_lifetime_s = 3600;        // ID and access tokens
    uint32_t refresh_lifetime_days = 30;
    uint32_t max_failed_sign_ins = 5;        // in a row, per user, before a lockout
    uint32_t lockout_s = 60;                 // the first lockout; doubled by each further failure
    uint32_t max_failed_sign_ins_per_address = 20;  // within lockout_s, all users together
    std::vector<OidcProviderSettings> oidc_providers;
};

// Static sites (src/sites/, docs/SITES.md): what an upload may hold, how much of the
// sites' small files is kept in memory, and the headers every site's answers carry.
struct SitesSettings {
    uint32_t max_files = 10000;
    uint64_t max_total_bytes = 64ull * 1024 * 1024;
    uint64_t cache_mb = 64;
    // Sent with every file and error of a site, in this order. The configuration's
    // "headers" object is laid over these: a name set to "" removes it.
    std::vector<std::pair<std::string, std::string>> headers = {
        {"Content-Security-Policy", "default-src 'self'; object-src 'none'; base-uri 'self'; frame-ancestors 'self'"},
        {"X-Content-Type-Options", "nosniff"},
        {"Referrer-Policy", "strict-origin-when-cross-origin"},
        {"X-Frame-Options", "SAMEORIGIN"},
    };
    // Clients reach sofaasd over HTTPS through a proxy in front: then, and only then, the
    // sites' answers carry Strict-Transport-Security (a browser that saw it over plain
    // HTTP would refuse the site's plain HTTP for hsts_max_age_s).
    bool behind_tls = false;
    uint32_t hsts_max_age_s = 31536000;
    bool hsts_include_subdomains = false;
};

// Cross-origin calls from browsers (docs/CONFIGURATION.md, "cors"): which origins may call
// the Lambda API, the function URLs and the auth endpoints. None by default.
struct CorsSettings {
    std::vector<std::string> allowed_origins;  // "https://app.example.com", or "*"
    uint32_t max_age_s = 600;                  // how long a browser may reuse a preflight's answer
};

// Lambda's x86 prices.
struct Prices {
    double per_gb_second = 0.0000166667;
    double per_request = 0.0000002;
};

// Ids in the range systemd leaves unused (1879048192-2147483647), far from real users.
constexpr UidRange default_worker_uids{1'900'000'000, 1'900'999'999};

// "FIRST-LAST", both user ids above 0 and below 4294967295, FIRST <= LAST. Throws ConfigError.
UidRange parse_uid_range(std::string_view text);

// "sqlite", or a URL beginning postgresql:// (or postgres://); the rest of the URL is
// libpq's to read when the daemon connects. Throws ConfigError, never quoting the text
// (a URL may hold a password).
StoreSettings parse_store(std::string_view text);

struct Config {
    std::string listen_host = "127.0.0.1";
    uint16_t listen_port = 8080;
    std::filesystem::path data_dir = "data";
    // Event loops, one thread each; nullopt ("auto"): auto_io_threads().
    std::optional<uint32_t> io_threads;
    std::string admin_token;            // empty: SOFAAS_ADMIN_TOKEN, else DATA/admin.token
    uint32_t shutdown_grace_s = 30;
    uint32_t ledger_fsync_interval_ms = 20;  // group fsync window; 0 = write but never fsync (see ledger.h)
    // Below this much free space on the ledger's filesystem invocations are refused (503)
    // before writes could fail; 0 = no reserve (see ledger.h).
    uint32_t ledger_reserve_mb = 64;
    // Sealed ledger segments whose hour ended more than ledger_archive_after_days ago are
    // moved to ledger_archive_dir (never deleted); 0 days or no directory: kept in DATA.
    std::filesystem::path ledger_archive_dir;
    uint32_t ledger_archive_after_days = 0;
    // Under a root daemon each worker runs as a uid of its own from worker_uids (no user
    // database entry needed), so functions cannot signal each other's workers or share a
    // process limit; unless worker_user names one user for all of them. A daemon that is
    // not root keeps its own user for its workers.
    std::string worker_user;
    UidRange worker_uids = default_worker_uids;
    // Cold starts fork from a zygote (a prepared sofaas-worker) instead of exec'ing one:
    // ~3 ms faster, but every worker shares the zygote's address-space layout (ASLR).
    bool zygote = true;
    // "auto": under a root daemon each execution environment gets a cgroup of its own
    // (v2, else v1) where the host has one; "off": never (rlimits of the worker only).
    bool cgroups = true;
    // Whether a deploy may set loader variables (common/loader_variables.h: LD_PRELOAD,
    // GLIBC_TUNABLES, MALLOC_*, ...). They take effect only inside the sandbox either way.
    bool allow_loader_environment = false;
    Limits limits;
    FunctionDefaults defaults;
    Prices prices;
    StoreSettings store;
    EventSettings events;
    LogSettings logs;
    MetricsSettings metrics;
    SitesSettings sites;
    CorsSettings cors;
    UserSettings users;
    // What ARNs name (arn:aws:lambda:REGION:ACCOUNT:function:NAME). AWS clients sign for
    // the region they are configured with, us-east-1 most often: the same by default.
    std::string region = "us-east-1";
    std::string account_id = "000000000000";
    // The web dashboard's files (/ui/). Unset: ui/ beside sofaasd (a build tree), else the
    // installed share/sofaas/ui.
    std::optional<std::filesystem::path> ui_dir;
};

class ConfigError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// Half the cores, at least one: every invocation also runs in a worker, and an io thread
// per core would compete with function code for every core. On 2 cores, one io thread
// had a p99 of 1.1-1.5 ms at 32 connections against 2.2-2.9 ms with two, at 11-15% fewer
// calls of a function that does nothing (bench/NOTES.md, sixth look).
uint32_t auto_io_threads();
uint32_t io_thread_count(const Config& config);

// events.node_id if set; otherwise "local" with the SQLite store, and "HOSTNAME:PORT" with
// a PostgreSQL store ("HOSTNAME:pid-PID" when the port is chosen by the system, 0).
std::string lease_owner_of(const Config& config);


// Unknown keys and bad values throw ConfigError naming the key ("limits.max_timeout_s: ...").
Config parse_config(std::string_view json_text);
Config load_config(const std::filesystem::path& file);

// arn:aws:lambda:REGION:ACCOUNT:function:NAME
std::string function_arn(const Config& config, std::string_view function);

// "HOST:PORT" -> config.listen_host/listen_port; throws ConfigError.
void apply_listen(Config& config, std::string_view host_port);
// "HOST:PORT" -> host (without IPv6 brackets) and port; throws ConfigError.
std::pair<std::string, uint16_t> parse_host_port(std::string_view host_port);

}  // namespace sofaas
