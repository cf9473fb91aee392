// GET /metrics: what the scheduler and the dispatcher counted (metrics/metrics.h), and the
// gauges read now from the pool, the event store, the ledger and /proc.
#include "gateway/metrics_endpoint.h"

#include <algorithm>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "billing/ledger.h"
#include "cluster/billing_shipper.h"
#include "events/event_store.h"
#include "gateway/auth.h"
#include "gateway/awaitable_calls.h"
#include "gateway/responses.h"
#include "metrics/exposition.h"
#include "metrics/histogram.h"
#include "metrics/metrics.h"
#include "metrics/process_metrics.h"
#include "pool/pool.h"

namespace sofaas {

namespace {

void write_environments(Exposition& out, const Pool& pool) {
    const std::vector<FunctionEnvironments> functions = pool.environments();
    out.family("sofaas_concurrent_executions", MetricType::gauge,
               "Invocations running now (their cold start included), as Lambda's ConcurrentExecutions.");
    for (const FunctionEnvironments& f : functions)
        out.sample("sofaas_concurrent_executions", {{"function", f.function}}, f.busy);
    out.family("sofaas_environments", MetricType::gauge,
               "Execution environments (sofaas-worker processes) by state: idle (warm, waiting), busy (running an "
               "invocation or starting for one), starting (for min_warm).");
    for (const FunctionEnvironments& f : functions) {
        out.sample("sofaas_environments", {{"function", f.function}, {"state", "idle"}}, f.idle);
        out.sample("sofaas_environments", {{"function", f.function}, {"state", "busy"}}, f.busy);
        out.sample("sofaas_environments", {{"function", f.function}, {"state", "starting"}}, f.starting);
    }
}

// Reads the event store: blocking, on the disk-work thread. Throws EventStoreError.
void write_event_queue(Exposition& out, EventStore& store, UnixMillis now) {
    const auto depths = store.depths();
    out.family("sofaas_queued_events", MetricType::gauge,
               "Events waiting in the function's queue (asynchronous invocations, schedule firings, retries), running "
               "ones included.");
    for (const auto& [function, depth] : depths)
        out.sample("sofaas_queued_events", {{"function", function}}, depth.events);
    out.family("sofaas_oldest_queued_event_age_seconds", MetricType::gauge,
               "Age of the function's oldest queued event, as Lambda's AsyncEventAge.");
    for (const auto& [function, depth] : depths) {
        if (depth.events == 0) continue;
        const double age_s = static_cast<double>(std::max<UnixMillis>(0, now - depth.oldest_enqueued_ms)) / 1000;
        out.sample("sofaas_oldest_queued_event_age_seconds", {{"function", function}}, age_s);
    }
    // Kept by the store with each schedule: they survive restarts, and go with the schedule.
    std::map<std::string, std::pair<uint64_t, uint64_t>> firings;  // function: fired, missed
    for (const Schedule& schedule : store.schedules(std::nullopt)) {
        auto& [fired, missed] = firings[schedule.function];
        fired += schedule.fired;
        missed += schedule.missed;
    }
    out.family("sofaas_schedule_firings_total", MetricType::counter,
               "Schedule firings (each an event queued), of the function's current schedules.");
    for (const auto& [function, counts] : firings)
        out.sample("sofaas_schedule_firings_total", {{"function", function}}, counts.first);
    out.family("sofaas_schedule_missed_firings_total", MetricType::counter,
               "Due times of the function's current schedules skipped while no daemon ran.");
    for (const auto& [function, counts] : firings) {
        out.sample("sofaas_schedule_missed_firings_total", {{"function", function}}, counts.second);
    }
}

void write_ledger(Exposition& out, const Ledger& ledger) {
    const LedgerFsyncWaits waits = ledger.fsync_waits(ledger_fsync_wait_bounds);
    Histogram histogram(ledger_fsync_wait_bounds);
    histogram.set(waits.counts, waits.sum_seconds);
    out.family("sofaas_ledger_fsync_wait_seconds", MetricType::histogram,
               "Per group fsync of the billing ledger, how long its first record waited to be on disk.");
    out.histogram("sofaas_ledger_fsync_wait_seconds", {}, histogram);
    const LedgerHealth health = ledger.health();
    out.family("sofaas_ledger_writable", MetricType::gauge,
               "1 while the billing ledger can record, 0 while invocations are refused (503) because it cannot.");
    out.sample("sofaas_ledger_writable", {}, uint64_t{health.writable ? 1u : 0u});
    out.family("sofaas_ledger_backlog_records", MetricType::gauge,
               "Records of answered invocations waiting to be written once the ledger can write again.");
    out.sample("sofaas_ledger_backlog_records", {}, health.backlog);
    out.family("sofaas_ledger_lost_records_total", MetricType::counter,
               "Records dropped since the start because the backlog was full.");
    out.sample("sofaas_ledger_lost_records_total", {}, health.lost);
}

void write_billing_shipping(Exposition& out, const BillingShipper& shipper) {
    const BillingShippingStatus status = shipper.status();
    out.family("sofaas_billing_shipped_records_total", MetricType::counter,
               "Billing records this node shipped to the cluster's database since it started.");
    out.sample("sofaas_billing_shipped_records_total", {}, status.shipped_records);
    out.family("sofaas_billing_shipping_queued_records", MetricType::gauge,
               "Billing records written to this node's ledger and not yet in the cluster's database.");
    out.sample("sofaas_billing_shipping_queued_records", {}, status.queued_records);
    out.family("sofaas_billing_shipping_dropped_records_total", MetricType::counter,
               "Records that did not fit the queue while the database was away: read back from the ledger once their segment is sealed.");
    out.sample("sofaas_billing_shipping_dropped_records_total", {}, status.dropped_records);
    out.family("sofaas_billing_shipping_failing", MetricType::gauge,
               "1 while the last attempt to ship billing records to the cluster's database failed.");
    out.sample("sofaas_billing_shipping_failing", {}, uint64_t{status.failure ? 1u : 0u});
}

HttpResponseParts exposition_response(std::string text) {
    HttpResponseParts response;
    response.headers.emplace_back("Content-Type", std::string(exposition_content_type));
    response.body = std::move(text);
    return response;
}

}  // namespace

boost::asio::awaitable<HttpResponseParts> handle_metrics(HandlerContext& context, const IncomingRequest& request,
                                                         MetricsAccess access) {
    const GatewayServices& services = context.services;
    if (access == MetricsAccess::credential) {
        const Caller caller = identify_caller(request, trusted_credentials(services));
        if (!caller.known()) co_return unauthorized(caller);
        if (!caller.may_read_metrics()) co_return forbidden("This key may not read /metrics");
    }
    if (request.method != "GET" && request.method != "HEAD")
        co_return method_not_allowed(request.method, request.path());
    if (!services.metrics.enabled()) co_return not_found("Metrics are off (metrics.enabled is false in the config)");

    Exposition out;
    services.metrics.write(out);
    write_environments(out, services.pool);
    write_ledger(out, services.ledger);
    if (services.billing_shipper != nullptr) write_billing_shipping(out, *services.billing_shipper);
    bool store_failed = false;
    co_await run_blocking(context.disk_work, [&] {
        try {
            write_event_queue(out, services.events, unix_now_ms());
        } catch (const EventStoreError& e) {
            store_failed = true;
            spdlog::error("[{}] metrics: the event store cannot be read: {}", request.request_id, e.what());
        }
        write_process_metrics(out);
    });
    out.family("sofaas_event_store_readable", MetricType::gauge,
               "1 when this scrape could read the event store (queue depth, schedules), else 0 and those are missing.");
    out.sample("sofaas_event_store_readable", {}, uint64_t{store_failed ? 0u : 1u});
    co_return exposition_response(out.take());
}

}  // namespace sofaas
