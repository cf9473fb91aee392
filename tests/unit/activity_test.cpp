// A function's activity in time buckets (billing/activity.h) and the throttles the
// scheduler counts for it (scheduler/throttle_history.h).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "billing/activity.h"
#include "scheduler/throttle_history.h"
#include "support/test_data.h"

using namespace sofaas;
using sofaas::testing::utc;
using namespace std::chrono;

namespace {

InvocationReport activity_record(WallTime start, double duration_ms, InvocationStatus status = InvocationStatus::ok,
                        Trigger trigger = Trigger::http) {
    InvocationReport r;
    r.request_id = "req";
    r.function = "charted";
    r.start = start;
    r.duration_ms = duration_ms;
    r.status = status;
    r.trigger = trigger;
    return r;
}


}  // namespace

TEST(Activity, BucketsStartAtMultiplesOfTheStep) {
    const ActivityRange range{utc(2026, 12, 6, 10, 0, 30), utc(2026, 12, 6, 10, 3, 0), seconds(60)};
    EXPECT_EQ(activity_bucket_count(range), 3u);
    const auto buckets = bucket_activity({}, {}, range);
    ASSERT_EQ(buckets.size(), 3u);
    EXPECT_EQ(buckets[0].start, utc(2026, 12, 6, 10, 0, 0));
    EXPECT_EQ(buckets[2].start, utc(2026, 12, 6, 10, 2, 0));
    EXPECT_EQ(buckets[1].invocations, 0u);
    EXPECT_FALSE(buckets[1].duration_p50_ms);
}

TEST(Activity, CountsInvocationsErrorsByStatusAndColdStartsPerBucket) {
    const WallTime t0 = utc(2026, 12, 6, 10);
    std::vector<InvocationReport> records = {
        activity_record(t0 + seconds(1), 5),
        activity_record(t0 + seconds(2), 7, InvocationStatus::error),
        activity_record(t0 + seconds(3), 1000, InvocationStatus::timeout),
        activity_record(t0 + seconds(61), 3, InvocationStatus::crash),
        activity_record(t0 + seconds(62), 2),
        // An init no invocation paid for is no invocation.
        activity_record(t0 + seconds(63), 9, InvocationStatus::ok, Trigger::deploy),
        // Outside the range.
        activity_record(t0 + seconds(180), 1),
        activity_record(t0 - seconds(1), 1),
    };
    records[0].init_ms = 1.5;
    records[5].init_ms = 2.0;
    const auto buckets = bucket_activity(records, {}, ActivityRange{t0, t0 + seconds(120), seconds(60)});
    ASSERT_EQ(buckets.size(), 2u);
    EXPECT_EQ(buckets[0].invocations, 3u);
    EXPECT_EQ(buckets[0].errors, 2u);
    EXPECT_EQ(buckets[0].errors_by_status, (std::map<std::string, uint64_t>{{"error", 1}, {"timeout", 1}}));
    EXPECT_EQ(buckets[0].cold_starts, 1u);
    EXPECT_EQ(buckets[1].invocations, 2u);
    EXPECT_EQ(buckets[1].errors_by_status, (std::map<std::string, uint64_t>{{"crash", 1}}));
    EXPECT_EQ(buckets[1].cold_starts, 0u);
}

TEST(Activity, DurationQuantilesAreNearestRank) {
    const WallTime t0 = utc(2026, 12, 6, 10);
    std::vector<InvocationReport> records;
    for (int i = 100; i >= 1; --i) records.push_back(activity_record(t0 + milliseconds(i), i));  // 1..100 ms, unsorted
    const auto buckets = bucket_activity(records, {}, ActivityRange{t0, t0 + seconds(60), seconds(60)});
    ASSERT_EQ(buckets.size(), 1u);
    EXPECT_DOUBLE_EQ(*buckets[0].duration_p50_ms, 50);
    EXPECT_DOUBLE_EQ(*buckets[0].duration_p99_ms, 99);

    const auto single = bucket_activity({activity_record(t0, 4.25)}, {}, ActivityRange{t0, t0 + seconds(60), seconds(60)});
    EXPECT_DOUBLE_EQ(*single[0].duration_p50_ms, 4.25);
    EXPECT_DOUBLE_EQ(*single[0].duration_p99_ms, 4.25);
}

TEST(Activity, ThrottlesLandInTheirBuckets) {
    const WallTime t0 = utc(2026, 12, 6, 10);
    const std::vector<ThrottleCount> throttles = {{t0 + seconds(5), 3}, {t0 + seconds(70), 2}, {t0 + seconds(500), 9}};
    const auto buckets = bucket_activity({}, throttles, ActivityRange{t0, t0 + seconds(120), seconds(60)});
    ASSERT_EQ(buckets.size(), 2u);
    EXPECT_EQ(buckets[0].throttles, 3u);
    EXPECT_EQ(buckets[1].throttles, 2u);
}

TEST(Activity, JsonNamesEveryFieldAndNullForNoDuration) {
    const WallTime t0 = utc(2026, 12, 6, 10);
    const ActivityRange range{t0, t0 + seconds(120), seconds(60)};
    const auto buckets = bucket_activity({activity_record(t0 + seconds(1), 2.5, InvocationStatus::oom)}, {}, range);
    const auto body = nlohmann::json::parse(activity_to_json("charted", range, buckets));
    EXPECT_EQ(body["function"], "charted");
    EXPECT_EQ(body["step_s"], 60);
    ASSERT_EQ(body["buckets"].size(), 2u);
    const auto& first = body["buckets"][0];
    EXPECT_EQ(first["start"], "2026-12-06T10:00:00.000000Z");
    EXPECT_EQ(first["invocations"], 1);
    EXPECT_EQ(first["errors"], 1);
    EXPECT_EQ(first["errors_by_status"]["oom"], 1);
    EXPECT_EQ(first["duration_p99_ms"], 2.5);
    EXPECT_TRUE(body["buckets"][1]["duration_p50_ms"].is_null());
    EXPECT_EQ(body["buckets"][1]["throttles"], 0);
}

TEST(Activity, AnEmptyOrBackwardRangeHasNoBuckets) {
    const WallTime t0 = utc(2026, 12, 6, 10);
    EXPECT_EQ(activity_bucket_count(ActivityRange{t0, t0, seconds(60)}), 0u);
    EXPECT_EQ(activity_bucket_count(ActivityRange{t0, t0 - seconds(5), seconds(60)}), 0u);
    EXPECT_EQ(activity_bucket_count(ActivityRange{t0, t0 + hours(24), seconds(60)}), 1440u);
    EXPECT_EQ(activity_bucket_count(ActivityRange{t0, t0 + hours(24) + seconds(1), seconds(60)}), 1441u);
}

TEST(ThrottleHistory, CountsPerSecondAndFunction) {
    ThrottleHistory history;
    const WallTime t0 = utc(2026, 12, 6, 10);
    history.record("a", t0 + milliseconds(100));
    history.record("a", t0 + milliseconds(900));
    history.record("a", t0 + milliseconds(1200));
    history.record("b", t0);
    const auto a = history.counts_since("a", t0);
    ASSERT_EQ(a.size(), 2u);
    EXPECT_EQ(a[0].second, t0);
    EXPECT_EQ(a[0].count, 2u);
    EXPECT_EQ(a[1].second, t0 + seconds(1));
    EXPECT_EQ(a[1].count, 1u);
    EXPECT_EQ(history.counts_since("a", t0 + seconds(1)).size(), 1u);
    EXPECT_EQ(history.counts_since("b", t0).size(), 1u);
    EXPECT_TRUE(history.counts_since("c", t0).empty());
    history.remove("a");
    EXPECT_TRUE(history.counts_since("a", t0).empty());
}

TEST(ThrottleHistory, ForgetsWhatIsOlderThanADay) {
    ThrottleHistory history;
    const WallTime t0 = utc(2026, 12, 6, 10);
    history.record("a", t0);
    history.record("a", t0 + hours(24) + seconds(1));
    const auto kept = history.counts_since("a", t0 - hours(1));
    ASSERT_EQ(kept.size(), 1u);
    EXPECT_EQ(kept[0].second, t0 + hours(24) + seconds(1));
}
