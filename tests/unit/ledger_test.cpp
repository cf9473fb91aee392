// The ledger when the disk fails: nothing answered without its record, nothing torn left
// behind, recovery without a restart; and the move to the next day's file under load.
#include <gtest/gtest.h>

#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include "billing/billing_record.h"
#include "billing/ledger.h"
#include "support/eventually.h"
#include "support/failing_disk.h"
#include "support/temp_dir.h"
#include "support/test_data.h"

using namespace sofaas;
using sofaas::testing::file_text;
using sofaas::testing::utc;
using namespace std::chrono;
namespace fs = std::filesystem;
using sofaas::testing::eventually;

namespace {

using sofaas::testing::disk_faults;
using sofaas::testing::failing_disk;

InvocationReport record(std::string request_id, WallTime start) {
    InvocationReport r;
    r.request_id = std::move(request_id);
    r.function = "hello";
    r.version = 1;
    r.trigger = Trigger::http;
    r.start = start;
    r.duration_ms = 12.5;
    r.billed_ms = 13;
    r.memory_mb = 128;
    r.max_memory_used_mb = 3;
    r.status = InvocationStatus::ok;
    r.cost_pico_usd = cost_pico_usd(Prices{}, r.memory_mb, r.billed_ms, true);
    return r;
}

size_t count_of(const std::string& text, const std::string& what) {
    size_t count = 0;
    for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++count;
    return count;
}

class LedgerFaultTest : public ::testing::Test {
protected:
    void TearDown() override { disk_faults.clear(); }
    LedgerOptions options() const {
        LedgerOptions options;
        options.fsync_interval = milliseconds(1);
        options.check_interval = milliseconds(10);
        options.reserve_bytes = 0;
        options.file_calls = &failing_disk;
        options.seal_idle = hours(1);  // these tests read the open segments' files
        return options;
    }
    sofaas::testing::TempDir temp{"sofaas-ledger-faults"};
    fs::path billing = temp / "billing";
    fs::path day_file = billing / "2026-11-27.jsonl";  // an older version's
    // The open segment of 2026-11-27 at `hour`.
    fs::path segment(int hour, int sequence = 0) const {
        return billing / ((hour < 10 ? "2026-11-27T0" : "2026-11-27T") + std::to_string(hour) + "." +
                          std::to_string(sequence) + ".tsv");
    }
};

std::string ledger_line(const InvocationReport& r) {
    std::string line;
    append_ledger_line(line, r);
    return line;
}

}  // namespace

TEST_F(LedgerFaultTest, AFullDiskRefusesUntilTheRecordIsWrittenAsAHostFaultAtNoCharge) {
    Ledger ledger(billing, options());
    ASSERT_TRUE(ledger.append(record("before", utc(2026, 11, 27, 1))));
    disk_faults.write_error = ENOSPC;
    EXPECT_FALSE(ledger.append(record("during", utc(2026, 11, 27, 2))));
    EXPECT_FALSE(ledger.writable());
    const LedgerHealth health = ledger.health();
    EXPECT_EQ(health.reason, "billing ledger cannot be written: no space left on device");
    EXPECT_EQ(health.backlog, 1u);
    std::this_thread::sleep_for(milliseconds(50));  // retries fail meanwhile
    EXPECT_FALSE(ledger.writable());

    disk_faults.write_error = 0;  // space again
    ASSERT_TRUE(eventually([&] { return ledger.writable(); }, seconds(1)));
    EXPECT_EQ(ledger.health().backlog, 0u);
    size_t skipped = 0;
    const auto records = ledger.query({}, &skipped);
    EXPECT_EQ(skipped, 0u);
    ASSERT_EQ(records.size(), 2u);
    EXPECT_EQ(records[1].request_id, "during");
    EXPECT_EQ(records[1].status, InvocationStatus::host_fault);
    EXPECT_EQ(records[1].billed_ms, 0u);
    EXPECT_EQ(records[1].cost_pico_usd, 0u);
    EXPECT_EQ(records[1].duration_ms, 12.5);  // what it ran and used is kept
    EXPECT_EQ(records[1].max_memory_used_mb, 3u);
}

TEST_F(LedgerFaultTest, AShortWriteLeavesNoTornLine) {
    Ledger ledger(billing, options());
    ASSERT_TRUE(ledger.append(record("before", utc(2026, 11, 27, 1))));
    disk_faults.write_error = ENOSPC;
    disk_faults.short_write = 30;
    EXPECT_FALSE(ledger.append(record("torn", utc(2026, 11, 27, 2))));
    EXPECT_EQ(file_text(segment(1)), std::string(ledger_line_header) + ledger_line(record("before", utc(2026, 11, 27, 1))));
    disk_faults.write_error = 0;
    ASSERT_TRUE(eventually([&] { return ledger.writable(); }, seconds(1)));
    ASSERT_TRUE(ledger.append(record("after", utc(2026, 11, 27, 3))));
    size_t skipped = 0;
    EXPECT_EQ(ledger.query({}, &skipped).size(), 3u);
    EXPECT_EQ(skipped, 0u);
}

TEST_F(LedgerFaultTest, AFailedFsyncWritesItsGroupAgainAndRefusesUntilThatIsSynced) {
    Ledger ledger(billing, options());
    disk_faults.fsync_error = EIO;
    ASSERT_TRUE(ledger.append(record("unsure", utc(2026, 11, 27, 1))));
    ledger.flush();  // the fsync failed
    EXPECT_FALSE(ledger.writable());
    EXPECT_EQ(ledger.health().reason, "billing records could not be made durable: input/output error");
    std::this_thread::sleep_for(milliseconds(50));  // the rewrite's fsync fails too
    EXPECT_FALSE(ledger.writable());

    disk_faults.fsync_error = 0;
    ASSERT_TRUE(eventually([&] { return ledger.writable(); }, seconds(1)));
    // On disk twice, perhaps (here: surely, the first copy was never lost); counted once.
    EXPECT_GE(count_of(file_text(segment(1)), "unsure\t"), 2u);
    const auto records = ledger.query({});
    ASSERT_EQ(records.size(), 1u);
    EXPECT_EQ(records[0].status, InvocationStatus::ok);
}

TEST_F(LedgerFaultTest, RecordsWrittenAfterAFailedFsyncToTheSameFileAreWrittenAgainToo) {
    Ledger ledger(billing, options());
    disk_faults.fsync_error = EIO;
    ASSERT_TRUE(ledger.append(record("first", utc(2026, 11, 27, 1))));
    ledger.flush();
    disk_faults.fsync_error = 0;
    ASSERT_TRUE(ledger.append(record("second", utc(2026, 11, 27, 2))));  // in flight meanwhile
    ASSERT_TRUE(eventually([&] { return ledger.writable(); }, seconds(1)));
    ledger.flush();
    EXPECT_EQ(ledger.query({}).size(), 2u);
}

TEST_F(LedgerFaultTest, QueriesCountARequestIdOnce) {
    fs::create_directories(billing);
    const std::string line = to_json_line(record("twice", utc(2026, 11, 27, 1)));
    std::ofstream(day_file, std::ios::binary) << line << line << to_json_line(record("once", utc(2026, 11, 27, 2)));
    Ledger ledger(billing, options());
    const auto records = ledger.query({});
    ASSERT_EQ(records.size(), 2u);
    EXPECT_EQ(records[0].request_id, "twice");
    EXPECT_EQ(summarize(records).total.invocations, 2u);
}

TEST_F(LedgerFaultTest, ASegmentMovedOrDeletedIsFollowedByANewOne) {
    Ledger ledger(billing, options());
    ASSERT_TRUE(ledger.append(record("one", utc(2026, 11, 27, 1))));
    fs::rename(segment(1), billing / "moved-away");  // mv
    ASSERT_TRUE(eventually([&] {
        EXPECT_TRUE(ledger.append(record("two", utc(2026, 11, 27, 1))));
        return fs::exists(segment(1, 1));
    }, seconds(1)));
    EXPECT_EQ(count_of(file_text(billing / "moved-away"), "one\t"), 1u);
    EXPECT_EQ(count_of(file_text(segment(1, 1)), "two\t"), 1u);

    fs::remove(segment(1, 1));  // rm
    ASSERT_TRUE(eventually([&] {
        EXPECT_TRUE(ledger.append(record("three", utc(2026, 11, 27, 1))));
        return fs::exists(segment(1, 2));
    }, seconds(1)));
    EXPECT_EQ(count_of(file_text(segment(1, 2)), "three\t"), 1u);
}

TEST_F(LedgerFaultTest, FreeSpaceBelowTheReserveRefusesAndAboveItAdmits) {
    LedgerOptions low = options();
    low.reserve_bytes = uint64_t{1} << 62;  // more than any disk has
    Ledger refusing(billing, low);
    EXPECT_FALSE(refusing.writable());
    EXPECT_EQ(refusing.health().reason, "less than 4398046511104 MiB free on the ledger's filesystem");

    LedgerOptions enough = options();
    enough.reserve_bytes = 1 << 20;
    Ledger admitting(billing, enough);
    EXPECT_TRUE(admitting.writable());
}

// Records take their day from their start (the scheduler's clock when the invocation got
// its slot), so a query by start finds each in the file of its day.
TEST_F(LedgerFaultTest, MidnightUnderConcurrentAppendsLosesAndDuplicatesNothing) {
    const WallTime before_midnight = utc(2026, 11, 27, 23, 59, 59) + milliseconds(990);
    std::atomic<int64_t> ticks{0};  // each reading of the clock is 5 us later
    LedgerOptions crossing = options();
    crossing.clock = [&] { return before_midnight + microseconds(5 * ticks++); };
    constexpr int threads = 4, per_thread = 1000;
    {
        Ledger ledger(billing, crossing);
        std::vector<std::thread> writers;
        for (int t = 0; t < threads; ++t) {
            writers.emplace_back([&, t] {
                for (int i = 0; i < per_thread; ++i) {
                    EXPECT_TRUE(ledger.append(
                        record("r" + std::to_string(t) + "-" + std::to_string(i), crossing.clock())));
                }
            });
        }
        for (auto& writer : writers) writer.join();
        ledger.flush();
        EXPECT_EQ(ledger.query({.until = utc(2026, 11, 28)}).size() + ledger.query({.since = utc(2026, 11, 28)}).size(),
                  size_t(threads * per_thread));
    }
    std::map<std::string, int> seen;
    size_t on_each_day[2] = {0, 0};
    for (const auto& [hour, index] : {std::pair{"2026-11-27T23.0.tsv", 0}, std::pair{"2026-11-28T00.0.tsv", 1}}) {
        std::istringstream lines(file_text(billing / hour));
        for (std::string line; std::getline(lines, line);) {
            if (line.starts_with('#')) continue;  // the header
            const auto parsed = parse_ledger_line(line);
            ASSERT_TRUE(parsed) << line;
            EXPECT_EQ(format_rfc3339(parsed->start).substr(0, 13), std::string(hour).substr(0, 13));
            ++seen[parsed->request_id];
            ++on_each_day[index];
        }
    }
    EXPECT_EQ(seen.size(), size_t(threads * per_thread));
    for (const auto& [id, count] : seen) EXPECT_EQ(count, 1) << id;
    EXPECT_GT(on_each_day[0], 0u);
    EXPECT_GT(on_each_day[1], 0u);
}
