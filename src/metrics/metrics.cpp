#include "metrics/metrics.h"

#include <array>
#include <tuple>
#include <vector>

#include <fmt/format.h>

#include "common/money.h"
#include "metrics/histogram.h"

namespace sofaas {

namespace {

// One sofaas_invocations_total series of a function.
using InvocationKey = std::tuple<uint32_t, Trigger, InvocationStatus>;  // version, trigger, status

bool is_unpaid_init(Trigger trigger) { return trigger == Trigger::warm || trigger == Trigger::deploy; }

}  // namespace

struct Metrics::Series {
    std::map<InvocationKey, uint64_t> invocations;
    Histogram duration{invocation_duration_bounds};
    Histogram init{init_duration_bounds};
    uint64_t cold_starts = 0;
    uint64_t throttles = 0;
    double billed_gb_seconds = 0;
    Pico cost_pico_usd = 0;  // exact: a float sum of a billion tiny costs drifts
    std::array<uint64_t, 3> events{};  // by EventFate
};

Metrics::Metrics(bool enabled) : enabled_(enabled) {}
Metrics::~Metrics() = default;

void Metrics::record(const InvocationReport& report) {
    if (!enabled_) return;
    std::lock_guard lock(mutex_);
    auto found = series_.find(std::string_view(report.function));
    if (found == series_.end()) found = series_.emplace(report.function, std::make_unique<Series>()).first;
    Series& series = *found->second;
    if (report.status == InvocationStatus::throttled) {
        ++series.throttles;
        return;
    }
    if (report.init_ms) series.init.observe(*report.init_ms / 1000);
    series.billed_gb_seconds += static_cast<double>(report.billed_ms) / 1000 * report.memory_mb / 1024;
    series.cost_pico_usd += report.cost_pico_usd;
    if (is_unpaid_init(report.trigger)) return;
    ++series.invocations[InvocationKey{report.version, report.trigger, report.status}];
    if (report.init_ms) ++series.cold_starts;
    // A refusal before the run (ledger unavailable) ran nothing to time.
    const bool ran = report.status != InvocationStatus::unavailable || report.duration_ms > 0;
    if (ran) series.duration.observe(report.duration_ms / 1000);
}

void Metrics::record_event(std::string_view function, EventFate fate) {
    if (!enabled_) return;
    std::lock_guard lock(mutex_);
    auto found = series_.find(function);
    if (found == series_.end()) found = series_.emplace(std::string(function), std::make_unique<Series>()).first;
    ++found->second->events[static_cast<size_t>(fate)];
}

void Metrics::write(Exposition& out) const {
    if (!enabled_) return;
    std::lock_guard lock(mutex_);
    out.family("sofaas_invocations_total", MetricType::counter,
               "Invocations answered, by function, version that ran, trigger and outcome (status).");
    for (const auto& [function, series] : series_) {
        for (const auto& [key, count] : series->invocations) {
            const auto& [version, trigger, status] = key;
            const std::string version_text = std::to_string(version);
            out.sample("sofaas_invocations_total",
                       {{"function", function},
                        {"version", version_text},
                        {"trigger", to_string(trigger)},
                        {"status", to_string(status)}},
                       count);
        }
    }
    out.family("sofaas_invocation_duration_seconds", MetricType::histogram,
               "Handler time of invocations that ran, measured by the daemon (to the kill on a timeout).");
    for (const auto& [function, series] : series_) {
        if (series->duration.count() > 0)
            out.histogram("sofaas_invocation_duration_seconds", {{"function", function}}, series->duration);
    }
    out.family("sofaas_init_duration_seconds", MetricType::histogram,
               "Cold starts (dlopen and sofaas_init), whether an invocation, min_warm or a deploy's trial load paid "
               "for them.");
    for (const auto& [function, series] : series_) {
        if (series->init.count() > 0)
            out.histogram("sofaas_init_duration_seconds", {{"function", function}}, series->init);
    }
    const auto counter = [&](std::string_view name, std::string_view help, auto value_of) {
        out.family(name, MetricType::counter, help);
        for (const auto& [function, series] : series_) out.sample(name, {{"function", function}}, value_of(*series));
    };
    counter("sofaas_cold_starts_total", "Invocations that waited for a cold start of their environment.",
            [](const Series& s) { return s.cold_starts; });
    counter("sofaas_throttles_total",
            "Invocations refused with 429: concurrency limit and queue full, or waited too long.",
            [](const Series& s) { return s.throttles; });
    counter("sofaas_billed_gb_seconds_total", "GB-seconds billed: billed time times memory size, inits included.",
            [](const Series& s) { return s.billed_gb_seconds; });
    counter("sofaas_cost_usd_total", "Cost billed in US dollars, as the ledger's cost_usd.",
            [](const Series& s) { return static_cast<double>(s.cost_pico_usd) / pico_per_usd; });
    counter("sofaas_events_refused_total",
            "Asynchronous invocations refused because the function's queue was full (events.max_queued_per_function).",
            [](const Series& s) { return s.events[static_cast<size_t>(EventFate::refused_queue_full)]; });
    counter("sofaas_events_expired_total", "Queued events too old to run (max_event_age_s).",
            [](const Series& s) { return s.events[static_cast<size_t>(EventFate::expired)]; });
    counter("sofaas_events_dead_lettered_total", "Queued events that failed for good and became dead letters.",
            [](const Series& s) { return s.events[static_cast<size_t>(EventFate::dead_lettered)]; });
}

}  // namespace sofaas
