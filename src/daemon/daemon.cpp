#include "daemon/daemon.h"

#include <sched.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <memory>
#include <optional>
#include <stdexcept>
#include <thread>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <spdlog/spdlog.h>

#include "billing/ledger.h"
#include "billing/rollups.h"
#include "cluster/billing_shipper.h"
#include "cluster/cluster_billing.h"
#include "cluster/shared_registry.h"
#include "cgroup/environment_cgroups.h"
#include "cgroup/layout.h"
#include "events/dispatcher.h"
#include "events/schedule_runner.h"
#include "events/postgres_event_store.h"
#include "events/sqlite_event_store.h"
#include "common/private_directory.h"
#include "daemon/admin_token.h"
#include "keys/api_keys.h"
#include "keys/session_store.h"
#include "gateway/gateway.h"
#include "identity/external_providers.h"
#include "identity/token_verifier.h"
#include "identity/user_pools.h"
#include "logs/function_logs.h"
#include "metrics/metrics.h"
#include "pool/child_processes.h"
#include "pool/pool.h"
#include "registry/registry.h"
#include "sites/site_store.h"
#include "scheduler/scheduler.h"
#include "sts/role_store.h"

namespace sofaas {
namespace {

namespace asio = boost::asio;

// sofaas-worker is found from sofaasd's own path, never by a PATH lookup a user could
// redirect: beside it in a build tree, at SOFAAS_INSTALLED_WORKER (relative to its
// directory, e.g. ../libexec/sofaas/sofaas-worker) once installed.
std::filesystem::path find_worker_binary() {
    std::error_code ec;
    const auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
    if (ec) throw std::runtime_error("cannot locate sofaasd itself (/proc/self/exe): " + ec.message());
    const std::filesystem::path candidates[] = {self.parent_path() / "sofaas-worker",
                                                (self.parent_path() / SOFAAS_INSTALLED_WORKER).lexically_normal()};
    for (const auto& worker : candidates) {
        if (::access(worker.c_str(), X_OK) == 0) return worker;
    }
    throw std::runtime_error("sofaas-worker not found (or not executable) at " + candidates[0].string() + " or " +
                             candidates[1].string() + ": it is installed beside sofaasd or in its libexec directory");
}

// The dashboard's files: ui_dir when configured (it must then exist), else found from
// sofaasd's own path as sofaas-worker is: ui/ beside it in a build tree, at
// SOFAAS_INSTALLED_UI (share/sofaas/ui) once installed. Without them the daemon runs and
// /ui/ says the dashboard is not installed.
std::optional<std::filesystem::path> find_dashboard_files(const Config& config) {
    std::error_code ec;
    if (config.ui_dir) {
        if (!std::filesystem::is_directory(*config.ui_dir, ec)) {
            throw std::runtime_error("ui_dir " + config.ui_dir->string() + " is not a directory");
        }
        return config.ui_dir;
    }
    const auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
    if (ec) throw std::runtime_error("cannot locate sofaasd itself (/proc/self/exe): " + ec.message());
    const std::filesystem::path candidates[] = {self.parent_path() / "ui",
                                                (self.parent_path() / SOFAAS_INSTALLED_UI).lexically_normal()};
    for (const auto& directory : candidates) {
        if (std::filesystem::is_directory(directory, ec)) return directory;
    }
    spdlog::warn("dashboard files not found at {} or {} (nor ui_dir configured): /ui/ answers 404",
                 candidates[0].string(), candidates[1].string());
    return std::nullopt;
}

// Whether this host lets a root daemon give environments namespaces of their own: a
// container without CAP_SYS_ADMIN does not. Asked once, of a child that tries.
std::optional<std::string> why_no_namespaces() {
    const pid_t child = ::fork();
    if (child == 0) ::_exit(::unshare(CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWIPC) == 0 ? 0 : errno);
    if (child < 0) return std::string("fork: ") + std::strerror(errno);
    int status = 0;
    while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return std::nullopt;
    return std::string("unshare: ") + std::strerror(WIFEXITED(status) ? WEXITSTATUS(status) : EINVAL);
}

// Function code never runs as root: a root daemon gives each worker a uid of its own from
// worker_uids, or, when worker_user names one, runs them all as that user, and each
// environment namespaces of its own. A daemon that is not root can do neither: its
// workers keep its own user and share its namespaces.
// The store the config names: the embedded file in the data directory, or the database
// the nodes of a cluster share. Throws EventStoreError when it cannot be opened.
std::unique_ptr<EventStore> open_event_store(const Config& config) {
    if (config.store.kind == StoreKind::postgres) {
        std::unique_ptr<EventStore> store = open_postgres_event_store(config.store.postgres_url);
        spdlog::info("event store: PostgreSQL, leases held as {}", lease_owner_of(config));
        return store;
    }
    return open_sqlite_event_store(config.data_dir / "events.db");
}

void choose_worker_users(const Config& config, PoolOptions& options) {
    if (::geteuid() != 0) {
        spdlog::warn("not running as root: functions run as this user, can read what it can (the data directory "
                     "included), and share this host's /tmp and process namespace");
        options.worker_user = config.worker_user;
        return;
    }
    if (auto why = why_no_namespaces()) {
        spdlog::warn("no namespaces for execution environments ({}): functions share this host's /tmp and "
                     "process, mount and IPC namespaces, and what they start is killed by process group",
                     *why);
    } else {
        options.own_namespaces = true;
    }
    if (!config.worker_user.empty()) {
        spdlog::info("running as root: functions run as user '{}' (all of them: one can signal another's workers)",
                     config.worker_user);
        options.worker_user = config.worker_user;
        return;
    }
    spdlog::info("running as root: each worker runs as a uid of its own from {}-{}", config.worker_uids.first,
                 config.worker_uids.last);
    options.worker_uids = config.worker_uids;
}

// A root daemon gives each execution environment a cgroup of its own where the host has
// cgroups (v2, else v1), below its own cgroup. Without one, the worker's rlimits are all
// there is, and the log says once what that gives up.
std::shared_ptr<cgroup::EnvironmentCgroups> environment_cgroups(const Config& config) {
    const auto without = [](const std::string& why) {
        spdlog::warn("execution environments run without cgroups ({}): a function's memory limit covers only its "
                     "worker's address space (RLIMIT_AS; shared memory and child processes are not counted), "
                     "its processes count per user (RLIMIT_NPROC), an idle environment is not frozen (a "
                     "thread left running computes unbilled), its CPU time is not measured, and only its "
                     "process group and the orphans sofaasd adopts are killed with it",
                     why);
        return nullptr;
    };
    if (!config.cgroups) return without("\"cgroups\": \"off\"");
    if (::geteuid() != 0) return without("sofaasd is not root");
    auto layout = cgroup::find_layout();
    if (auto* error = std::get_if<std::string>(&layout)) return without(*error);
    auto created = cgroup::EnvironmentCgroups::create(std::get<cgroup::Layout>(layout));
    if (auto* error = std::get_if<std::string>(&created)) return without(*error);
    auto cgroups = std::get<std::shared_ptr<cgroup::EnvironmentCgroups>>(std::move(created));
    spdlog::info("each execution environment gets a cgroup {} of its own, in {}", to_string(cgroups->version()),
                 cgroups->path());
    return cgroups;
}

PoolOptions pool_options(const Config& config) {
    PoolOptions options;
    options.worker_binary = find_worker_binary();
    choose_worker_users(config, options);
    options.init_timeout = std::chrono::seconds(config.limits.init_timeout_s);
    options.idle_timeout = std::chrono::seconds(config.defaults.idle_timeout_s);
    // Started with the Pool, on the main thread: it lives as long as the daemon.
    options.zygote = config.zygote;
    options.cgroups = environment_cgroups(config);
    return options;
}

identity::UserPoolSettings user_pool_settings(const UserSettings& users) {
    identity::UserPoolSettings settings;
    settings.token_lifetime = std::chrono::seconds(users.token_lifetime_s);
    settings.refresh_lifetime = std::chrono::hours(24) * users.refresh_lifetime_days;
    settings.throttle.max_failures = users.max_failed_sign_ins;
    settings.throttle.lockout = std::chrono::seconds(users.lockout_s);
    settings.throttle.max_lockout = std::max(settings.throttle.lockout, settings.throttle.max_lockout);
    settings.throttle.max_failures_per_address = users.max_failed_sign_ins_per_address;
    return settings;
}

std::vector<identity::ExternalProvider> external_providers(const UserSettings& users) {
    std::vector<identity::ExternalProvider> providers;
    for (const auto& provider : users.oidc_providers) {
        providers.push_back({provider.name, provider.issuer, provider.jwks_url, provider.audience});
    }
    return providers;
}

// The ledger tells the billing rollups of every record it writes and every segment it seals.
class RollupsFeed final : public LedgerObserver {
public:
    explicit RollupsFeed(Rollups& rollups) : rollups_(rollups) {}
    void on_record(const InvocationReport& record, std::string_view segment) override { rollups_.add(record, segment); }
    void on_sealed(std::string_view segment, const Replay& replay) override { rollups_.seal(segment, replay); }

private:
    Rollups& rollups_;
};

// Every observer of the ledger told of each record and each sealed segment, in turn.
class LedgerObservers final : public LedgerObserver {
public:
    explicit LedgerObservers(std::vector<LedgerObserver*> observers) : observers_(std::move(observers)) {
        std::erase(observers_, nullptr);
    }
    void on_record(const InvocationReport& record, std::string_view segment) override {
        for (LedgerObserver* observer : observers_) observer->on_record(record, segment);
    }
    void on_sealed(std::string_view segment, const Replay& replay) override {
        for (LedgerObserver* observer : observers_) observer->on_sealed(segment, replay);
    }

private:
    std::vector<LedgerObserver*> observers_;
};

struct Services {
    Registry& registry;
    Ledger& ledger;
    Pool& pool;
    Scheduler& scheduler;
    Dispatcher& dispatcher;
    ScheduleRunner& schedules;
    Gateway& gateway;
};

// What the group fsync bought, for the operator weighing ledger_fsync_interval_ms
// (bench/run.sh reads this line too).
void log_ledger_durability(const LedgerDurability& durability) {
    if (durability.group_fsyncs == 0) return;
    spdlog::info("ledger: {} group fsyncs, {} ms window; billing records were on disk within p50 {:.1f} ms, "
                 "p99 {:.1f} ms, max {:.1f} ms of their write",
                 durability.group_fsyncs, durability.fsync_interval.count(), durability.p50_ms, durability.p99_ms, durability.max_ms);
}

// Answer what was already asked (up to the grace period), then let nothing else in:
// the ledger is flushed before the workers die and the io threads stop.
asio::awaitable<void> drain_and_stop(std::vector<asio::io_context*> contexts, Services services,
                                     std::chrono::seconds grace) {
    services.gateway.stop_accepting();
    // Queued events stay queued; the runs already started are settled before the end.
    services.schedules.stop();
    services.dispatcher.stop();
    const auto deadline = std::chrono::steady_clock::now() + grace;
    asio::steady_timer timer(co_await asio::this_coro::executor);
    const auto busy = [&] {
        return services.gateway.requests_in_progress() > 0 || services.scheduler.in_flight() > 0 ||
               services.dispatcher.running() > 0;
    };
    while (busy() && std::chrono::steady_clock::now() < deadline) {
        timer.expires_after(std::chrono::milliseconds(20));
        co_await timer.async_wait(asio::use_awaitable);
    }
    if (busy()) {
        spdlog::warn("shutdown grace of {} s passed with {} requests and {} invocations still running",
                     grace.count(), services.gateway.requests_in_progress(), services.scheduler.in_flight());
    }
    services.ledger.flush();
    log_ledger_durability(services.ledger.durability());
    services.pool.shutdown();
    spdlog::info("sofaasd stopped");
    for (asio::io_context* context : contexts) context->stop();
}

// For the test suite only: SOFAAS_TEST_SESSION_CLOCK_OFFSET_S moves the clock by which
// temporary credentials are issued and expire that many seconds ahead, so that a test sees
// a session expire without waiting its 15 minutes. Nothing else reads that clock.
std::chrono::seconds session_clock_offset() {
    const char* text = std::getenv("SOFAAS_TEST_SESSION_CLOCK_OFFSET_S");
    if (!text || !*text) return {};
    char* end = nullptr;
    const long long seconds = std::strtoll(text, &end, 10);
    if (*end != '\0' || seconds < 0 || seconds > 365LL * 24 * 3600) {
        throw std::runtime_error("SOFAAS_TEST_SESSION_CLOCK_OFFSET_S must be 0 to 31536000 seconds");
    }
    spdlog::warn("temporary credentials expire by a clock {} s ahead (SOFAAS_TEST_SESSION_CLOCK_OFFSET_S)", seconds);
    return std::chrono::seconds(seconds);
}

}  // namespace

int run_daemon(const Config& config) {
    // The ledger, the logs, the libraries and the admin token are the daemon's alone:
    // function code runs as other users (common/private_directory.h). The umask covers
    // what is created from now on, and a data directory from before is tightened.
    ::umask(077);
    if (const size_t tightened = make_directory_private(config.data_dir, library_file_name)) {
        spdlog::info("data directory {}: {} entries were readable by other users, now only by this one",
                     config.data_dir.string(), tightened);
    }
    const AdminToken admin_token = resolve_admin_token(config);
    spdlog::info("admin token from {}", admin_token.source);
    const std::optional<std::filesystem::path> dashboard_files = find_dashboard_files(config);
    KeyStore keys(config.data_dir / "keys.json");
    RoleStore roles(config.data_dir / "roles.json");
    SessionStore sessions(config.data_dir / "sessions.json", session_clock_offset());

    // A process a function forks and detaches (setsid, double fork) outlives its worker:
    // as a subreaper the daemon inherits it, and the pool kills it (pool/child_processes.h).
    if (auto error = ChildProcesses::of_this_process().adopt_orphans()) {
        spdlog::warn("cannot adopt orphaned processes ({}): what a function detaches may outlive its worker",
                     *error);
    }

    // One io_context per io thread, not one shared by all: Asio's shared scheduler hands
    // every batch of ready events from the thread in epoll_wait to the others (a futex
    // wake each time), and a request's steps would hop between threads. A connection and
    // the environments it starts stay on one (gateway/server.h, pool/pool.h), and with one
    // thread per context no strand is needed. Measured: two single-threaded daemons served
    // 1.5x the calls of one daemon with two io threads sharing a context (bench/NOTES.md).
    // Each keeps running while idle, until shutdown.
    std::vector<std::unique_ptr<asio::io_context>> loops;
    std::vector<asio::io_context*> contexts;
    std::vector<asio::executor_work_guard<asio::io_context::executor_type>> keep_running;
    const uint32_t io_threads = io_thread_count(config);
    for (uint32_t i = 0; i < io_threads; ++i) {
        loops.push_back(std::make_unique<asio::io_context>(1));
        contexts.push_back(loops.back().get());
        keep_running.push_back(asio::make_work_guard(*loops.back()));
    }
    asio::io_context& io = *contexts.front();
    Registry registry(config.data_dir / "functions");
    spdlog::info("registry: {} functions loaded from {}", registry.load(), (config.data_dir / "functions").string());
    // On a node of a cluster, the registry and the keys are the cluster's: what changed
    // while this node was away is applied before it serves, and every change goes through
    // the database.
    std::unique_ptr<SharedRegistry> shared_registry;
    if (config.store.kind == StoreKind::postgres) {
        shared_registry = std::make_unique<SharedRegistry>(config.store.postgres_url, registry, keys,
                                                           config.data_dir / "cluster");
        registry.use_journal(shared_registry.get());
        keys.use_journal(shared_registry.get());
        spdlog::info("registry: shared with the cluster, at change {}", shared_registry->applied_position());
    }
    // Before the pool and the scheduler, which count in it until their last completion.
    Metrics metrics(config.metrics.enabled);
    LedgerOptions ledger_options;
    ledger_options.fsync_interval = std::chrono::milliseconds(config.ledger_fsync_interval_ms);
    ledger_options.reserve_bytes = uint64_t{config.ledger_reserve_mb} << 20;
    if (!config.ledger_archive_dir.empty()) ledger_options.archive_dir = config.ledger_archive_dir;
    ledger_options.archive_after = std::chrono::hours(24) * config.ledger_archive_after_days;
    // Before the ledger, which replays its open segments into them as it starts.
    Rollups rollups(config.data_dir / "billing" / "rollups.db");
    RollupsFeed rollups_feed(rollups);
    // On a node of a cluster, its records also go to the shared database, where the whole
    // cluster's bill is read.
    std::unique_ptr<BillingShipper> shipper;
    std::unique_ptr<ClusterBilling> cluster_billing;
    if (config.store.kind == StoreKind::postgres) {
        shipper = std::make_unique<BillingShipper>(config.store.postgres_url, lease_owner_of(config),
                                                   config.data_dir / "billing");
        cluster_billing = std::make_unique<ClusterBilling>(config.store.postgres_url);
        spdlog::info("billing: records shipped to the cluster's database as node {}", lease_owner_of(config));
    }
    LedgerObservers ledger_observers({&rollups_feed, shipper.get()});
    ledger_options.observer = &ledger_observers;
    Ledger ledger(config.data_dir / "billing", ledger_options);
    FunctionLogStore logs(config.data_dir / "logs", ledger, config.logs, config.limits);
    // Before the pool and the scheduler: their last completions settle queued events in it.
    const std::unique_ptr<EventStore> events = open_event_store(config);
    Pool pool(contexts, pool_options(config));
    Scheduler scheduler(pool, ledger, logs, metrics, config);
    Dispatcher dispatcher(*events, registry, scheduler, metrics, config);
    ScheduleRunner schedules(*events, dispatcher, config);
    identity::UserPools user_pools(config.data_dir / "users.db", user_pool_settings(config.users));
    identity::ExternalProviders identity_providers(external_providers(config.users));
    const identity::TokenVerifier identity_tokens(user_pools, identity_providers, config.users.issuer_url);
    SiteStore sites(config.data_dir / "sites", config.sites.cache_mb << 20);
    spdlog::info("sites: {} served from {}", sites.load(), (config.data_dir / "sites").string());
    Gateway gateway(contexts, GatewayServices{config, admin_token.value, keys, roles, sessions, registry, scheduler, pool,
                                              ledger, logs, *events, dispatcher, schedules, metrics, user_pools,
                                              identity_tokens, sites, dashboard_files, &rollups,
                                              cluster_billing.get(), shipper.get()});

    // After a restart, functions with min_warm get their environments back, and the events
    // queued before it (runs a killed daemon left unsettled included) run.
    for (const FunctionVersionPtr& version : registry.list_latest()) scheduler.activate(version, 0);
    if (shared_registry) {
        // A change another node made reaches this node's pool and routes as a local one
        // does (deploy.cpp, control_api.cpp); the io thread serialises them with requests.
        shared_registry->start([&](const AppliedRegistryChange& change) {
            asio::post(io, [&scheduler, &logs, &gateway, change] {
                if (change.kind == AppliedRegistryChange::Kind::version) {
                    scheduler.activate(change.version, change.replaced);
                } else if (change.kind == AppliedRegistryChange::Kind::function_removed) {
                    scheduler.remove(change.function);
                    logs.remove(change.function);
                } else {
                    return;
                }
                gateway.refresh_routes();
            });
        });
    }
    dispatcher.start();
    schedules.start();

    const std::string bound = gateway.start();
    spdlog::info("sofaasd listening on {} ({} io thread{}{})", bound, io_threads, io_threads == 1 ? "" : "s",
                 config.io_threads ? "" : ", auto: half the cores");
    if (!gateway.metrics_address().empty()) {
        spdlog::info("sofaasd serves /metrics without credentials on {} (metrics_listen)", gateway.metrics_address());
    }

    asio::signal_set signals(io, SIGINT, SIGTERM);
    signals.async_wait([&](const boost::system::error_code& ec, int signal) {
        if (ec) return;
        spdlog::info("received {}, draining", signal == SIGTERM ? "SIGTERM" : "SIGINT");
        if (shared_registry) shared_registry->stop_following();
        asio::co_spawn(io,
                       drain_and_stop(contexts, Services{registry, ledger, pool, scheduler, dispatcher, schedules, gateway},
                                      std::chrono::seconds(config.shutdown_grace_s)),
                       asio::detached);
    });

    std::vector<std::thread> threads;
    for (size_t i = 1; i < contexts.size(); ++i) threads.emplace_back([context = contexts[i]] { context->run(); });
    io.run();
    for (std::thread& thread : threads) thread.join();
    if (shared_registry) shared_registry->stop();
    return 0;
}

}  // namespace sofaas
