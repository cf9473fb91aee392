// Shipping a node's billing records to the cluster's PostgreSQL table
// (cluster/billing_shipper.h), against a real server (support/postgres_server.h).
#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "billing/ledger.h"
#include "cluster/billing_shipper.h"
#include "cluster/cluster_billing.h"
#include "store/postgres_connection.h"
#include "support/postgres_server.h"
#include "support/temp_dir.h"
#include "support/test_data.h"

using namespace sofaas;
using namespace sofaas::testing;
using namespace std::chrono;

namespace {

InvocationReport shipped_record(std::string request_id, WallTime start) {
    InvocationReport r;
    r.request_id = std::move(request_id);
    r.function = "hello";
    r.version = 4;
    r.trigger = Trigger::async;
    r.attempt = 2;
    r.start = start;
    r.duration_ms = 1.234;
    r.init_ms = 250.5;
    r.billed_ms = 252;
    r.memory_mb = 128;
    r.max_memory_used_mb = 17;
    r.status = InvocationStatus::error;
    r.cost_pico_usd = 725'000;
    r.principal = Principal{"ASIAEXAMPLE", "reader", "user-1", ""};
    return r;
}

// A ledger whose sealing the test drives (seal_due()), its clock past the records' hour.
LedgerOptions driven_ledger(LedgerObserver* observer) {
    LedgerOptions o;
    o.fsync_interval = milliseconds(1);
    o.reserve_bytes = 0;
    o.seal_idle = seconds(0);
    o.check_interval = seconds(3600);
    o.clock = [] { return utc(2026, 12, 6, 12); };
    o.observer = observer;
    return o;
}

const WallTime eight = utc(2026, 12, 6, 8);

// For a database that is down: asked again every 100 ms, not every second.
BillingShipperOptions retrying_soon() {
    BillingShipperOptions options;
    options.retry_delay = milliseconds(100);
    return options;
}

class BillingShipperTest : public ::testing::Test {
protected:
    int64_t count(const std::string& url, const std::string& where = "TRUE") {
        PostgresConnection db(url);
        return db.run("SELECT count(*) FROM billing_records WHERE " + where).integer(0, 0);
    }

    TempDir temp{"sofaas-shipper"};
    std::filesystem::path billing = temp / "billing";
};

}  // namespace

TEST_F(BillingShipperTest, EveryRecordWrittenReachesTheTableOnceWithEveryColumn) {
    const std::string url = PostgresServer::shared().create_database();
    BillingShipper shipper(url, "node-a", billing);
    Ledger ledger(billing, driven_ledger(&shipper));
    const WallTime start = eight + minutes(3) + microseconds(123'456);
    ASSERT_TRUE(ledger.append(shipped_record("r-1", start)));
    for (int i = 2; i <= 50; ++i) ASSERT_TRUE(ledger.append(shipped_record("r-" + std::to_string(i), eight + minutes(i))));
    ASSERT_TRUE(shipper.wait_idle(seconds(20))) << shipper.status().failure.value_or("");
    EXPECT_EQ(count(url), 50);

    PostgresConnection db(url);
    PostgresRows row = db.run(
        "SELECT node, function, version, trigger, attempt, start_us, duration_us, init_us, billed_ms, memory_mb, "
        "max_memory_used_mb, status, cost_pico_usd, key_id, role, user_sub, "
        "to_char(start_time AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US') FROM billing_records WHERE request_id = 'r-1'");
    ASSERT_EQ(row.size(), 1u);
    EXPECT_EQ(row.text(0, 0), "node-a");
    EXPECT_EQ(row.text(0, 1), "hello");
    EXPECT_EQ(row.integer(0, 2), 4);
    EXPECT_EQ(row.text(0, 3), "async");
    EXPECT_EQ(row.integer(0, 4), 2);
    EXPECT_EQ(row.integer(0, 5), duration_cast<microseconds>(start.time_since_epoch()).count());
    EXPECT_EQ(row.integer(0, 6), 1234);
    EXPECT_EQ(row.integer(0, 7), 250500);
    EXPECT_EQ(row.integer(0, 8), 252);
    EXPECT_EQ(row.integer(0, 9), 128);
    EXPECT_EQ(row.integer(0, 10), 17);
    EXPECT_EQ(row.text(0, 11), "error");
    EXPECT_EQ(row.integer(0, 12), 725000);
    EXPECT_EQ(row.text(0, 13), "ASIAEXAMPLE");
    EXPECT_EQ(row.text(0, 14), "reader");
    EXPECT_EQ(row.text(0, 15), "user-1");
    EXPECT_EQ(row.text(0, 16), "2026-12-06 08:03:00.123456");

    // Sealed: every record came through the queue, so the segment is known whole without
    // being read back.
    ledger.flush();
    EXPECT_EQ(ledger.seal_due(), 1u);
    ASSERT_TRUE(shipper.wait_idle(seconds(20)));
    EXPECT_EQ(shipper.status().shipped_segments, 1u);
    EXPECT_EQ(shipper.status().shipped_records, 50u);
    EXPECT_EQ(db.run("SELECT segment, node FROM billing_shipped_segments").text(0, 0), "2026-12-06T08.0");
}

TEST_F(BillingShipperTest, RecordsWrittenWhileTheDatabaseIsDownAreShippedWhenItIsBack) {
    PostgresServer server;  // its own: stopped and started here
    const std::string url = server.create_database();
    server.stop();
    const BillingShipperOptions options = retrying_soon();
    BillingShipper shipper(url, "node-a", billing, options);
    Ledger ledger(billing, driven_ledger(&shipper));
    for (int i = 0; i < 20; ++i) ASSERT_TRUE(ledger.append(shipped_record("down-" + std::to_string(i), eight)));
    EXPECT_FALSE(shipper.wait_idle(milliseconds(500)));
    EXPECT_TRUE(shipper.status().failure.has_value());
    EXPECT_EQ(shipper.status().queued_records, 20u);
    server.start();
    ASSERT_TRUE(shipper.wait_idle(seconds(20))) << shipper.status().failure.value_or("");
    EXPECT_EQ(count(url), 20);
    EXPECT_FALSE(shipper.status().failure.has_value());
}

TEST_F(BillingShipperTest, ARestartShipsWhatTheLastRunDidNotAndNothingTwice) {
    PostgresServer server;
    const std::string url = server.create_database();
    server.stop();
    const BillingShipperOptions options = retrying_soon();
    {
        // The database is away for the whole run: the records wait in the queue, and go
        // with the run.
        BillingShipper shipper(url, "node-a", billing, options);
        Ledger ledger(billing, driven_ledger(&shipper));
        for (int i = 0; i < 30; ++i) ASSERT_TRUE(ledger.append(shipped_record("sealed-" + std::to_string(i), eight)));
        ledger.flush();
        EXPECT_EQ(ledger.seal_due(), 1u);
        for (int i = 0; i < 7; ++i) {
            ASSERT_TRUE(ledger.append(shipped_record("open-" + std::to_string(i), utc(2026, 12, 6, 11, 30))));
        }
    }
    server.start();
    {
        BillingShipper shipper(url, "node-a", billing, options);
        Ledger ledger(billing, driven_ledger(&shipper));
        ASSERT_TRUE(shipper.wait_idle(seconds(20))) << shipper.status().failure.value_or("");
        EXPECT_EQ(count(url), 37);  // the sealed segment read back, the open one replayed by the ledger
        EXPECT_EQ(shipper.status().shipped_segments, 1u);
        EXPECT_EQ(shipper.status().shipped_records, 37u);
    }
    {
        BillingShipper shipper(url, "node-a", billing, options);
        Ledger ledger(billing, driven_ledger(&shipper));
        ASSERT_TRUE(shipper.wait_idle(seconds(20)));
        EXPECT_EQ(count(url), 37);
        // The sealed segment is known shipped: not read again. The open one is replayed by
        // the ledger at every start, and stored once.
        EXPECT_EQ(shipper.status().shipped_records, 7u);
    }
}

TEST_F(BillingShipperTest, RecordsDroppedFromAFullQueueAreReadBackFromTheirSegment) {
    PostgresServer server;
    const std::string url = server.create_database();
    server.stop();
    BillingShipperOptions options = retrying_soon();
    options.max_queued = 10;
    options.batch_records = 7;  // read back in several batches, the last one short
    BillingShipper shipper(url, "node-a", billing, options);
    Ledger ledger(billing, driven_ledger(&shipper));
    for (int i = 0; i < 30; ++i) ASSERT_TRUE(ledger.append(shipped_record("full-" + std::to_string(i), eight)));
    EXPECT_EQ(shipper.status().dropped_records, 20u);
    ledger.flush();
    EXPECT_EQ(ledger.seal_due(), 1u);
    server.start();
    ASSERT_TRUE(shipper.wait_idle(seconds(20))) << shipper.status().failure.value_or("");
    EXPECT_EQ(count(url), 30);
    EXPECT_EQ(shipper.status().shipped_segments, 1u);
}

TEST_F(BillingShipperTest, TwoNodesShareTheTableAndARecordIsKeyedByItsRun) {
    const std::string url = PostgresServer::shared().create_database();
    TempDir other{"sofaas-shipper-b"};
    BillingShipper a(url, "node-a", billing);
    BillingShipper b(url, "node-b", other / "billing");
    Ledger ledger_a(billing, driven_ledger(&a));
    Ledger ledger_b(other / "billing", driven_ledger(&b));
    ASSERT_TRUE(ledger_a.append(shipped_record("same-run", eight)));
    ASSERT_TRUE(ledger_b.append(shipped_record("same-run", eight)));  // e.g. a queued event's run seen by both
    InvocationReport next = shipped_record("same-run", eight);
    next.attempt = 3;
    ASSERT_TRUE(ledger_b.append(next));
    ASSERT_TRUE(a.wait_idle(seconds(20)));
    ASSERT_TRUE(b.wait_idle(seconds(20)));
    EXPECT_EQ(count(url), 2);
    EXPECT_EQ(count(url, "attempt = 3 AND node = 'node-b'"), 1);
}

TEST_F(BillingShipperTest, TheClusterSummaryEqualsTheLedgersOwnOverAnyRange) {
    const std::string url = PostgresServer::shared().create_database();
    BillingShipper shipper(url, "node-a", billing);
    Ledger ledger(billing, driven_ledger(&shipper));
    const Trigger triggers[] = {Trigger::http, Trigger::invoke, Trigger::async, Trigger::warm, Trigger::deploy};
    const InvocationStatus statuses[] = {InvocationStatus::ok, InvocationStatus::error, InvocationStatus::timeout,
                                         InvocationStatus::crash, InvocationStatus::oom, InvocationStatus::throttled};
    for (int i = 0; i < 300; ++i) {
        InvocationReport r = shipped_record("mix-" + std::to_string(i), eight + seconds(37 * i) + microseconds(i));
        r.function = i % 3 == 0 ? "alpha" : i % 3 == 1 ? "beta" : "gamma";
        r.trigger = triggers[i % 5];
        r.attempt = 0;
        r.status = statuses[(i / 5) % 6];
        if (i % 4 != 0) r.init_ms.reset();
        r.billed_ms = static_cast<uint64_t>(1 + i * 7);
        r.memory_mb = 128u << (i % 4);
        r.cost_pico_usd = 200'000u + static_cast<uint64_t>(i) * 16'667u;
        ASSERT_TRUE(ledger.append(r));
    }
    ASSERT_TRUE(shipper.wait_idle(seconds(20))) << shipper.status().failure.value_or("");
    ClusterBilling cluster(url);
    const std::optional<WallTime> unbounded;
    const std::vector<std::tuple<std::optional<std::string>, std::optional<WallTime>, std::optional<WallTime>>> ranges = {
        {std::nullopt, unbounded, unbounded},
        {std::string("beta"), unbounded, unbounded},
        {std::nullopt, eight + minutes(30), eight + minutes(90)},
        {std::string("alpha"), eight + seconds(37 * 10) + microseconds(10), eight + seconds(37 * 200) + microseconds(200)},
        {std::string("nobody"), unbounded, unbounded},
    };
    for (const auto& [function, since, until] : ranges) {
        LedgerQuery query;
        query.function = function;
        query.since = since;
        query.until = until;
        EXPECT_EQ(summary_to_json(cluster.summarize(function, since, until)), summary_to_json(summarize(ledger.query(query))))
            << function.value_or("all");
    }
}
