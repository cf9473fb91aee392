#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <fstream>
#include <map>
#include <random>
#include <thread>

#include "billing/billing_record.h"
#include "billing/rollup_rows.h"
#include "billing/rollups.h"
#include "common/money.h"
#include "support/temp_dir.h"
#include "support/test_data.h"

using namespace sofaas;
using sofaas::testing::TempDir;
using sofaas::testing::utc;
using namespace std::chrono;

namespace {

// The ledger's segment of a record: its hour ("2026-12-06T13.0").
std::string segment_of(const InvocationReport& record) {
    return format_rfc3339(record.start).substr(0, 13) + ".0";
}

// Records at random over `days` days from `first`, of a few functions, every trigger and
// billed status, some with a cold start.
std::vector<InvocationReport> random_records(std::mt19937_64& random, WallTime first, int days, size_t count) {
    static const std::vector<std::string> functions = {"alpha", "beta", "gamma", "delta", "épsilon"};
    static const std::vector<Trigger> triggers = {Trigger::http, Trigger::invoke, Trigger::lambda_api, Trigger::async,
                                                  Trigger::schedule, Trigger::warm, Trigger::deploy};
    static const std::vector<InvocationStatus> statuses = {InvocationStatus::ok,    InvocationStatus::ok,
                                                           InvocationStatus::error, InvocationStatus::timeout,
                                                           InvocationStatus::crash, InvocationStatus::oom,
                                                           InvocationStatus::host_fault};
    const auto pick = [&random](const auto& from) { return from[random() % from.size()]; };
    std::vector<InvocationReport> records;
    for (size_t i = 0; i < count; ++i) {
        InvocationReport record;
        record.request_id = "req-" + std::to_string(i);
        record.function = pick(functions);
        record.version = 1 + static_cast<uint32_t>(random() % 3);
        record.trigger = pick(triggers);
        record.status = pick(statuses);
        record.start = first + microseconds(random() % (uint64_t{86'400'000'000} * days));
        record.duration_ms = static_cast<double>(random() % 5'000'000) / 1000.0;
        if (random() % 4 == 0) record.init_ms = static_cast<double>(random() % 900'000) / 1000.0;
        record.memory_mb = 128 << (random() % 7);
        record.billed_ms = record.status == InvocationStatus::host_fault
                               ? 0
                               : billed_milliseconds(record.duration_ms, record.init_ms);
        record.cost_pico_usd = record.billed_ms == 0 ? 0 : 200'000 + random() % 10'000'000'000ULL;
        records.push_back(std::move(record));
    }
    return records;
}

// What a full scan of the records answers over the summary's effective range.
BillingSummary scanned(const std::vector<InvocationReport>& records, const RollupQuery& query,
                       const RollupSummary& answer) {
    std::vector<InvocationReport> in_range;
    for (const auto& record : records) {
        if (query.function && record.function != *query.function) continue;
        if (answer.since && record.start < *answer.since) continue;
        if (answer.until && record.start >= *answer.until) continue;
        in_range.push_back(record);
    }
    return summarize(in_range);
}

void expect_same_row(const BillingSummaryRow& expected, const BillingSummaryRow& actual, const std::string& what) {
    EXPECT_EQ(expected.function, actual.function) << what;
    EXPECT_EQ(expected.invocations, actual.invocations) << what << " " << expected.function;
    EXPECT_EQ(expected.errors, actual.errors) << what << " " << expected.function;
    EXPECT_EQ(expected.timeouts, actual.timeouts) << what << " " << expected.function;
    EXPECT_EQ(expected.cold_starts, actual.cold_starts) << what << " " << expected.function;
    EXPECT_EQ(expected.billed_ms, actual.billed_ms) << what << " " << expected.function;
    EXPECT_EQ(integer_text(expected.mb_ms), integer_text(actual.mb_ms)) << what << " " << expected.function;
    EXPECT_EQ(integer_text(expected.cost_pico_usd), integer_text(actual.cost_pico_usd)) << what << " " << expected.function;
}

void expect_same_summary(const BillingSummary& expected, const BillingSummary& actual, const std::string& what) {
    ASSERT_EQ(expected.functions.size(), actual.functions.size()) << what;
    for (size_t i = 0; i < expected.functions.size(); ++i) {
        expect_same_row(expected.functions[i], actual.functions[i], what);
    }
    expect_same_row(expected.total, actual.total, what + " (total)");
}

std::map<std::string, std::vector<InvocationReport>> by_segment(const std::vector<InvocationReport>& records) {
    std::map<std::string, std::vector<InvocationReport>> segments;
    for (const auto& record : records) segments[segment_of(record)].push_back(record);
    return segments;
}

RecordReplay replay_of(const std::vector<InvocationReport>& records) {
    return [&records](const std::function<void(const InvocationReport&)>& visit) {
        for (const auto& record : records) visit(record);
    };
}

// Each record added to its segment, as the ledger does when it writes it.
void add_all(Rollups& rollups, const std::vector<InvocationReport>& records) {
    for (const auto& record : records) rollups.add(record, segment_of(record));
}

// A random bound: none, a whole day or hour, or any microsecond of the span.
std::optional<WallTime> random_bound(std::mt19937_64& random, WallTime first, int days) {
    const auto day = duration_cast<microseconds>(hours(24));
    switch (random() % 5) {
        case 0: return std::nullopt;
        case 1: return first + day * static_cast<int64_t>(random() % (days + 1));
        case 2: return first + duration_cast<microseconds>(hours(random() % (24 * days + 1)));
        default: return first - hours(1) + microseconds(random() % (uint64_t{86'400'000'000} * days + 7'200'000'000ULL));
    }
}

}  // namespace

TEST(Rollups, SummariesEqualAFullScanOverRandomRangesOfRandomLedgers) {
    const WallTime first = utc(2026, 12, 3, 0, 0);
    constexpr int days = 3;
    for (uint64_t seed = 1; seed <= 12; ++seed) {
        std::mt19937_64 random(seed);
        TempDir dir("rollups-test");
        Rollups rollups(dir / "rollups.db");
        const auto records = random_records(random, first, days, 3000);
        add_all(rollups, records);
        // Most segments sealed, the last hours still open: both kinds of rows are summed.
        const auto segments = by_segment(records);
        size_t left_open = random() % 6;
        size_t index = 0;
        for (const auto& [segment, in_segment] : segments) {
            if (index++ + left_open >= segments.size()) break;
            rollups.seal(segment, replay_of(in_segment));
        }
        for (int i = 0; i < 40; ++i) {
            RollupQuery query;
            query.since = random_bound(random, first, days);
            query.until = random_bound(random, first, days);
            if (random() % 3 == 0) query.function = random() % 2 ? "beta" : "nobody";
            const RollupSummary answer = rollups.summarize(query);
            const std::string what = "seed " + std::to_string(seed) + " query " + std::to_string(i);
            expect_same_summary(scanned(records, query, answer), answer.summary, what);
            if (::testing::Test::HasFailure()) return;
        }
    }
}

TEST(Rollups, SummariesCoverWholeMinutesAndSayWhich) {
    TempDir dir("rollups-test");
    Rollups rollups(dir / "rollups.db");
    RollupQuery query;
    query.since = utc(2026, 12, 6, 23, 59, 30, 5);
    query.until = utc(2026, 12, 7, 0, 0, 0, 1);
    const RollupSummary answer = rollups.summarize(query);
    EXPECT_EQ(answer.since, utc(2026, 12, 6, 23, 59));
    EXPECT_EQ(answer.until, utc(2026, 12, 7, 0, 1));
    query.until = utc(2026, 12, 7);
    EXPECT_EQ(rollups.summarize(query).until, utc(2026, 12, 7));
    EXPECT_FALSE(rollups.summarize(RollupQuery{}).since.has_value());
}

TEST(Rollups, MidnightAndHourBoundariesSplitRecordsExactly) {
    TempDir dir("rollups-test");
    Rollups rollups(dir / "rollups.db");
    std::mt19937_64 random(7);
    auto records = random_records(random, utc(2026, 12, 6), 1, 4);
    records[0].start = utc(2026, 12, 6, 23, 59, 59, 999'999);
    records[1].start = utc(2026, 12, 7);
    records[2].start = utc(2026, 12, 7, 0, 59, 59, 999'999);
    records[3].start = utc(2026, 12, 7, 1);
    for (auto& record : records) record.trigger = Trigger::http;
    add_all(rollups, records);
    rollups.seal(segment_of(records[0]), replay_of({records[0]}));
    rollups.seal(segment_of(records[1]), replay_of({records[1], records[2]}));

    const auto invocations = [&](WallTime since, WallTime until) {
        return rollups.summarize(RollupQuery{std::nullopt, since, until}).summary.total.invocations;
    };
    EXPECT_EQ(invocations(utc(2026, 12, 6), utc(2026, 12, 7)), 1u);
    EXPECT_EQ(invocations(utc(2026, 12, 7), utc(2026, 12, 7, 1)), 2u);
    EXPECT_EQ(invocations(utc(2026, 12, 7, 1), utc(2026, 12, 8)), 1u);
    EXPECT_EQ(invocations(utc(2026, 12, 6, 23, 59), utc(2026, 12, 7, 0, 1)), 2u);
}

TEST(Rollups, SealingTwiceCountsASegmentOnce) {
    TempDir dir("rollups-test");
    Rollups rollups(dir / "rollups.db");
    std::mt19937_64 random(3);
    const auto records = random_records(random, utc(2026, 12, 6, 13), 1, 200);
    const auto segments = by_segment(records);
    add_all(rollups, records);
    for (const auto& [segment, in_segment] : segments) rollups.seal(segment, replay_of(in_segment));
    for (const auto& [segment, in_segment] : segments) {
        EXPECT_TRUE(rollups.sealed(segment));
        rollups.seal(segment, replay_of(in_segment));
    }
    EXPECT_FALSE(rollups.sealed("2020-01-01T00.0"));
    expect_same_summary(summarize(records), rollups.summarize(RollupQuery{}).summary, "sealed twice");
}

TEST(Rollups, RecordsAddedToASealedSegmentAreNotCountedAgain) {
    TempDir dir("rollups-test");
    Rollups rollups(dir / "rollups.db");
    std::mt19937_64 random(4);
    auto records = random_records(random, utc(2026, 12, 6, 13), 1, 50);
    for (auto& record : records) record.start = utc(2026, 12, 6, 13, 30);
    rollups.seal(segment_of(records[0]), replay_of(records));
    add_all(rollups, records);  // a sealed segment replayed as if open
    expect_same_summary(summarize(records), rollups.summarize(RollupQuery{}).summary, "added after seal");
}

TEST(Rollups, DeletedDatabaseIsRebuiltBySealingEverySegmentAgain) {
    TempDir dir("rollups-test");
    std::mt19937_64 random(5);
    const auto records = random_records(random, utc(2026, 12, 5, 22), 2, 1000);
    const auto segments = by_segment(records);
    {
        Rollups rollups(dir / "rollups.db");
        for (const auto& [segment, in_segment] : segments) rollups.seal(segment, replay_of(in_segment));
    }
    for (const char* file : {"rollups.db", "rollups.db-wal", "rollups.db-shm"}) std::filesystem::remove(dir / file);
    Rollups rebuilt(dir / "rollups.db");
    EXPECT_EQ(rebuilt.summarize(RollupQuery{}).summary.total.invocations, 0u);
    for (const auto& [segment, in_segment] : segments) {
        EXPECT_FALSE(rebuilt.sealed(segment));
        rebuilt.seal(segment, replay_of(in_segment));
    }
    expect_same_summary(summarize(records), rebuilt.summarize(RollupQuery{}).summary, "rebuilt");
}

TEST(Rollups, RecordOfAnOpenSegmentCountsOnceAfterARestartReplaysIt) {
    TempDir dir("rollups-test");
    std::mt19937_64 random(6);
    const auto records = random_records(random, utc(2026, 12, 6, 13), 1, 300);
    const auto segments = by_segment(records);
    {
        Rollups before_crash(dir / "rollups.db");
        add_all(before_crash, records);
        // Gone without a seal, as with kill -9: the rows in memory are lost.
    }
    Rollups restarted(dir / "rollups.db");
    add_all(restarted, records);  // the ledger replays its open segments at start
    expect_same_summary(summarize(records), restarted.summarize(RollupQuery{}).summary, "replayed");
    for (const auto& [segment, in_segment] : segments) restarted.seal(segment, replay_of(in_segment));
    expect_same_summary(summarize(records), restarted.summarize(RollupQuery{}).summary, "replayed, then sealed");
}

// While one segment is sealed and another written, every summary counts the sealed one's
// records exactly once (in memory or in the database, never both or neither).
TEST(Rollups, SealConcurrentWithAddsAndSummariesCountsEachRecordOnce) {
    TempDir dir("rollups-test");
    Rollups rollups(dir / "rollups.db");
    std::mt19937_64 random(8);
    auto sealed_records = random_records(random, utc(2026, 12, 6, 12), 1, 2000);
    for (auto& record : sealed_records) {
        record.start = utc(2026, 12, 6, 12) + microseconds(random() % 3'600'000'000ULL);
        record.trigger = Trigger::http;
    }
    auto open_records = random_records(random, utc(2026, 12, 6, 13), 1, 20000);
    for (auto& record : open_records) {
        record.start = utc(2026, 12, 6, 13) + microseconds(random() % 3'600'000'000ULL);
        record.trigger = Trigger::http;
    }
    add_all(rollups, sealed_records);

    std::atomic<size_t> added{0};
    std::atomic<bool> sealed{false};
    std::thread writer([&] {
        for (const auto& record : open_records) {
            rollups.add(record, segment_of(record));
            added.fetch_add(1);
        }
    });
    std::thread sealer([&] {
        rollups.seal("2026-12-06T12.0", replay_of(sealed_records));
        sealed = true;
    });
    size_t summaries = 0;
    bool counted_once = true;
    while (counted_once && (!sealed || added < open_records.size())) {
        const size_t before = added.load();
        const uint64_t total = rollups.summarize(RollupQuery{}).summary.total.invocations;
        const size_t after = added.load();
        // The writer's add in progress may be in the summary before it is counted here.
        counted_once = total >= sealed_records.size() + before && total <= sealed_records.size() + after + 1;
        EXPECT_TRUE(counted_once) << total << " invocations summed; " << sealed_records.size() << " sealed and "
                                  << before << " to " << after << " added";
        ++summaries;
    }
    writer.join();
    sealer.join();
    EXPECT_GT(summaries, 0u);
    std::vector<InvocationReport> all = sealed_records;
    all.insert(all.end(), open_records.begin(), open_records.end());
    expect_same_summary(summarize(all), rollups.summarize(RollupQuery{}).summary, "after the seal");
}

TEST(Rollups, SummaryReadsABoundedNumberOfSpans) {
    std::mt19937_64 random(9);
    for (int i = 0; i < 10000; ++i) {
        const int64_t first = static_cast<int64_t>(random() % 200'000) - 100'000;
        const int64_t end = first + static_cast<int64_t>(random() % 100'000);
        const auto spans = rollup::cover(first, end);
        ASSERT_LE(spans.size(), 5u);
        int64_t next = first;
        int minute_spans = 0;
        for (const auto& span : spans) {
            ASSERT_EQ(span.first, next);
            ASSERT_LT(span.first, span.end);
            const int64_t unit = span.resolution == rollup::Resolution::day    ? rollup::minutes_per_day
                                 : span.resolution == rollup::Resolution::hour ? rollup::minutes_per_hour
                                                                               : 1;
            ASSERT_EQ(((span.first % unit) + unit) % unit, 0);
            ASSERT_EQ(((span.end % unit) + unit) % unit, 0);
            // Never a whole hour of minute rows, nor a whole day of hour rows, between
            // two boundaries.
            if (span.resolution == rollup::Resolution::minute) {
                ASSERT_LT(span.end - span.first, 2 * rollup::minutes_per_hour);
                ++minute_spans;
            }
            if (span.resolution == rollup::Resolution::hour) {
                ASSERT_LT(span.end - span.first, 2 * rollup::minutes_per_day);
            }
            next = span.end;
        }
        ASSERT_EQ(next, first < end ? end : first);
        ASSERT_LE(minute_spans, 2);
    }
}

// A sum past what SQLite stores fails the seal, whole, rather than store a rounded amount.
TEST(Rollups, ASealWhoseSumWouldOverflowFailsWhole) {
    TempDir dir("rollups-test");
    Rollups rollups(dir / "rollups.db");
    std::mt19937_64 random(10);
    auto records = random_records(random, utc(2026, 12, 6, 13), 1, 1);
    records[0].start = utc(2026, 12, 6, 13, 30);
    records[0].cost_pico_usd = (uint64_t{1} << 62) + 1;
    records.push_back(records[0]);  // the same row's, in the hour's next segment
    records[1].request_id = "req-next";
    rollups.seal("2026-12-06T13.0", replay_of({records[0]}));
    EXPECT_ANY_THROW(rollups.seal("2026-12-06T13.1", replay_of({records[1]})));
    EXPECT_FALSE(rollups.sealed("2026-12-06T13.1"));
    expect_same_summary(summarize({records[0]}), rollups.summarize(RollupQuery{}).summary, "after the failed seal");
}

TEST(Rollups, ADamagedDatabaseIsMovedAsideAndRebuilt) {
    TempDir dir("rollups-test");
    std::ofstream(dir / "rollups.db") << std::string(8192, 'x');
    std::mt19937_64 random(11);
    const auto records = random_records(random, utc(2026, 12, 6, 13), 1, 100);
    Rollups rollups(dir / "rollups.db");
    for (const auto& [segment, in_segment] : by_segment(records)) rollups.seal(segment, replay_of(in_segment));
    expect_same_summary(summarize(records), rollups.summarize(RollupQuery{}).summary, "rebuilt");
    EXPECT_EQ(sofaas::testing::file_text(dir / "rollups.db.damaged"), std::string(8192, 'x'));
}
