#include <chrono>
#include <tuple>
#include <utility>
#include <vector>

#include <spdlog/spdlog.h>

#include "common/request_id.h"
#include "pool/pool_state.h"

namespace sofaas {

namespace {
// Also how often idle environments are watched (ExecutionEnvironment::watch_idle).
constexpr auto reaping_period = ExecutionEnvironment::idle_watch_interval;
constexpr auto first_warm_retry = std::chrono::seconds(1);
constexpr auto longest_warm_retry = std::chrono::minutes(5);

InvocationStatus status_of(const Startup& startup) {
    return startup.ok ? InvocationStatus::ok : startup.failure;
}
}  // namespace

// A function whose environments keep failing must not get a free init every second:
// each failure in a row doubles the wait before the next refill.
void VersionPool::note_warm_failure(std::string why) {
    ++warm_failures;
    auto wait = std::chrono::duration_cast<std::chrono::steady_clock::duration>(first_warm_retry);
    for (uint32_t i = 1; i < warm_failures && wait < longest_warm_retry; ++i) wait *= 2;
    warm_retry_at = std::chrono::steady_clock::now() + std::min<std::chrono::steady_clock::duration>(wait, longest_warm_retry);
    warm_failure = std::move(why);
}

void Pool::State::report_unpaid_init(const FunctionVersionPtr& version, Trigger trigger, const Startup& startup) {
    if (startup.host_fault || !init_observer) return;  // the host's failure is not billed
    const FunctionSpec& spec = version->spec;
    InvocationReport report;
    report.request_id = new_request_id();
    report.function = spec.name;
    report.version = spec.version;
    report.trigger = trigger;
    report.start = wall_now() - std::chrono::duration_cast<WallTime::duration>(
                                    std::chrono::duration<double, std::milli>(startup.init_ms));
    report.status = status_of(startup);
    report.error_type = startup.error_type;
    report.error_message = startup.error_message;
    report.failed_in_init = !startup.ok;
    report.init_ms = startup.init_ms;
    report.memory_mb = spec.memory_mb;
    report.captured_stdout = startup.captured_stdout;
    report.captured_stderr = startup.captured_stderr;
    init_observer(std::move(report));
}

size_t Pool::State::claim_warm_deficit(VersionPool& pool) {
    // Busy environments count: min_warm is how many exist, as provisioned concurrency, not
    // how many spares stand by beside those serving traffic.
    const size_t ready_or_coming = pool.idle.size() + pool.warming + pool.busy;
    const size_t deficit = pool.min_warm > ready_or_coming ? pool.min_warm - ready_or_coming : 0;
    pool.warming += deficit;
    return deficit;
}

void Pool::State::keep_warm(const FunctionVersionPtr& version) {
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
        pool.warm_failures = 0;
        pool.warm_retry_at = {};
        generation = pool.generation;
        deficit = claim_warm_deficit(pool);
    }
    for (size_t i = 0; i < deficit; ++i) {
        spawn_warm(version, key, generation);
    }
}

void Pool::State::spawn_warm(const FunctionVersionPtr& version, const VersionKey& key, uint64_t generation) {
    spawn_then(version, context_in_turn(), [self = shared_from_this(), version, key, generation](Spawned spawned) {
        if (auto* error = std::get_if<std::string>(&spawned)) {
            spdlog::warn("cannot keep {}:{} warm: {}", key.first, key.second, *error);
            self->warm_done(nullptr, key, generation, "the host could not start a worker: " + *error);
            return;
        }
        EnvironmentPtr environment = std::get<EnvironmentPtr>(std::move(spawned));
        environment->start([self, version, weak = std::weak_ptr(environment), key, generation](Startup startup) {
            self->started_one();
            self->report_unpaid_init(version, Trigger::warm, startup);
            std::optional<std::string> failure;
            if (!startup.ok) {
                failure = startup.error_type + ": " + startup.error_message;
                spdlog::warn("cannot keep {}:{} warm: {}", key.first, key.second, *failure);
            }
            self->warm_done(weak.lock(), key, generation, std::move(failure));
        });
    });
}

void Pool::State::warm_done(const EnvironmentPtr& environment, const VersionKey& key, uint64_t generation,
                            std::optional<std::string> failure) {
    const bool ready = !failure;
    bool keep = false;
    {
        std::lock_guard lock(mutex);
        auto found = versions.find(key);
        if (found != versions.end()) {
            VersionPool& pool = found->second;
            --pool.warming;
            if (failure) pool.note_warm_failure(std::move(*failure));
            keep = ready && environment && generation == pool.generation && !shut_down;
            if (keep) {
                pool.idle.push_back({environment, std::chrono::steady_clock::now()});
            }
        }
    }
    if (environment && !keep) {
        environment->kill();
    }
}

void Pool::State::retire(const std::function<bool(const VersionKey&)>& matches) {
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

void Pool::State::schedule_reaping() {
    reaper.expires_after(reaping_period);
    reaper.async_wait([weak = weak_from_this()](boost::system::error_code ec) {
        auto self = weak.lock();
        if (!ec && self) {
            self->reap_idle();
            // Also catches what escaped a worker that is still alive (a double fork).
            self->kill_escapees();
        }
    });
}

void Pool::State::reap_idle() {
    std::vector<EnvironmentPtr> expired;
    std::vector<EnvironmentPtr> watched;
    std::vector<std::tuple<FunctionVersionPtr, VersionKey, uint64_t>> to_warm;
    {
        std::lock_guard lock(mutex);
        if (shut_down) {
            return;
        }
        const auto now = std::chrono::steady_clock::now();
        for (auto it = versions.begin(); it != versions.end();) {
            VersionPool& pool = it->second;
            while (pool.idle.size() > pool.min_warm && now - pool.idle.front().since > options.idle_timeout) {
                expired.push_back(std::move(pool.idle.front().environment));
                pool.idle.erase(pool.idle.begin());
            }
            if (options.cgroups) {
                for (const IdleEnvironment& idle : pool.idle) watched.push_back(idle.environment);
            }
            if (pool.min_warm > 0 && now >= pool.warm_retry_at) {
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
    // Between events nothing of the function's runs unmeasured (execution_environment.h).
    for (const EnvironmentPtr& environment : watched) {
        environment->watch_idle();
    }
    for (const auto& [version, key, generation] : to_warm) {
        spawn_warm(version, key, generation);
    }
}

}  // namespace sofaas
