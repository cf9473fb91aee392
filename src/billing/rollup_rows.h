// The rows of billing rollups (rollups.h), apart from where they are kept: what a row is
// keyed by and counts, how a record becomes one, how rows add up to a summary, and which
// day, hour and minute rows cover a range. Inside the billing module only.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "billing/billing_record.h"
#include "common/invocation_report.h"

namespace sofaas::rollup {

inline constexpr int64_t minutes_per_hour = 60;
inline constexpr int64_t minutes_per_day = 24 * minutes_per_hour;

// An init no invocation paid for (trigger warm or deploy) costs time and money but is not
// an invocation (billing_record.h's summarize), so it is rolled up apart.
enum class RecordKind : uint8_t { invocation = 0, unpaid_init = 1 };

// A billed status as stored in the database: fixed codes, never the enum's position.
enum class StatusCode : uint8_t { ok = 0, error = 1, timeout = 2, crash = 3, oom = 4, host_fault = 5 };

struct RowKey {
    int64_t start_minute = 0;  // the bucket's start, in minutes since the epoch (UTC)
    std::string function;
    uint32_t version = 0;
    StatusCode status = StatusCode::ok;
    RecordKind kind = RecordKind::invocation;

    bool operator==(const RowKey&) const = default;
};

struct RowKeyHash {
    size_t operator()(const RowKey& key) const noexcept;
};

// Sums over the records of a row. Adding throws std::overflow_error past 2^63 - 1 (what
// SQLite stores): a wrong amount of money is worse than a failed write.
struct RowCounts {
    uint64_t count = 0;
    uint64_t cold_starts = 0;
    uint64_t billed_ms = 0;
    uint64_t mb_ms = 0;  // memory_mb x billed_ms
    uint64_t cost_pico_usd = 0;
    uint64_t duration_us_sum = 0;

    void add(const InvocationReport& record);
    void add(const RowCounts& other);
};

// The minute row `record` belongs to.
RowKey minute_key_of(const InvocationReport& record);
int64_t minute_of(WallTime time);  // rounded down
WallTime time_of_minute(int64_t minute);

// One function's rows summed as its summary row counts them, in 128 bits until the end.
struct FunctionSums {
    unsigned __int128 invocations = 0, errors = 0, timeouts = 0, cold_starts = 0;
    unsigned __int128 billed_ms = 0, mb_ms = 0, cost_pico_usd = 0;
    bool empty = true;

    void add(StatusCode status, RecordKind kind, const RowCounts& counts);
    void add(const FunctionSums& other);
};

// Function sums into a billing summary: finish() throws std::overflow_error when a count
// does not fit the summary's 64-bit fields.
class SummaryTotals {
public:
    void add(const std::string& function, const FunctionSums& sums);
    BillingSummary finish() const;

private:
    std::map<std::string, FunctionSums> functions_;  // sorted by name, as summarize() sorts them
};

enum class Resolution { minute, hour, day };

// [first, end) in minutes, read from the rows of `resolution`.
struct Span {
    Resolution resolution;
    int64_t first = 0;
    int64_t end = 0;
};

// The fewest rows' spans that cover [first, end): whole days from day rows, whole hours at
// their edges from hour rows, the minutes left from minute rows (at most 2 x 59 minutes and
// 2 x 23 hours besides the days).
std::vector<Span> cover(int64_t first, int64_t end);

}  // namespace sofaas::rollup
