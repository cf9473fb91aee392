// sofaasd's own counters and histograms: what every finished invocation, init, throttle and
// queued event's end adds to, per function, for GET /metrics. Recorded where each is
// decided (the scheduler, the dispatcher); gauges that are a look at present state (the
// pool's environments, the queue's depth) are read when scraped instead (gateway).
//
// Recording takes one short lock: a lookup of the function, a few additions. No allocation
// but for the first series of a function, version, trigger and status.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "common/invocation_report.h"
#include "metrics/exposition.h"

namespace sofaas {

// What became of a queued event other than a run (src/events/).
enum class EventFate {
    refused_queue_full,  // an asynchronous invocation refused: the function's queue was full
    expired,             // too old to run (max_event_age_s)
    dead_lettered,       // failed for good without a destination: now a dead letter
};

class Metrics {
public:
    // Disabled: every record call returns at once and write() writes nothing.
    explicit Metrics(bool enabled = true);
    ~Metrics();
    Metrics(const Metrics&) = delete;
    Metrics& operator=(const Metrics&) = delete;

    bool enabled() const { return enabled_; }

    // A finished invocation as its caller is answered (status unavailable: its result was
    // withheld, or it was refused since the ledger could not record), or an init no
    // invocation paid for (trigger warm or deploy). Throttled ones count as throttles.
    void record(const InvocationReport& report);
    void record_event(std::string_view function, EventFate fate);

    // The families of everything recorded, each with its HELP and TYPE lines.
    void write(Exposition& out) const;

private:
    struct Series;
    const bool enabled_;
    mutable std::mutex mutex_;                                            // guards series_
    std::map<std::string, std::unique_ptr<Series>, std::less<>> series_;  // by function
};

}  // namespace sofaas
