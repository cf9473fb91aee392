#include "scheduler/scheduler.h"

#include <algorithm>
#include <map>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <spdlog/spdlog.h>

#include "billing/ledger.h"
#include "metrics/metrics.h"
#include "pool/pool.h"
#include "scheduler/invocation_record.h"

namespace sofaas {

namespace asio = boost::asio;

namespace {

using VersionKey = std::pair<std::string, uint32_t>;
using ReportCallback = std::function<void(InvocationReport)>;

struct Admitted {
    InvocationRequest request;
    ReportCallback done;
};

struct Waiting {
    Admitted invocation;
    std::unique_ptr<asio::steady_timer> deadline;  // waiting longer than the function's timeout: 429
};

// Admission state of one function version.
struct VersionQueue {
    size_t running = 0;
    std::map<uint64_t, Waiting> waiting;  // by arrival number: begin() waited longest
};

VersionKey key_of(const InvocationRequest& request) {
    return {request.version->spec.name, request.version->spec.version};
}

size_t concurrency_limit(const InvocationRequest& request) {
    return std::max<size_t>(1, request.version->spec.max_concurrency);
}

// Told to the caller (unless anonymous, gateway/responses.h); which path or disk is the
// daemon log's business.
constexpr const char* not_admitted_message =
    "The function was not run: its billing cannot be recorded now. Retry later.";
constexpr const char* withheld_message =
    "The function ran, but its billing record could not be written, so its result is withheld. Retry later.";

// The caller of a finished invocation without a record gets the host's failure, not the
// output; the ledger writes the record later, as a host fault at no charge (ledger.h).
InvocationReport withheld(InvocationReport report) {
    report.status = InvocationStatus::unavailable;
    report.output.clear();
    report.error_type = unavailable_error_type;
    report.error_message = withheld_message;
    report.billed_ms = 0;
    report.cost_pico_usd = 0;
    return report;
}

InvocationReport not_admitted(const InvocationRequest& request) {
    InvocationReport report =
        refused_report(request, InvocationStatus::unavailable, unavailable_error_type, not_admitted_message);
    report.refusal_reason = "the billing ledger cannot write";
    return report;
}

bool is_runtime_failure(InvocationStatus status) {
    return status == InvocationStatus::timeout || status == InvocationStatus::crash ||
           status == InvocationStatus::oom;
}

}  // namespace

struct Scheduler::State : std::enable_shared_from_this<Scheduler::State> {
    State(Pool& pool_, Ledger& ledger_, FunctionLogStore& logs_, Metrics& metrics_, const Config& config_)
        : pool(pool_), ledger(ledger_), logs(logs_), metrics(metrics_), config(config_), io(pool_.io_context()) {}

    Pool& pool;
    Ledger& ledger;
    FunctionLogStore& logs;
    Metrics& metrics;
    RefusalLogBudget refusal_lines;
    const Config config;
    asio::io_context& io;

    mutable std::mutex mutex;  // guards everything below; never held while calling out
    std::map<VersionKey, VersionQueue> versions;
    uint64_t arrivals = 0;
    size_t in_flight = 0;  // running or waiting
    bool closed = false;   // the Scheduler (and perhaps the Pool) is gone: start nothing new
    ThrottleHistory throttles;  // has its own mutex

    void throttle(const InvocationRequest& request, ReportCallback done, const char* why) {
        spdlog::warn("[{}] {}:{} throttled: {}", request.request_id, request.version->spec.name,
                     request.version->spec.version, why);
        throttles.record(request.version->spec.name, wall_now());
        InvocationReport report = throttled_report(request);
        report.refusal_reason = why;
        answer_refused(std::move(report), std::move(done));
    }

    // Ran nothing, billed nothing: counted, its one log line written (why it was not run),
    // and answered on an io thread, not on the caller's stack.
    void answer_refused(InvocationReport report, ReportCallback done) {
        metrics.record(report);
        record_refusal(logs, refusal_lines, report);
        asio::post(io, [done = std::move(done), report = std::move(report)]() mutable { done(std::move(report)); });
    }

    void invoke(InvocationRequest request, ReportCallback done) {
        // Like a throttle, a refusal runs nothing and is not recorded.
        if (!ledger.writable()) {
            answer_refused(not_admitted(request), std::move(done));
            return;
        }
        const VersionKey key = key_of(request);
        std::unique_lock lock(mutex);
        if (closed) {
            lock.unlock();
            throttle(request, std::move(done), "the scheduler is shutting down");
            return;
        }
        VersionQueue& queue = versions[key];
        if (queue.running < concurrency_limit(request)) {
            ++queue.running;
            ++in_flight;
            lock.unlock();
            run(Admitted{std::move(request), std::move(done)});
            return;
        }
        if (queue.waiting.size() >= config.limits.max_queue) {
            lock.unlock();
            throttle(request, std::move(done), "concurrency limit reached and the queue is full");
            return;
        }
        const uint64_t arrival = ++arrivals;
        auto deadline = std::make_unique<asio::steady_timer>(io, std::chrono::seconds(request.version->spec.timeout_s));
        deadline->async_wait([weak = weak_from_this(), key, arrival](boost::system::error_code ec) {
            auto self = weak.lock();
            if (!ec && self) {
                self->give_up_waiting(key, arrival);
            }
        });
        queue.waiting.emplace(arrival, Waiting{Admitted{std::move(request), std::move(done)}, std::move(deadline)});
        ++in_flight;
    }

    void give_up_waiting(const VersionKey& key, uint64_t arrival) {
        std::unique_lock lock(mutex);
        auto queue = versions.find(key);
        if (queue == versions.end()) return;
        auto waiting = queue->second.waiting.find(arrival);
        if (waiting == queue->second.waiting.end()) return;  // it started meanwhile
        Admitted invocation = std::move(waiting->second.invocation);
        queue->second.waiting.erase(waiting);
        --in_flight;
        lock.unlock();
        throttle(invocation.request, std::move(invocation.done), "waited in the queue longer than the timeout");
    }

    void run(Admitted invocation) {
        // Billing time starts when the invocation gets its slot, not when it arrived.
        const WallTime start = wall_now();
        auto request = std::make_shared<InvocationRequest>(std::move(invocation.request));
        std::string payload = std::move(request->payload);
        pool.execute(request->version, request->request_id, std::move(payload), request->principal,
                     [self = shared_from_this(), request, start,
                      done = std::move(invocation.done)](InvocationReport report) mutable {
                         self->complete(*request, start, std::move(report), std::move(done));
                     });
    }

    void complete(const InvocationRequest& request, WallTime start, InvocationReport report, ReportCallback done) {
        complete_report(report, request, start, config.prices);
        if (is_runtime_failure(report.status)) {
            spdlog::error("[{}] {}:{} {}: {}: {}", report.request_id, report.function, report.version,
                          to_string(report.status), report.error_type, report.error_message);
        }
        // The record and the logs exist before the response can leave.
        const bool recorded = record_invocation(ledger, logs, report);
        start_next(key_of(request));
        InvocationReport answered = recorded ? std::move(report) : withheld(std::move(report));
        metrics.record(answered);
        done(std::move(answered));
        std::lock_guard lock(mutex);
        --in_flight;
    }

    // A slot of this version is free: the invocation that waited longest takes it.
    void start_next(const VersionKey& key) {
        std::unique_lock lock(mutex);
        auto found = versions.find(key);
        if (found == versions.end() || closed) return;
        VersionQueue& queue = found->second;
        --queue.running;
        if (queue.waiting.empty()) {
            if (queue.running == 0) versions.erase(found);
            return;
        }
        auto oldest = queue.waiting.begin();
        Admitted next = std::move(oldest->second.invocation);
        oldest->second.deadline->cancel();
        queue.waiting.erase(oldest);
        ++queue.running;
        lock.unlock();
        if (!ledger.writable()) {
            // It waited while the ledger stopped writing: refused as if it came now.
            asio::post(io, [self = shared_from_this(), key, next = std::move(next)]() mutable {
                InvocationReport refused = not_admitted(next.request);
                self->metrics.record(refused);
                record_refusal(self->logs, self->refusal_lines, refused);
                next.done(std::move(refused));
                self->start_next(key);
                std::lock_guard lock(self->mutex);
                --self->in_flight;
            });
            return;
        }
        run(std::move(next));
    }
};

Scheduler::Scheduler(Pool& pool, Ledger& ledger, FunctionLogStore& logs, Metrics& metrics, const Config& config)
    : state_(std::make_shared<State>(pool, ledger, logs, metrics, config)) {
    pool.on_unpaid_init([weak = std::weak_ptr(state_)](InvocationReport report) {
        if (auto state = weak.lock()) {
            record_unpaid_init(state->ledger, state->logs, report, state->config.prices);
            state->metrics.record(report);
        }
    });
}

Scheduler::~Scheduler() {
    // Invocations that finish later are still recorded, but nothing new may reach the pool,
    // which may be gone too. Waiting ones are dropped: shutdown waits for in_flight() == 0.
    std::lock_guard lock(state_->mutex);
    state_->closed = true;
    for (auto& [key, queue] : state_->versions) {
        state_->in_flight -= queue.waiting.size();
        queue.waiting.clear();
    }
}

void Scheduler::invoke(InvocationRequest request, std::function<void(InvocationReport)> done) {
    state_->invoke(std::move(request), std::move(done));
}

void Scheduler::activate(FunctionVersionPtr version, uint32_t previous) {
    state_->pool.keep_warm(version);
    if (previous != 0 && previous != version->spec.version) {
        state_->pool.retire(version->spec.name, previous);
    }
}

void Scheduler::remove(const std::string& function) {
    state_->pool.retire_all(function);
    state_->throttles.remove(function);
    state_->refusal_lines.forget(function);
}

const ThrottleHistory& Scheduler::throttles() const {
    return state_->throttles;
}

size_t Scheduler::in_flight() const {
    std::lock_guard lock(state_->mutex);
    return state_->in_flight;
}

}  // namespace sofaas
