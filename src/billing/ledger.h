// The billing ledger: one JSON line per invocation in DATA/billing/YYYY-MM-DD.jsonl.
// A record is written (write(2)) before its response leaves, and fsync'd in groups by a
// background thread, so a daemon crash never loses the record of an answered request.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "billing/billing_record.h"
#include "common/append_only_file.h"

namespace sofaas {

struct LedgerOptions {
    // 0: records are written, never fsync'd. Each group fsync costs the daemon about the
    // same however few records it holds, so the window is the price: on 2 cores under full
    // load, 5 ms cost ~10% of the warm throughput, 10 ms ~5%, 20 ms ~3.5% (bench/NOTES.md).
    std::chrono::milliseconds fsync_interval{20};
    // Below this much free space on the billing directory's filesystem the ledger refuses
    // (writable() is false) before writes start failing; 0: no reserve.
    uint64_t reserve_bytes = 64ull << 20;
    // How often the background thread looks at the free space, at files rotated away or
    // deleted, and retries what could not be written.
    std::chrono::milliseconds check_interval{100};
    // Records that could not be written are kept, up to this many, to be written once the
    // ledger can write again; beyond it they are lost (counted and logged).
    size_t max_backlog = 100'000;
    // Today, for closing the files of past days; tests move it across midnight.
    std::function<WallTime()> clock = wall_now;
    // The file layer's system calls; tests inject a failing disk here.
    const FileCalls* file_calls = &real_file_calls;
};

// Whether the ledger can record invocations now, and if not, why.
struct LedgerHealth {
    bool writable = true;
    std::string reason;  // when not writable; names no path, fit for any caller
    uint64_t backlog = 0;  // records of answered invocations waiting to be written
    uint64_t lost = 0;     // records dropped, the backlog being full, since the start
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

// The same waits as a histogram with the caller's bucket bounds (seconds, increasing):
// counts per bucket (not cumulative), the last those over every bound, and their sum.
struct LedgerFsyncWaits {
    std::vector<uint64_t> counts;
    double sum_seconds = 0;
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
    // the file (not necessarily synced). False when it could not be written (a full disk,
    // EIO, a read-only filesystem): the ledger is then not writable() until the background
    // thread has written the record, as status host_fault at no charge (its caller must be
    // told the host failed), behind the records of the invocations that follow.
    bool append(const InvocationReport& report);
    // Blocks until everything appended so far is fsync'd, or its fsync failed (the ledger
    // then writes those records again before it is writable()).
    void flush();
    LedgerDurability durability() const;
    LedgerFsyncWaits fsync_waits(std::span<const double> bounds) const;

    // False while records cannot be written or made durable, or free space is below the
    // reserve: invocations must not start. One atomic load, for the warm path.
    bool writable() const noexcept { return writable_.load(std::memory_order_relaxed); }
    LedgerHealth health() const;

    // Reads the ledger files covering the query; torn or corrupt lines are skipped with a
    // warning (their count in `skipped_lines`), never fatal. A record found twice (written
    // again after a failed fsync) counts once. The records are reports without what the
    // invocations produced (output, captured stdout and stderr).
    std::vector<InvocationReport> query(const LedgerQuery& query, size_t* skipped_lines = nullptr) const;

private:
    struct State;
    std::unique_ptr<State> state_;
    std::atomic<bool> writable_{true};  // set by State, under its mutex
};

}  // namespace sofaas
