// Billing rollups: the ledger's records summed per function, version, status and minute
// (and hour, and day), so that a summary over any range reads a bounded number of rows
// instead of every record. Rows of sealed segments live in SQLite (DATA/billing/rollups.db);
// rows of the open segments live in memory, rebuilt at start by replaying those segments.
// Summaries cover whole minutes: `since` is rounded down, `until` up (docs/BILLING.md).
#pragma once

#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "billing/billing_record.h"
#include "common/invocation_report.h"
#include "common/time.h"

namespace sofaas {

struct RollupQuery {
    std::optional<std::string> function;
    std::optional<WallTime> since;  // inclusive, rounded down to the minute
    std::optional<WallTime> until;  // exclusive, rounded up to the minute
};

// A summary and the whole minutes it covers (nullopt: unbounded on that side).
struct RollupSummary {
    BillingSummary summary;
    std::optional<WallTime> since;
    std::optional<WallTime> until;
};

// Replays a sealed segment's records, each once, to the visitor it is given.
using RecordReplay = std::function<void(const std::function<void(const InvocationReport&)>&)>;

class Rollups {
public:
    // Opens (creating it if missing) the rollup database; a damaged one is moved aside to
    // DATABASE.damaged and started again empty, to be rebuilt by seal(). Throws SqliteError
    // when it cannot.
    explicit Rollups(const std::filesystem::path& database);
    ~Rollups();
    Rollups(const Rollups&) = delete;
    Rollups& operator=(const Rollups&) = delete;

    // `record` was written to the open segment `segment` ("2026-12-06T13.0"). Thread-safe
    // and quick (memory only): called on invocation threads, once per record.
    void add(const InvocationReport& record, std::string_view segment);

    // `segment` is closed for good: its rows, rebuilt from `replay`, are added to the
    // database together with its name, in one transaction; then its rows in memory are
    // dropped. A segment already sealed is skipped, so sealing every segment at start
    // rebuilds whatever a crash or a deleted database lost. add() is never held up by the
    // replay or the writes. Throws SqliteError when the database cannot be written (nothing
    // of the segment is then in it; the rows in memory stay).
    void seal(std::string_view segment, const RecordReplay& replay);
    bool sealed(std::string_view segment) const;

    // Sums the sealed rows and those in memory over whole minutes. Thread-safe.
    RollupSummary summarize(const RollupQuery& query) const;

private:
    struct State;
    std::unique_ptr<State> state_;
};

}  // namespace sofaas
