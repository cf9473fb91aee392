// The billing ledger: one JSON line per invocation in DATA/billing/YYYY-MM-DD.jsonl.
// A record is written (write(2)) before its response leaves, and fsync'd in groups by a
// background thread, so a daemon crash never loses the record of an answered request.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "billing/billing_record.h"

namespace sofaas {

struct LedgerOptions {
    // 0: records are written, never fsync'd. Each group fsync costs the daemon about the
    // same however few records it holds, so the window is the price: on 2 cores under full
    // load, 5 ms cost ~10% of the warm throughput, 10 ms ~5%, 20 ms ~3.5% (bench/NOTES.md).
    std::chrono::milliseconds fsync_interval{20};
};

// How long records waited to be durable: for each group fsync, the time from the group's
// first write(2) to the end of its fsync (the longest any record of the group waited).
// The price of a shorter fsync_interval is throughput (bench/NOTES.md); this is what it buys.
struct LedgerDurability {
    std::chrono::milliseconds fsync_interval{0};  // the window, as configured
    uint64_t group_fsyncs = 0;
    double p50_ms = 0;  // quantiles to 0.1 ms
    double p99_ms = 0;
    double max_ms = 0;
};

struct LedgerQuery {
    std::optional<std::string> function;
    std::optional<WallTime> since;  // inclusive, on the record's start
    std::optional<WallTime> until;  // exclusive
};

class Ledger {
public:
    Ledger(std::filesystem::path billing_dir, LedgerOptions options);
    ~Ledger();  // flushes
    Ledger(const Ledger&) = delete;
    Ledger& operator=(const Ledger&) = delete;

    // Writes the report's billing record. Thread-safe. Returns once the line is written to
    // the file (not necessarily synced); false (and logged with the request id) when it
    // could not be written, e.g. disk full.
    bool append(const InvocationReport& report);
    // Blocks until everything appended so far is fsync'd.
    void flush();
    LedgerDurability durability() const;

    // Reads the ledger files covering the query; torn or corrupt lines are skipped with a
    // warning (their count in `skipped_lines`), never fatal. The records are reports
    // without what the invocations produced (output, captured stdout and stderr).
    std::vector<InvocationReport> query(const LedgerQuery& query, size_t* skipped_lines = nullptr) const;

private:
    struct State;
    std::unique_ptr<State> state_;
};

}  // namespace sofaas
