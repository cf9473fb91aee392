// The billing ledger: one line per invocation in hourly segments of DATA/billing/
// (segment.h). A record is written (write(2)) before its response leaves, and fsync'd in
// groups by a background thread, so a daemon crash never loses the record of an answered
// request. A second thread seals segments no longer written (compressed, then handed to the
// observer, the rollups) and moves old sealed segments to the archive: neither ever holds up
// an invocation or a group fsync.
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
#include "billing/segment.h"
#include "common/append_only_file.h"

namespace sofaas {

// Told of every record the ledger writes and of every segment it seals: what keeps the
// billing rollups (rollups.h) equal to the records.
class LedgerObserver {
public:
    using Replay = std::function<void(const std::function<void(const InvocationReport&)>&)>;
    virtual ~LedgerObserver() = default;
    // `record` was written to the open segment `segment`; once per record, never again for a
    // record written again after a failed fsync. On the appending thread: must be quick. At
    // start the ledger replays its open segments' records through it, each once.
    virtual void on_record(const InvocationReport& record, std::string_view segment) = 0;
    // `segment` is sealed (or is a day file of an older version): `replay` calls its argument
    // with each of its records once. On the sealing thread; at start for every sealed
    // segment again, so it must be idempotent.
    virtual void on_sealed(std::string_view segment, const Replay& replay) = 0;
};

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
    // An hour's segment this big is closed and the hour's next one started: sealing reads a
    // segment whole, so this bounds its memory (bench/NOTES.md).
    uint64_t segment_max_bytes = 32ull << 20;
    // An hour's last segment is sealed this long after the hour ends (a record is written
    // when its invocation ends, up to the longest timeout after its start), and any segment
    // only once nothing was appended to it for seal_idle.
    std::chrono::seconds seal_after{600};
    std::chrono::seconds seal_idle{5};
    int compression_level = 9;
    // Sealed segments whose hour ended more than archive_after ago are moved to
    // archive_dir (never deleted); 0 or no directory: kept here.
    std::optional<std::filesystem::path> archive_dir;
    std::chrono::hours archive_after{0};
    LedgerObserver* observer = nullptr;  // must outlive the ledger
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

// What the ledger holds on disk, for the operator and the bench.
struct LedgerStorage {
    uint64_t open_segments = 0;
    uint64_t open_bytes = 0;
    uint64_t sealed_segments = 0;
    uint64_t sealed_bytes = 0;
    uint64_t sealed_records = 0;  // sealed by this process (the files do not say)
    uint64_t archived_segments = 0;  // moved by this process
    // Listings of the billing directory for the archive by this process: once a minute and
    // after a seal. Sealing itself needs none (the open segments are known in memory).
    uint64_t archive_listings = 0;
};

struct LedgerQuery {
    std::optional<std::string> function;
    std::optional<WallTime> since;  // inclusive, on the record's start
    std::optional<WallTime> until;  // exclusive
};

class LedgerCursor;

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

    // Reads the segments covering the query, an hour at a time (the memory of one hour's
    // records), and calls `sink` with its records in start order within each hour; stops
    // when `sink` returns false. Torn or corrupt lines are skipped with a warning (their
    // count in `skipped_lines`), never fatal. A record found twice (written again after a
    // failed fsync) counts once. Segments moved to the archive are not read. The records are
    // reports without what the invocations produced (output, captured stdout and stderr).
    void for_each(const LedgerQuery& query, const std::function<bool(InvocationReport&&)>& sink,
                  size_t* skipped_lines = nullptr) const;
    // for_each's records, all of them, by start.
    std::vector<InvocationReport> query(const LedgerQuery& query, size_t* skipped_lines = nullptr) const;
    // for_each's reading, a step at a time (an export streamed to a slow reader): the
    // segments are listed now, read as the cursor moves on.
    LedgerCursor cursor(const LedgerQuery& query) const;

    // Seals, now, every segment that is due (the sealing thread does it every
    // check_interval) and moves what is due to the archive; returns the segments sealed.
    size_t seal_due();
    LedgerStorage storage() const;

private:
    struct State;
    struct Sealer;
    std::unique_ptr<State> state_;
    std::atomic<bool> writable_{true};  // set by State, under its mutex
};

// The records of a query, an hour's segments at a time.
class LedgerCursor {
public:
    // The next hour's records that match (start order; none twice); empty once every
    // segment was read. Torn or corrupt lines are logged and counted, never thrown.
    std::vector<InvocationReport> next();
    size_t skipped_lines() const { return skipped_; }

private:
    friend class Ledger;
    LedgerQuery query_;
    std::vector<SegmentFile> segments_;  // by begins, the hours still to read
    size_t position_ = 0;
    size_t skipped_ = 0;
};

}  // namespace sofaas
