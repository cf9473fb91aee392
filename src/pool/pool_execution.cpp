#include <algorithm>
#include <iterator>
#include <utility>

#include <boost/asio/post.hpp>
#include <spdlog/spdlog.h>

#include "pool/pool_state.h"

namespace sofaas {

namespace asio = boost::asio;

namespace {

InvocationReport failed(InvocationStatus status, std::string error_type, std::string error_message) {
    InvocationReport report;
    report.status = status;
    report.error_type = std::move(error_type);
    report.error_message = std::move(error_message);
    return report;
}

// The function never ran, and not by its fault: the client is told so, the operator is
// told why (the daemon log), and a caller of the function is told nothing about the host.
InvocationReport host_fault(const std::string& request_id, const VersionKey& key, const std::string& what,
                            const std::string& reason) {
    spdlog::error("[{}] {}:{}: the host could not start {}: {}", request_id, key.first, key.second, what, reason);
    return failed(InvocationStatus::host_fault, std::string(host_fault_error_type),
                  "The host could not start " + what + "; see the daemon log.");
}

// The init ran, for as long as it ran, and the invocation pays for it (its duration: 0).
InvocationReport failed_start(Startup startup) {
    InvocationReport report = failed(startup.failure, std::move(startup.error_type), std::move(startup.error_message));
    report.init_ms = startup.init_ms;
    report.failed_in_init = true;
    report.captured_stdout = std::move(startup.captured_stdout);
    report.captured_stderr = std::move(startup.captured_stderr);
    return report;
}

}  // namespace

void Pool::State::execute(FunctionVersionPtr version, std::string request_id, Event event,
                          ReportCallback done) {
    const VersionKey key = key_of(*version);
    const asio::io_context* here = &calling_context();
    EnvironmentPtr environment;
    uint64_t generation = 0;
    {
        std::unique_lock lock(mutex);
        if (shut_down) {
            lock.unlock();
            answer_later(std::move(done),
                         failed(InvocationStatus::host_fault, "Runtime.Unavailable", "the daemon is shutting down"));
            return;
        }
        VersionPool& pool = versions[key];
        generation = pool.generation;
        while (!environment && !pool.idle.empty()) {
            // The warmest idle environment on the caller's io thread, else the warmest of
            // all: the invocation then costs no hand-off between threads.
            auto local = std::find_if(pool.idle.rbegin(), pool.idle.rend(),
                                      [&](const IdleEnvironment& idle) { return &idle.environment->context() == here; });
            auto chosen = local == pool.idle.rend() ? std::prev(pool.idle.end()) : std::prev(local.base());
            environment = std::move(chosen->environment);
            pool.idle.erase(chosen);
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
    cold_start(std::move(version), key, generation, std::move(request_id), std::move(event), std::move(done));
}

void Pool::State::cold_start(FunctionVersionPtr version, VersionKey key, uint64_t generation,
                             std::string request_id, Event event, ReportCallback done) {
    spawn_then(version, calling_context(),
               [self = shared_from_this(), key, generation, request_id = std::move(request_id),
                event = std::move(event), done = std::move(done)](Spawned spawned) mutable {
        if (auto* error = std::get_if<std::string>(&spawned)) {
            self->finish(nullptr, key, generation);
            done(host_fault(request_id, key, "a worker", *error));
            return;
        }
        EnvironmentPtr environment = std::get<EnvironmentPtr>(std::move(spawned));
        self->start_and_invoke(std::move(environment), key, generation, std::move(request_id), std::move(event),
                               std::move(done));
    });
}

void Pool::State::start_and_invoke(EnvironmentPtr environment, VersionKey key, uint64_t generation,
                                   std::string request_id, Event event, ReportCallback done) {
    // Weak captures: the environment holds this callback until Ready, and is itself
    // alive whenever it calls back.
    environment->start([self = shared_from_this(), weak = std::weak_ptr(environment), key, generation,
                        request_id = std::move(request_id), event = std::move(event),
                        done = std::move(done)](Startup startup) mutable {
        self->started_one();
        EnvironmentPtr environment = weak.lock();
        if (!startup.ok || !environment) {
            self->finish(environment, key, generation);
            done(startup.host_fault ? host_fault(request_id, key, "the function's sandbox", startup.error_message)
                                    : failed_start(std::move(startup)));
            return;
        }
        self->invoke(std::move(environment), key, generation, std::move(request_id), std::move(event),
                     startup.init_ms, std::move(done));
    });
}

void Pool::State::invoke(EnvironmentPtr environment, VersionKey key, uint64_t generation,
                         std::string request_id, Event event, std::optional<double> init_ms,
                         ReportCallback done) {
    auto on_executed = [self = shared_from_this(), weak = std::weak_ptr(environment),
                        version = environment->version(), key, generation, request_id, event, init_ms,
                        done = std::move(done)](std::optional<InvocationReport> report) mutable {
        EnvironmentPtr environment = weak.lock();
        if (!report) {
            // The environment died between the idle list and the event: nothing ran.
            self->cold_start(version, key, generation, std::move(request_id), std::move(event),
                             std::move(done));
            return;
        }
        report->init_ms = init_ms;
        self->finish(environment, key, generation);
        done(std::move(*report));
    };
    environment->invoke(request_id, std::move(event), std::move(on_executed));
}

void Pool::State::finish(const EnvironmentPtr& environment, const VersionKey& key, uint64_t generation) {
    bool keep = false;
    {
        std::lock_guard lock(mutex);
        auto found = versions.find(key);
        if (found != versions.end()) {
            VersionPool& pool = found->second;
            --pool.busy;
            keep = environment && environment->reusable() && generation == pool.generation && !shut_down;
            if (keep) {
                pool.idle.push_back({environment, std::chrono::steady_clock::now()});
                pool.warm_failures = 0;  // the function serves: min_warm may refill at once again
            }
        }
    }
    if (environment && !keep) {
        environment->kill();
    }
}

void Pool::State::answer_later(ReportCallback done, InvocationReport report) {
    asio::post(io, [done = std::move(done), report = std::move(report)]() mutable {
        done(std::move(report));
    });
}

}  // namespace sofaas
