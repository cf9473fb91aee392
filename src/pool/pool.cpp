#include "pool/pool.h"

#include <map>
#include <tuple>
#include <mutex>
#include <unordered_map>
#include <utility>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <spdlog/spdlog.h>

#include "pool/execution_environment.h"

namespace sofaas {

namespace asio = boost::asio;

namespace {

using Clock = std::chrono::steady_clock;
using EnvironmentPtr = ExecutionEnvironment::Ptr;
using VersionKey = std::pair<std::string, uint32_t>;
using Event = std::shared_ptr<const std::string>;
using ExecutionCallback = std::function<void(Execution)>;

constexpr auto reaping_period = std::chrono::seconds(1);

VersionKey key_of(const FunctionVersion& version) {
    return {version.spec.name, version.spec.version};
}

struct IdleEnvironment {
    EnvironmentPtr environment;
    Clock::time_point since;
};

// The environments of one function version.
struct VersionPool {
    std::vector<IdleEnvironment> idle;  // back = most recently used, the warmest
    size_t busy = 0;                    // invocations between execute() and their answer
    size_t warming = 0;                 // spawned for min_warm, Ready not yet received
    uint32_t min_warm = 0;
    FunctionVersionPtr warm_version;    // what keep_warm spawns
    uint64_t generation = 0;            // bumped by retire: older environments die when done
    bool warming_failed = false;        // a min_warm spawn failed: no retry until keep_warm
};

Execution failed_execution(InvocationStatus status, std::string error_type, std::string error_message) {
    Execution execution;
    execution.status = status;
    execution.error_type = std::move(error_type);
    execution.error_message = std::move(error_message);
    return execution;
}

Execution failed_start(Startup startup) {
    Execution execution = failed_execution(startup.failure, std::move(startup.error_type),
                                           std::move(startup.error_message));
    execution.captured_stdout = std::move(startup.captured_stdout);
    execution.captured_stderr = std::move(startup.captured_stderr);
    return execution;
}

}  // namespace

struct Pool::State : std::enable_shared_from_this<Pool::State> {
    State(asio::io_context& io_context, PoolOptions pool_options)
        : io(io_context), options(std::move(pool_options)), reaper(io_context) {}

    asio::io_context& io;
    const PoolOptions options;

    mutable std::mutex mutex;  // guards everything below; never held while calling out
    asio::steady_timer reaper;
    std::map<VersionKey, VersionPool> versions;
    std::unordered_map<const ExecutionEnvironment*, EnvironmentPtr> live;  // not yet reaped
    bool shut_down = false;

    std::variant<EnvironmentPtr, std::string> spawn(const FunctionVersionPtr& version) {
        const ExecutionEnvironment::Settings settings{options.init_timeout, options.max_log_bytes};
        auto spawned = ExecutionEnvironment::spawn(
            io, options.worker_binary, settings, version,
            [weak = weak_from_this()](const ExecutionEnvironment& environment) {
                if (auto self = weak.lock()) {
                    self->forget(environment);
                }
            });
        if (auto* environment = std::get_if<EnvironmentPtr>(&spawned)) {
            std::unique_lock lock(mutex);
            if (shut_down) {
                lock.unlock();
                (*environment)->kill_and_wait();
                return std::string("the pool is shut down");
            }
            live.emplace(environment->get(), *environment);
        }
        return spawned;
    }

    // The process is gone: drop every reference the pool holds to it.
    void forget(const ExecutionEnvironment& environment) {
        std::lock_guard lock(mutex);
        live.erase(&environment);
        auto found = versions.find(key_of(*environment.version()));
        if (found != versions.end()) {
            std::erase_if(found->second.idle,
                          [&](const IdleEnvironment& idle) { return idle.environment.get() == &environment; });
        }
    }

    void answer_later(ExecutionCallback done, Execution execution) {
        asio::post(io, [done = std::move(done), execution = std::move(execution)]() mutable {
            done(std::move(execution));
        });
    }

    void execute(FunctionVersionPtr version, std::string request_id, Event event, ExecutionCallback done) {
        const VersionKey key = key_of(*version);
        EnvironmentPtr environment;
        uint64_t generation = 0;
        {
            std::unique_lock lock(mutex);
            if (shut_down) {
                lock.unlock();
                answer_later(std::move(done), failed_execution(InvocationStatus::crash, "Runtime.Unavailable",
                                                               "the daemon is shutting down"));
                return;
            }
            VersionPool& pool = versions[key];
            generation = pool.generation;
            while (!environment && !pool.idle.empty()) {
                environment = std::move(pool.idle.back().environment);
                pool.idle.pop_back();
                if (!environment->reusable()) {
                    environment.reset();  // died while idle; its exit is being handled
                }
            }
            ++pool.busy;
        }
        if (environment) {
            invoke(std::move(environment), key, generation, std::move(request_id), std::move(event),
                   std::nullopt, std::move(done));
            return;
        }
        asio::post(io, [self = shared_from_this(), version = std::move(version), key, generation,
                        request_id = std::move(request_id), event = std::move(event),
                        done = std::move(done)]() mutable {
            self->cold_start(std::move(version), key, generation, std::move(request_id), std::move(event),
                             std::move(done));
        });
    }

    // Workers are spawned on io threads only (see the posts): the worker's
    // PR_SET_PDEATHSIG fires when the *thread* that spawned it exits, and io threads live
    // as long as the daemon, so a worker dies with the daemon and not before.
    void cold_start(FunctionVersionPtr version, VersionKey key, uint64_t generation, std::string request_id,
                    Event event, ExecutionCallback done) {
        auto spawned = spawn(version);
        if (auto* error = std::get_if<std::string>(&spawned)) {
            spdlog::error("[{}] cannot start a worker for {}:{}: {}", request_id, key.first, key.second, *error);
            finish(nullptr, key, generation);
            done(failed_execution(InvocationStatus::crash, "Runtime.Unavailable", "Runtime failed to start: " + *error));
            return;
        }
        EnvironmentPtr environment = std::get<EnvironmentPtr>(std::move(spawned));
        // Weak captures: the environment holds this callback until Ready, and is itself
        // alive whenever it calls back.
        environment->start([self = shared_from_this(), weak = std::weak_ptr(environment), key, generation,
                            request_id = std::move(request_id), event = std::move(event),
                            done = std::move(done)](Startup startup) mutable {
            EnvironmentPtr environment = weak.lock();
            if (!startup.ok || !environment) {
                self->finish(environment, key, generation);
                done(failed_start(std::move(startup)));
                return;
            }
            self->invoke(std::move(environment), key, generation, std::move(request_id), std::move(event),
                         startup.init_ms, std::move(done));
        });
    }

    void invoke(EnvironmentPtr environment, VersionKey key, uint64_t generation, std::string request_id,
                Event event, std::optional<double> init_ms, ExecutionCallback done) {
        auto on_executed = [self = shared_from_this(), weak = std::weak_ptr(environment),
                            version = environment->version(), key, generation, request_id, event, init_ms,
                            done = std::move(done)](std::optional<Execution> execution) mutable {
            EnvironmentPtr environment = weak.lock();
            if (!execution) {
                // The environment died between the idle list and the event: nothing ran.
                self->cold_start(version, key, generation, std::move(request_id), std::move(event),
                                 std::move(done));
                return;
            }
            execution->init_ms = init_ms;
            self->finish(environment, key, generation);
            done(std::move(*execution));
        };
        environment->invoke(request_id, std::move(event), std::move(on_executed));
    }

    // An invocation is over: its environment goes back to the idle list or dies.
    void finish(const EnvironmentPtr& environment, const VersionKey& key, uint64_t generation) {
        bool keep = false;
        {
            std::lock_guard lock(mutex);
            auto found = versions.find(key);
            if (found != versions.end()) {
                VersionPool& pool = found->second;
                --pool.busy;
                keep = environment && environment->reusable() && generation == pool.generation && !shut_down;
                if (keep) {
                    pool.idle.push_back({environment, Clock::now()});
                }
            }
        }
        if (environment && !keep) {
            environment->kill();
        }
    }

    // How many environments a version needs to reach min_warm; counts them as warming.
    static size_t claim_warm_deficit(VersionPool& pool) {
        const size_t ready_or_coming = pool.idle.size() + pool.warming;
        const size_t deficit = pool.min_warm > ready_or_coming ? pool.min_warm - ready_or_coming : 0;
        pool.warming += deficit;
        return deficit;
    }

    void keep_warm(const FunctionVersionPtr& version) {
        const VersionKey key = key_of(*version);
        size_t deficit = 0;
        uint64_t generation = 0;
        {
            std::lock_guard lock(mutex);
            if (shut_down) {
                return;
            }
            VersionPool& pool = versions[key];
            pool.min_warm = version->spec.min_warm;
            pool.warm_version = version;
            pool.warming_failed = false;
            generation = pool.generation;
            deficit = claim_warm_deficit(pool);
        }
        for (size_t i = 0; i < deficit; ++i) {
            asio::post(io, [self = shared_from_this(), version, key, generation] {
                self->spawn_warm(version, key, generation);
            });
        }
    }

    void spawn_warm(const FunctionVersionPtr& version, const VersionKey& key, uint64_t generation) {
        auto spawned = spawn(version);
        if (auto* error = std::get_if<std::string>(&spawned)) {
            spdlog::warn("cannot keep {}:{} warm: {}", key.first, key.second, *error);
            warm_done(nullptr, key, generation, false);
            return;
        }
        EnvironmentPtr environment = std::get<EnvironmentPtr>(std::move(spawned));
        environment->start([self = shared_from_this(), weak = std::weak_ptr(environment), key,
                            generation](Startup startup) {
            if (!startup.ok) {
                spdlog::warn("cannot keep {}:{} warm: {}: {}", key.first, key.second, startup.error_type,
                             startup.error_message);
            }
            self->warm_done(weak.lock(), key, generation, startup.ok);
        });
    }

    void warm_done(const EnvironmentPtr& environment, const VersionKey& key, uint64_t generation, bool ready) {
        bool keep = false;
        {
            std::lock_guard lock(mutex);
            auto found = versions.find(key);
            if (found != versions.end()) {
                VersionPool& pool = found->second;
                --pool.warming;
                pool.warming_failed = pool.warming_failed || !ready;
                keep = ready && environment && generation == pool.generation && !shut_down;
                if (keep) {
                    pool.idle.push_back({environment, Clock::now()});
                }
            }
        }
        if (environment && !keep) {
            environment->kill();
        }
    }

    void retire(const std::function<bool(const VersionKey&)>& matches) {
        std::vector<IdleEnvironment> retired;
        {
            std::lock_guard lock(mutex);
            for (auto& [key, pool] : versions) {
                if (matches(key)) {
                    ++pool.generation;
                    pool.min_warm = 0;
                    std::move(pool.idle.begin(), pool.idle.end(), std::back_inserter(retired));
                    pool.idle.clear();
                }
            }
        }
        for (IdleEnvironment& idle : retired) {
            idle.environment->kill();
        }
    }

    void schedule_reaping() {
        // Caller holds the mutex: the timer is shared with shutdown().
        reaper.expires_after(reaping_period);
        reaper.async_wait([weak = weak_from_this()](boost::system::error_code ec) {
            auto self = weak.lock();
            if (!ec && self) {
                self->reap_idle();
            }
        });
    }

    // Kills environments idle longer than idle_timeout (coldest first, keeping min_warm)
    // and tops versions back up to min_warm after workers died.
    void reap_idle() {
        std::vector<EnvironmentPtr> expired;
        std::vector<std::tuple<FunctionVersionPtr, VersionKey, uint64_t>> to_warm;
        {
            std::lock_guard lock(mutex);
            if (shut_down) {
                return;
            }
            const auto now = Clock::now();
            for (auto it = versions.begin(); it != versions.end();) {
                VersionPool& pool = it->second;
                while (pool.idle.size() > pool.min_warm && now - pool.idle.front().since > options.idle_timeout) {
                    expired.push_back(std::move(pool.idle.front().environment));
                    pool.idle.erase(pool.idle.begin());
                }
                if (pool.min_warm > 0 && !pool.warming_failed) {
                    const size_t deficit = claim_warm_deficit(pool);
                    for (size_t i = 0; i < deficit; ++i) {
                        to_warm.emplace_back(pool.warm_version, it->first, pool.generation);
                    }
                }
                const bool unused = pool.idle.empty() && pool.busy == 0 && pool.warming == 0 && pool.min_warm == 0;
                it = unused ? versions.erase(it) : std::next(it);
            }
            schedule_reaping();
        }
        for (EnvironmentPtr& environment : expired) {
            environment->kill();
        }
        for (const auto& [version, key, generation] : to_warm) {
            spawn_warm(version, key, generation);
        }
    }
};

Pool::Pool(asio::io_context& io, PoolOptions options)
    : state_(std::make_shared<State>(io, std::move(options))) {
    std::lock_guard lock(state_->mutex);
    state_->schedule_reaping();
}

Pool::~Pool() {
    shutdown();
}

void Pool::execute(FunctionVersionPtr version, std::string request_id, std::string payload,
                   std::function<void(Execution)> done) {
    state_->execute(std::move(version), std::move(request_id),
                    std::make_shared<const std::string>(std::move(payload)), std::move(done));
}

void Pool::trial_load(FunctionVersionPtr version, std::function<void(std::optional<std::string>)> done) {
    asio::post(state_->io, [state = state_, version = std::move(version), done = std::move(done)]() mutable {
        auto spawned = state->spawn(version);
        if (auto* error = std::get_if<std::string>(&spawned)) {
            done("Runtime.Unavailable: " + *error);
            return;
        }
        EnvironmentPtr environment = std::get<EnvironmentPtr>(std::move(spawned));
        environment->start([weak = std::weak_ptr(environment), done = std::move(done)](Startup startup) {
            if (auto environment = weak.lock()) {
                environment->kill();
            }
            if (startup.ok) {
                done(std::nullopt);
            } else {
                done(startup.error_type + ": " + startup.error_message);
            }
        });
    });
}

void Pool::keep_warm(FunctionVersionPtr version) {
    state_->keep_warm(version);
}

void Pool::retire(const std::string& function, uint32_t version) {
    state_->retire([&](const VersionKey& key) { return key.first == function && key.second == version; });
}

void Pool::retire_all(const std::string& function) {
    state_->retire([&](const VersionKey& key) { return key.first == function; });
}

PoolStats Pool::stats(const std::string& function, uint32_t version) const {
    std::lock_guard lock(state_->mutex);
    auto found = state_->versions.find({function, version});
    if (found == state_->versions.end()) {
        return {};
    }
    return {found->second.idle.size(), found->second.busy};
}

size_t Pool::worker_count() const {
    std::lock_guard lock(state_->mutex);
    return state_->live.size();
}

asio::io_context& Pool::io_context() const {
    return state_->io;
}

void Pool::shutdown() {
    std::vector<EnvironmentPtr> environments;
    {
        std::lock_guard lock(state_->mutex);
        state_->shut_down = true;
        state_->reaper.cancel();
        for (auto& [environment, owner] : state_->live) {
            environments.push_back(owner);
        }
        for (auto& [key, pool] : state_->versions) {
            pool.idle.clear();
        }
    }
    // In-flight invocations are answered (as crashes) when their io threads see the death.
    for (EnvironmentPtr& environment : environments) {
        environment->kill_and_wait();
    }
}

}  // namespace sofaas
