// A function's activity over time, for charts: its ledger records (and the throttles the
// scheduler counted, which are never billed and so never in the ledger) in equal time
// buckets. Read from the same records as GET /v1/billing (Ledger::query), so that a later
// rollup of the ledger can serve both.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/invocation_report.h"
#include "common/time.h"

namespace sofaas {

// More buckets than this is a range or a step the caller should change: a chart has a few
// hundred points across, and each bucket is a row of the answer. A day by minute fits
// (1441 buckets when the day does not start on a minute).
inline constexpr size_t max_activity_buckets = 1500;

// [since, until) cut into `step`s. The first bucket starts at `since` rounded down to a
// multiple of `step` since the epoch, so that two reads a minute apart share their buckets.
struct ActivityRange {
    WallTime since;
    WallTime until;
    std::chrono::seconds step{60};
};

// The number of buckets `range` makes; 0 when until <= since.
size_t activity_bucket_count(const ActivityRange& range);

struct ActivityBucket {
    WallTime start;
    uint64_t invocations = 0;  // inits no invocation paid for (warm, deploy) are not invocations
    // Every status but ok (error, timeout, crash, oom, host_fault), by that status.
    std::map<std::string, uint64_t> errors_by_status;
    uint64_t errors = 0;       // their sum
    uint64_t throttles = 0;
    uint64_t cold_starts = 0;  // invocations that paid an init
    // Nearest-rank quantiles of the invocations' durations; nullopt in a bucket without any.
    std::optional<double> duration_p50_ms;
    std::optional<double> duration_p99_ms;
};

// A count of throttled requests in the second starting at `second`.
struct ThrottleCount {
    WallTime second;
    uint64_t count = 0;
};

// `records` of one function (any order; those outside the range are ignored) and its
// throttles, in activity_bucket_count(range) buckets. The caller bounds the count.
std::vector<ActivityBucket> bucket_activity(const std::vector<InvocationReport>& records,
                                            const std::vector<ThrottleCount>& throttles, const ActivityRange& range);

// {"function","since","until","step_s","buckets":[{"start","invocations","errors",
// "errors_by_status":{...},"throttles","cold_starts","duration_p50_ms","duration_p99_ms"}]}
// (the durations null in a bucket without invocations).
std::string activity_to_json(const std::string& function, const ActivityRange& range,
                             const std::vector<ActivityBucket>& buckets);

}  // namespace sofaas
