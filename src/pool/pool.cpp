#include "pool/pool.h"

#include <chrono>
#include <thread>
#include <utility>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include "pool/child_processes.h"
#include "pool/pool_state.h"

namespace sofaas {

namespace asio = boost::asio;

Pool::State::Spawned Pool::State::spawn(const FunctionVersionPtr& version, asio::io_context& context) {
    {
        std::lock_guard lock(mutex);
        if (shut_down) return std::string("the pool is shut down");
    }
    const ExecutionEnvironment::Settings settings{options.init_timeout, options.max_log_bytes};
    auto spawned = ExecutionEnvironment::spawn(
        context, launcher, settings, version,
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

void Pool::State::spawn_then(FunctionVersionPtr version, asio::io_context& context,
                             std::function<void(Spawned)> then) {
    asio::post(spawner, [self = shared_from_this(), &context, version = std::move(version),
                         then = std::move(then)]() mutable {
        Spawned spawned = self->spawn(version, context);
        asio::post(context, [spawned = std::move(spawned), then = std::move(then)]() mutable {
            then(std::move(spawned));
        });
        // Off the cold start's path, now that its environment is on its way.
        self->launcher.prepare();
    });
}

asio::io_context& Pool::State::calling_context() {
    for (asio::io_context* context : contexts) {
        if (context->get_executor().running_in_this_thread()) return *context;
    }
    return context_in_turn();
}

asio::io_context& Pool::State::context_in_turn() {
    return *contexts[next_context.fetch_add(1, std::memory_order_relaxed) % contexts.size()];
}

void Pool::State::started_one() {
    asio::post(spawner, [weak = weak_from_this()] {
        if (auto self = weak.lock()) self->launcher.make_spare_cgroups();
    });
}

void Pool::State::forget(const ExecutionEnvironment& environment) {
    {
        std::lock_guard lock(mutex);
        live.erase(&environment);
        auto found = versions.find(key_of(*environment.version()));
        if (found != versions.end()) {
            // Reaping and retiring take an environment off the idle list before killing it:
            // one still on it died by itself.
            const size_t died_idle = std::erase_if(
                found->second.idle, [&](const IdleEnvironment& idle) { return idle.environment.get() == &environment; });
            if (died_idle > 0 && found->second.min_warm > 0) {
                found->second.note_warm_failure("an environment exited while idle");
            }
        }
    }
    kill_escapees();
    if (const auto uid = environment.own_uid()) launcher.release_uid(*uid);
}

// The processes a dead worker's function left outside its process group (setsid) are the
// daemon's children now (it is a child subreaper): they go as soon as the worker has.
size_t Pool::State::kill_escapees() {
    const size_t strangers = ChildProcesses::of_this_process().kill_strangers();
    if (strangers > 0 && options.cgroups) {
        // A stranger may be in a frozen environment's cgroup, where (cgroup v1) its SIGKILL
        // waits for a thaw.
        std::vector<EnvironmentPtr> environments;
        {
            std::lock_guard lock(mutex);
            for (const auto& [environment, owner] : live) environments.push_back(owner);
        }
        for (const EnvironmentPtr& environment : environments) environment->let_signals_land();
    }
    return strangers;
}

void Pool::State::shutdown() {
    std::vector<EnvironmentPtr> environments;
    {
        std::lock_guard lock(mutex);
        shut_down = true;
        reaper.cancel();
        for (auto& [environment, owner] : live) {
            environments.push_back(owner);
        }
        for (auto& [key, pool] : versions) {
            pool.idle.clear();
        }
    }
    // In-flight invocations are answered (as crashes) when their io threads see the death.
    for (EnvironmentPtr& environment : environments) {
        environment->kill_and_wait();
    }
    // Spawns still queued see shut_down and start nothing; one under way kills its worker.
    spawner.join();
    launcher.shutdown();
    // SIGKILL takes a moment to land: wait, briefly, for the escapees to be reaped too.
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(2);
    while (kill_escapees() > 0 && std::chrono::steady_clock::now() < give_up) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
}

Pool::Pool(asio::io_context& io, PoolOptions options) : Pool(std::vector<asio::io_context*>{&io}, std::move(options)) {}

Pool::Pool(std::vector<asio::io_context*> contexts, PoolOptions options)
    : state_(std::make_shared<State>(std::move(contexts), std::move(options))) {
    std::lock_guard lock(state_->mutex);
    state_->schedule_reaping();
}

Pool::~Pool() {
    shutdown();
}

void Pool::execute(FunctionVersionPtr version, std::string request_id, std::string payload, Principal caller,
                   std::function<void(InvocationReport)> done) {
    state_->execute(std::move(version), std::move(request_id),
                    std::make_shared<const EventToRun>(EventToRun{std::move(payload), std::move(caller)}),
                    std::move(done));
}

void Pool::trial_load(FunctionVersionPtr version, std::function<void(std::optional<TrialLoadFailure>)> done) {
    asio::io_context& context = state_->calling_context();
    state_->spawn_then(version, context, [self = state_, version, done = std::move(done)](State::Spawned spawned) mutable {
        if (auto* error = std::get_if<std::string>(&spawned)) {
            done(TrialLoadFailure{std::string(host_fault_error_type), "The host could not start a worker: " + *error,
                                  true});
            return;
        }
        EnvironmentPtr environment = std::get<EnvironmentPtr>(std::move(spawned));
        environment->start([self, version, weak = std::weak_ptr(environment), done = std::move(done)](Startup startup) {
            self->started_one();
            self->report_unpaid_init(version, Trigger::deploy, startup);
            if (auto environment = weak.lock()) {
                environment->kill();
            }
            if (startup.ok) {
                done(std::nullopt);
            } else if (startup.host_fault) {
                done(TrialLoadFailure{std::string(host_fault_error_type),
                                      "The host could not start the function's sandbox: " + startup.error_message,
                                      true});
            } else {
                done(TrialLoadFailure{std::move(startup.error_type), std::move(startup.error_message)});
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
    const VersionPool& pool = found->second;
    return {pool.idle.size(), pool.busy, pool.warm_failures, pool.warm_failure};
}

std::vector<FunctionEnvironments> Pool::environments() const {
    std::vector<FunctionEnvironments> functions;
    std::lock_guard lock(state_->mutex);
    for (const auto& [key, pool] : state_->versions) {  // ordered by function, then version
        if (pool.idle.empty() && pool.busy == 0 && pool.warming == 0) continue;
        if (functions.empty() || functions.back().function != key.first) functions.push_back({key.first});
        functions.back().idle += pool.idle.size();
        functions.back().busy += pool.busy;
        functions.back().starting += pool.warming;
    }
    return functions;
}

void Pool::on_unpaid_init(std::function<void(InvocationReport)> observer) {
    state_->init_observer = std::move(observer);
}

size_t Pool::worker_count() const {
    std::lock_guard lock(state_->mutex);
    return state_->live.size();
}

asio::io_context& Pool::io_context() const {
    return state_->io;
}

void Pool::shutdown() {
    state_->shutdown();
}

}  // namespace sofaas
