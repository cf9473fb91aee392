// The pool's shared state (internal to src/pool): the environments of each function
// version, guarded by one mutex that is never held while calling out.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <utility>
#include <variant>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>

#include "pool/execution_environment.h"
#include "pool/pool.h"
#include "pool/worker_launcher.h"

namespace sofaas {

using EnvironmentPtr = ExecutionEnvironment::Ptr;
using VersionKey = std::pair<std::string, uint32_t>;
using Event = std::shared_ptr<const EventToRun>;

inline VersionKey key_of(const FunctionVersion& version) {
    return {version.spec.name, version.spec.version};
}

struct IdleEnvironment {
    EnvironmentPtr environment;
    std::chrono::steady_clock::time_point since;
};

// The environments of one function version.
struct VersionPool {
    std::vector<IdleEnvironment> idle;  // back = most recently used, the warmest
    size_t busy = 0;                    // invocations between execute() and their answer
    size_t warming = 0;                 // spawned for min_warm, Ready not yet received
    uint32_t min_warm = 0;
    FunctionVersionPtr warm_version;    // what keep_warm spawns
    uint64_t generation = 0;            // bumped by retire: older environments die when done
    // Backoff of min_warm refills: environments that failed to start or died while idle,
    // in a row (reset by a served invocation or a new keep_warm), and when to try again.
    uint32_t warm_failures = 0;
    std::chrono::steady_clock::time_point warm_retry_at{};
    std::string warm_failure;

    void note_warm_failure(std::string why);
};

struct Pool::State : std::enable_shared_from_this<Pool::State> {
    using ReportCallback = std::function<void(InvocationReport)>;
    using Spawned = std::variant<EnvironmentPtr, std::string>;  // the environment, or why not

    State(std::vector<boost::asio::io_context*> io_contexts, PoolOptions pool_options)
        : contexts(non_empty(std::move(io_contexts))),
          io(*contexts.front()),
          options(std::move(pool_options)),
          launcher(options.worker_binary, options.worker_user, options.zygote, options.worker_uids,
                   options.own_namespaces, options.cgroups),
          reaper(io) {}

    static std::vector<boost::asio::io_context*> non_empty(std::vector<boost::asio::io_context*> contexts) {
        if (contexts.empty()) throw std::invalid_argument("a pool needs at least one io_context");
        return contexts;
    }

    const std::vector<boost::asio::io_context*> contexts;  // never empty
    boost::asio::io_context& io;  // the first: the reaper's
    std::atomic<size_t> next_context = 0;
    const PoolOptions options;
    WorkerLauncher launcher;
    // Starting a worker blocks (a round trip to the zygote, which waits for a CPU like
    // everyone else, or starting a zygote for it): it happens here, never on an io thread,
    // so a burst of cold starts or min_warm refills cannot hold up answers and deadlines.
    // Two threads: two cold starts at a time, as with two io threads before. They live as
    // long as the pool, and the workers' PR_SET_PDEATHSIG fires when the thread that
    // spawned their zygote exits.
    boost::asio::thread_pool spawner{2};

    mutable std::mutex mutex;  // guards everything below; never held while calling out
    boost::asio::steady_timer reaper;
    std::map<VersionKey, VersionPool> versions;
    std::unordered_map<const ExecutionEnvironment*, EnvironmentPtr> live;  // not yet reaped
    bool shut_down = false;

    // pool.cpp: the set of live environments. spawn() blocks; spawn_then() runs it on the
    // spawner and `then` on the new environment's io_context.
    Spawned spawn(const FunctionVersionPtr& version, boost::asio::io_context& context);
    void spawn_then(FunctionVersionPtr version, boost::asio::io_context& context, std::function<void(Spawned)> then);
    // A worker has answered its cold start (or failed it): what the next cold start needs
    // is prepared on a spawner thread now, not while this one's worker was starting.
    void started_one();
    // The io_context of the calling io thread; from any other thread, the next in turn.
    boost::asio::io_context& calling_context();
    boost::asio::io_context& context_in_turn();
    // The process is gone: drop every reference the pool holds to it, and kill its escapees.
    void forget(const ExecutionEnvironment& environment);
    // Kills (and reaps) the daemon's children that are no worker (child_processes.h);
    // returns how many were seen.
    size_t kill_escapees();
    void shutdown();

    // pool_execution.cpp: one event, in a warm environment or after a cold start.
    void execute(FunctionVersionPtr version, std::string request_id, Event event, ReportCallback done);
    void cold_start(FunctionVersionPtr version, VersionKey key, uint64_t generation, std::string request_id,
                    Event event, ReportCallback done);
    void start_and_invoke(EnvironmentPtr environment, VersionKey key, uint64_t generation, std::string request_id,
                          Event event, ReportCallback done);
    void invoke(EnvironmentPtr environment, VersionKey key, uint64_t generation, std::string request_id,
                Event event, std::optional<double> init_ms, ReportCallback done);
    // An invocation is over: its environment goes back to the idle list or dies.
    void finish(const EnvironmentPtr& environment, const VersionKey& key, uint64_t generation);
    void answer_later(ReportCallback done, InvocationReport report);

    // warm_environments.cpp: min_warm, idle reaping, retirement.
    void keep_warm(const FunctionVersionPtr& version);
    // `trigger`: warm or deploy (a trial load).
    void report_unpaid_init(const FunctionVersionPtr& version, Trigger trigger, const Startup& startup);
    std::function<void(InvocationReport)> init_observer;
    void spawn_warm(const FunctionVersionPtr& version, const VersionKey& key, uint64_t generation);
    // `failure`: why the environment is not ready (nullopt: it is).
    void warm_done(const EnvironmentPtr& environment, const VersionKey& key, uint64_t generation,
                   std::optional<std::string> failure);
    void retire(const std::function<bool(const VersionKey&)>& matches);
    void schedule_reaping();  // mutex held: the timer is shared with shutdown()
    // Kills environments idle longer than idle_timeout (coldest first, keeping min_warm)
    // and tops versions back up to min_warm after workers died.
    void reap_idle();
    // How many environments a version needs to reach min_warm; counts them as warming.
    static size_t claim_warm_deficit(VersionPool& pool);
};

}  // namespace sofaas
