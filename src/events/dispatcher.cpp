#include "events/dispatcher.h"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include <spdlog/spdlog.h>

#include "events/event_outcome.h"
#include "metrics/metrics.h"
#include "registry/registry.h"
#include "scheduler/scheduler.h"

namespace sofaas {
namespace {

using namespace std::chrono_literals;

constexpr UnixMillis idempotency_window_ms = 24 * 3600 * 1000;
constexpr UnixMillis key_expiry_period_ms = 60 * 1000;
// With a store other nodes share, how often to look for the events this node was not told
// of: those other nodes queued, and those a dead node's lease held until it expired.
constexpr UnixMillis shared_store_look_period_ms = 1000;
// A lease outlives any run: a wait for a slot (up to the timeout), the init, the run.
constexpr UnixMillis lease_margin_ms = 10 * 1000;

std::chrono::system_clock::time_point at(UnixMillis ms) {
    return std::chrono::system_clock::time_point(std::chrono::milliseconds(ms));
}

}  // namespace

struct Dispatcher::State : std::enable_shared_from_this<Dispatcher::State> {
    State(EventStore& store_, Registry& registry_, Scheduler& scheduler_, Metrics& metrics_, const Config& config_)
        : store(store_), registry(registry_), scheduler(scheduler_), metrics(metrics_), config(config_),
          owner(lease_owner_of(config_)) {}

    EventStore& store;
    Registry& registry;
    Scheduler& scheduler;
    Metrics& metrics;
    const Config config;
    const std::string owner;

    struct FunctionQueue {
        bool look = false;       // may have due events
        UnixMillis look_at = 0;  // not before then
        uint64_t notified = 0;   // events stored since: counts notify()s
        uint32_t running = 0;    // claimed, not yet settled (or reserved by a claim in progress)
        uint32_t share = 1;      // runs it may have at once, from its latest settings
    };

    mutable std::mutex mutex;  // guards everything below; never held while calling out
    std::condition_variable wake;
    std::map<std::string, FunctionQueue, std::less<>> queues;
    size_t running_total = 0;
    bool stopping = false;
    UnixMillis next_key_expiry = 0;
    UnixMillis next_shared_look = 0;  // a shared store's next look at every queue
    std::thread thread;

    uint32_t share_of(const FunctionSpec& spec) const {
        return std::max<uint32_t>(1, static_cast<uint32_t>(uint64_t{spec.max_concurrency} *
                                                           config.events.concurrency_share_percent / 100));
    }

    void look_soon(const std::string& function, UnixMillis when) {
        std::lock_guard lock(mutex);
        FunctionQueue& queue = queues[function];
        queue.look_at = queue.look ? std::min(queue.look_at, when) : when;
        queue.look = true;
        ++queue.notified;
        wake.notify_all();
    }

    void loop() {
        std::unique_lock lock(mutex);
        while (!stopping) {
            const UnixMillis now = unix_now_ms();
            if (now >= next_key_expiry) {
                next_key_expiry = now + key_expiry_period_ms;
                lock.unlock();
                expire_keys(now);
                lock.lock();
                continue;
            }
            const bool shared_store = config.store.kind == StoreKind::postgres;
            if (shared_store && now >= next_shared_look) {
                next_shared_look = now + shared_store_look_period_ms;
                lock.unlock();
                look_at_every_queue();
                lock.lock();
                continue;
            }
            UnixMillis wake_at = shared_store ? std::min(next_key_expiry, next_shared_look) : next_key_expiry;
            std::vector<std::string> due;
            for (auto& [name, queue] : queues) {
                if (!queue.look || queue.running >= queue.share) continue;
                if (queue.look_at > now) {
                    wake_at = std::min(wake_at, queue.look_at);
                } else {
                    due.push_back(name);
                }
            }
            if (due.empty() || running_total >= config.events.max_running) {
                wake.wait_until(lock, at(wake_at));
                continue;
            }
            for (const std::string& function : due) {
                if (stopping || running_total >= config.events.max_running) break;
                claim_and_run(lock, function, now);
            }
        }
    }

    // Every function with events waiting may have some to claim: at start, and with a
    // shared store every so often.
    void look_at_every_queue() {
        std::vector<std::pair<std::string, QueueDepth>> depths;
        try {
            depths = store.depths();
        } catch (const EventStoreError& e) {
            spdlog::warn("events: queues not read: {}", e.what());
            return;
        }
        for (const auto& [function, depth] : depths) {
            if (depth.events > 0) look_soon(function, 0);
        }
    }

    void expire_keys(UnixMillis now) {
        try {
            store.expire_idempotency_keys(now - idempotency_window_ms);
        } catch (const EventStoreError& e) {
            spdlog::warn("events: idempotency keys not expired: {}", e.what());
        }
    }

    // Called and returns with `lock` held; releases it while it asks the store.
    void claim_and_run(std::unique_lock<std::mutex>& lock, const std::string& function, UnixMillis now) {
        FunctionQueue& queue = queues[function];
        const size_t limit = std::min<size_t>(queue.share - queue.running, config.events.max_running - running_total);
        const uint64_t notified = queue.notified;
        queue.running += limit;  // reserved while the store is asked
        running_total += limit;
        lock.unlock();

        const FunctionVersionPtr latest = registry.latest(function);
        std::vector<QueuedEvent> claimed;
        std::optional<UnixMillis> next_due;
        bool store_failed = false;
        uint32_t share = 1;
        if (latest) {
            share = share_of(latest->spec);
            // An event for ?version=N runs with N's timeout, which may be longer than $LATEST's.
            uint32_t timeout_s = latest->spec.timeout_s;
            for (const uint32_t number : registry.versions(function)) {
                if (const FunctionVersionPtr version = registry.find(function, number)) {
                    timeout_s = std::max(timeout_s, version->spec.timeout_s);
                }
            }
            const UnixMillis lease_ms =
                (2 * UnixMillis{timeout_s} + config.limits.init_timeout_s) * 1000 + lease_margin_ms;
            try {
                claimed = store.claim(function, owner, now, now + lease_ms, std::min<size_t>(limit, share));
                if (claimed.size() < limit) next_due = store.next_due(function);
            } catch (const EventStoreError& e) {
                spdlog::error("events: cannot claim events of {}: {}", function, e.what());
                store_failed = true;
            }
        }

        lock.lock();
        const size_t unused = limit - claimed.size();
        queue.running -= unused;
        running_total -= unused;
        queue.share = share;
        if (!latest) {
            queue.look = false;  // deleted: its events went with it
        } else if (store_failed) {
            queue.look_at = now + store_failure_pause_ms;
        } else if (claimed.size() == limit || queue.notified != notified) {
            queue.look_at = 0;
        } else if (next_due) {
            queue.look_at = std::max(*next_due, now + 1);
        } else {
            queue.look = false;
        }
        lock.unlock();
        for (QueuedEvent& event : claimed) run(std::move(event), latest);
        lock.lock();
    }

    void run(QueuedEvent event, const FunctionVersionPtr& latest) {
        const std::string& function = event.event.function;
        FunctionVersionPtr version = event.event.version == 0 ? latest : registry.find(function, event.event.version);
        const UnixMillis now = unix_now_ms();
        if (!version) {
            Settlement gone;
            gone.kind = SettlementKind::dead_letter;
            gone.now_ms = now;
            gone.error_type = "ResourceNotFoundException";
            gone.error_message = "Function not found: " + function + " version " + std::to_string(event.event.version);
            settle(event, std::move(gone));
            return;
        }
        if (too_old(event, version->spec, now)) {
            spdlog::warn("[{}] {}: event not run, older than max_event_age {} s", event.event.request_id, function,
                         version->spec.max_event_age_s);
            metrics.record_event(function, EventFate::expired);
            settle(event, settle_expired(event, version->spec, now, config, destination_exists()));
            return;
        }
        InvocationRequest request{version, event.event.payload, event.event.trigger, event.event.request_id};
        request.attempt = event.runs;
        request.principal = event.event.principal;
        scheduler.invoke(std::move(request), [self = shared_from_this(), event = std::move(event),
                                              version](InvocationReport report) mutable {
            Settlement settlement =
                settle_after_run(event, version->spec, report, unix_now_ms(), self->config, self->destination_exists());
            if (settlement.kind == SettlementKind::retry || settlement.kind == SettlementKind::dead_letter) {
                spdlog::warn("[{}] {}: attempt {} failed ({}: {}); {}", event.event.request_id,
                             event.event.function, event.runs, settlement.error_type, settlement.error_message,
                             settlement.kind == SettlementKind::retry ? "retried later" : "now a dead letter");
            }
            self->settle(event, std::move(settlement));
        });
    }

    std::function<bool(const std::string&)> destination_exists() const {
        return [&registry = registry](const std::string& function) { return registry.latest(function) != nullptr; };
    }

    void settle(const QueuedEvent& event, Settlement settlement) {
        const std::string function = event.event.function;
        if (settlement.kind == SettlementKind::dead_letter) metrics.record_event(function, EventFate::dead_lettered);
        std::optional<std::string> destination;
        if (settlement.then_enqueue) destination = settlement.then_enqueue->function;
        const std::optional<UnixMillis> again =
            settlement.kind == SettlementKind::retry || settlement.kind == SettlementKind::requeue
                ? std::optional(settlement.not_before_ms)
                : std::nullopt;
        store.settle(event.id, std::move(settlement),
                     [self = shared_from_this(), function, destination, again,
                      request_id = event.event.request_id](std::string error) {
                         if (!error.empty()) {
                             spdlog::error("[{}] {}: event not settled, it runs again when its lease ends: {}",
                                           request_id, function, error);
                         }
                         self->finished(function);
                         if (destination && error.empty()) self->look_soon(*destination, 0);
                         if (again && error.empty()) self->look_soon(function, *again);
                     });
    }

    void finished(const std::string& function) {
        std::lock_guard lock(mutex);
        FunctionQueue& queue = queues[function];
        --queue.running;
        --running_total;
        wake.notify_all();
    }
};

Dispatcher::Dispatcher(EventStore& store, Registry& registry, Scheduler& scheduler, Metrics& metrics,
                       const Config& config)
    : state_(std::make_shared<State>(store, registry, scheduler, metrics, config)) {}

Dispatcher::~Dispatcher() {
    stop();
}

void Dispatcher::start() {
    state_->store.release_leases(state_->owner);
    for (const auto& [function, depth] : state_->store.depths()) {
        if (depth.events > 0) state_->look_soon(function, 0);
    }
    state_->thread = std::thread([state = state_] { state->loop(); });
}

void Dispatcher::stop() {
    {
        std::lock_guard lock(state_->mutex);
        state_->stopping = true;
        state_->wake.notify_all();
    }
    if (state_->thread.joinable()) state_->thread.join();
}

void Dispatcher::enqueue(NewEvent event, std::function<void(EnqueueResult)> done) {
    const std::string function = event.function;
    state_->store.enqueue(std::move(event), state_->config.events.max_queued_per_function,
                          [state = state_, function, done = std::move(done)](EnqueueResult result) {
                              if (result.outcome == EnqueueOutcome::queued) state->look_soon(function, 0);
                              if (result.outcome == EnqueueOutcome::full) {
                                  state->metrics.record_event(function, EventFate::refused_queue_full);
                              }
                              done(std::move(result));
                          });
}

void Dispatcher::notify(const std::string& function) {
    state_->look_soon(function, 0);
}

size_t Dispatcher::running() const {
    std::lock_guard lock(state_->mutex);
    return state_->running_total;
}

}  // namespace sofaas
