#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include "billing/billing_record.h"
#include "billing/ledger.h"
#include "support/eventually.h"
#include "support/temp_dir.h"
#include "support/test_data.h"

using namespace sofaas;
using sofaas::testing::file_text;
using sofaas::testing::utc;
using namespace std::chrono;
namespace fs = std::filesystem;

namespace {

InvocationReport record(std::string function, WallTime start, InvocationStatus status = InvocationStatus::ok,
                     std::optional<double> init_ms = std::nullopt) {
    InvocationReport r;
    static int serial = 0;  // request ids are unique: a query counts each once
    r.request_id = "req-" + function + "-" + format_rfc3339(start) + "-" + std::to_string(++serial);
    r.function = std::move(function);
    r.version = 3;
    r.trigger = Trigger::http;
    r.start = start;
    r.duration_ms = 12.3456;
    r.init_ms = init_ms;
    r.billed_ms = billed_milliseconds(r.duration_ms, init_ms);
    r.memory_mb = 256;
    r.max_memory_used_mb = 17;
    r.status = status;
    r.cost_pico_usd = cost_pico_usd(Prices{}, r.memory_mb, r.billed_ms, true);
    return r;
}

void append_raw(const fs::path& file, std::string_view bytes) {
    std::ofstream(file, std::ios::binary | std::ios::app) << bytes;
}

class LedgerTest : public ::testing::Test {
protected:
    sofaas::testing::TempDir temp{"sofaas-ledger"};
    fs::path billing = temp / "billing";
    LedgerOptions options{milliseconds(1)};
};

}  // namespace

TEST(BillingRecordTest, BillsDurationPlusInitRoundedUpToAMillisecond) {
    EXPECT_EQ(billed_milliseconds(1.2, std::nullopt), 2u);
    EXPECT_EQ(billed_milliseconds(1.0, std::nullopt), 1u);
    EXPECT_EQ(billed_milliseconds(0.0, std::nullopt), 1u);  // never free
    EXPECT_EQ(billed_milliseconds(0.01, std::nullopt), 1u);
    EXPECT_EQ(billed_milliseconds(1.5, 0.8), 3u);
    EXPECT_EQ(billed_milliseconds(100.0, 250.0), 350u);
}

TEST(BillingRecordTest, CostIsPerRequestPlusGbSecondsInPicoDollars) {
    Prices prices;  // 0.0000166667 per GB-s = 16,666,700 pico; 0.0000002 per request = 200,000 pico
    // 128 MB for 1 s = 0.125 GB-s = 2,083,337.5 pico, rounded half up
    EXPECT_EQ(cost_pico_usd(prices, 128, 1000, true), 200'000u + 2'083'338u);
    EXPECT_EQ(cost_pico_usd(prices, 128, 1000, false), 2'083'338u);
    // 1024 MB for 1 ms = 0.001 GB-s = 16,666.7 pico -> 16,667
    EXPECT_EQ(cost_pico_usd(prices, 1024, 1, true), 200'000u + 16'667u);
    Prices free{0, 0};
    EXPECT_EQ(cost_pico_usd(free, 10240, 300000, true), 0u);
    // The largest record at the highest price the configuration takes stays in 64 bits.
    Prices dear{max_price_usd, max_price_usd};
    EXPECT_EQ(cost_pico_usd(dear, 10240, 900'000, true), 1'000'000'000'000'000ull + 9'000'000'000'000'000'000ull);
}

TEST(MoneyTest, DecimalTextIsExact) {
    EXPECT_EQ(usd_text(0), "0");
    EXPECT_EQ(usd_text(202'083), "0.000000202083");
    EXPECT_EQ(usd_text(1'500'000'000'000), "1.5");
    EXPECT_EQ(usd_text(static_cast<Pico>(UINT64_MAX) * 1000), "18446744073.709551615");
    EXPECT_EQ(gb_seconds_text(128'000), "0.125");       // 128 MB for 1 s
    EXPECT_EQ(gb_seconds_text(1), "0.0000009765625");   // 1 MB-ms
    EXPECT_EQ(gb_seconds_text(1'024'000), "1");
    EXPECT_EQ(integer_text(static_cast<Pico>(1) << 64), "18446744073709551616");
    EXPECT_EQ(to_pico_usd(0.0000166667), 16'666'700u);
    EXPECT_EQ(to_pico_usd(-1), 0u);
}

// A float sum of many small costs drifts; the integer sum is the sum of the records.
TEST(MoneyTest, ASummaryOfAMillionRecordsIsTheirExactSum) {
    std::vector<InvocationReport> records(1'000'000);
    uint64_t expected = 0;
    for (size_t i = 0; i < records.size(); ++i) {
        records[i].function = "f";
        records[i].memory_mb = 128;
        records[i].billed_ms = 1 + i % 7;
        records[i].cost_pico_usd = cost_pico_usd(Prices{}, 128, records[i].billed_ms, true);
        expected += records[i].cost_pico_usd;
    }
    const BillingSummary summary = summarize(records);
    EXPECT_EQ(summary.total.cost_pico_usd, expected);
    EXPECT_EQ(usd_text(summary.total.cost_pico_usd), usd_text(expected));
}

TEST(BillingRecordTest, BillsAnInvocationItsDurationAndInitAndTheRequest) {
    InvocationReport report = record("hello", utc(2026, 11, 27), InvocationStatus::error, 0.8);
    report.billed_ms = 0;
    report.cost_pico_usd = 0;
    bill(report, Prices{});
    EXPECT_EQ(report.billed_ms, 14u);  // 12.3456 + 0.8
    EXPECT_EQ(report.cost_pico_usd, 200'000u + 58'333u);  // 256 MB x 14 ms = 0.0035 GB-s = 58,333.45 pico
}

// Lambda does not bill its own service errors, and a throttled request never ran.
TEST(BillingRecordTest, HostFaultsAndThrottledRequestsChargeNothing) {
    for (InvocationStatus status : {InvocationStatus::host_fault, InvocationStatus::throttled}) {
        InvocationReport report = record("hello", utc(2026, 11, 27), status, 0.8);
        bill(report, Prices{});
        EXPECT_EQ(report.billed_ms, 0u) << to_string(status);
        EXPECT_EQ(report.cost_pico_usd, 0u) << to_string(status);
    }
}

// A min_warm environment's init and a deploy's trial load: nothing was requested.
TEST(BillingRecordTest, AnUnpaidInitIsBilledWithoutTheRequestPrice) {
    for (Trigger trigger : {Trigger::warm, Trigger::deploy}) {
        InvocationReport report = record("hello", utc(2026, 11, 27), InvocationStatus::ok, 250.0);
        report.trigger = trigger;
        report.duration_ms = 0;
        bill(report, Prices{});
        EXPECT_EQ(report.billed_ms, 250u);
        EXPECT_EQ(report.cost_pico_usd, 1'041'669u) << to_string(trigger);  // 0.0625 GB-s, no request price
    }
}

// The ledger line is the billing record: what the invocation produced or said stays out.
TEST(BillingRecordTest, JsonLineLeavesOutOutputCapturesAndErrors) {
    InvocationReport plain = record("hello", utc(2026, 11, 27), InvocationStatus::error);
    InvocationReport full = plain;
    full.output = "output";
    full.captured_stdout = "stdout";
    full.captured_stderr = "stderr";
    full.error_type = "FunctionError";
    full.error_message = "message";
    full.cpu_ms = 1.5;
    EXPECT_EQ(to_json_line(full), to_json_line(plain));
}

TEST(BillingRecordTest, JsonLineHasExactlyTheDesignFields) {
    InvocationReport warm = record("hello", utc(2026, 11, 27, 18, 43, 49) + microseconds(123456));
    std::string line = to_json_line(warm);
    ASSERT_EQ(line.back(), '\n');
    EXPECT_EQ(line.find('\n'), line.size() - 1);
    auto object = nlohmann::ordered_json::parse(line);
    std::vector<std::string> keys;
    for (const auto& [key, _] : object.items()) keys.push_back(key);
    EXPECT_EQ(keys, (std::vector<std::string>{"request_id", "function", "version", "trigger", "start", "duration_ms",
                                              "billed_ms", "memory_mb", "max_memory_used_mb", "status", "cost_pico_usd", "cost_usd"}));
    EXPECT_EQ(object["start"], "2026-11-27T18:43:49.123456Z");
    EXPECT_EQ(object["trigger"], "http");
    EXPECT_EQ(object["status"], "ok");
    EXPECT_EQ(object["billed_ms"], 13);

    InvocationReport cold = record("hello", utc(2026, 11, 27), InvocationStatus::ok, 0.8);
    auto cold_object = nlohmann::json::parse(to_json_line(cold));
    EXPECT_DOUBLE_EQ(cold_object["init_ms"].get<double>(), 0.8);
    EXPECT_EQ(record_to_json(cold) + "\n", to_json_line(cold));
}

TEST(BillingRecordTest, RoundTripsThroughJsonLine) {
    InvocationReport original = record("api", utc(2026, 1, 2, 3, 4, 5) + microseconds(6), InvocationStatus::timeout, 4.5);
    auto back = parse_json_line(to_json_line(original));
    ASSERT_TRUE(back);
    EXPECT_EQ(back->request_id, original.request_id);
    EXPECT_EQ(back->function, original.function);
    EXPECT_EQ(back->version, original.version);
    EXPECT_EQ(back->trigger, original.trigger);
    EXPECT_EQ(back->start, original.start);
    EXPECT_NEAR(back->duration_ms, original.duration_ms, 0.001);
    EXPECT_EQ(back->billed_ms, original.billed_ms);
    EXPECT_EQ(back->memory_mb, original.memory_mb);
    EXPECT_EQ(back->max_memory_used_mb, original.max_memory_used_mb);
    EXPECT_EQ(back->init_ms, original.init_ms);
    EXPECT_EQ(back->status, original.status);
    EXPECT_EQ(back->cost_pico_usd, original.cost_pico_usd);
}

// Lines written before costs were integers have a float cost_usd only.
TEST(BillingRecordTest, ParsesAnOlderLineWithAFloatCost) {
    auto old = nlohmann::json::parse(to_json_line(record("hello", utc(2026, 11, 27))));
    old.erase("cost_pico_usd");
    old["cost_usd"] = 4.254166774999999e-06;
    auto back = parse_json_line(old.dump());
    ASSERT_TRUE(back);
    EXPECT_EQ(back->cost_pico_usd, 4'254'167u);
}

TEST(BillingRecordTest, JsonCarriesTheCostAsAnExactDecimalAndThePrincipal) {
    InvocationReport r = record("hello", utc(2026, 11, 27));
    r.cost_pico_usd = 202'083;
    r.principal = {"ASIAEXAMPLE", "reader", "user-1"};
    auto object = nlohmann::json::parse(record_to_json(r));
    EXPECT_EQ(object["cost_usd"], "0.000000202083");
    EXPECT_EQ(object["cost_pico_usd"], 202083);
    EXPECT_EQ(object["key_id"], "ASIAEXAMPLE");
    auto back = parse_json_line(to_json_line(r));
    ASSERT_TRUE(back);
    EXPECT_EQ(back->principal.role, "reader");
    EXPECT_EQ(back->principal.user_sub, "user-1");

    r.principal = {};
    r.principal.schedule = "nightly";
    object = nlohmann::json::parse(record_to_json(r));
    EXPECT_EQ(object["schedule"], "nightly");
    EXPECT_FALSE(object.contains("key_id"));
    back = parse_json_line(to_json_line(r));
    ASSERT_TRUE(back);
    EXPECT_EQ(back->principal.schedule, "nightly");
}

TEST(BillingRecordTest, ParseRejectsEveryTornPrefix) {
    std::string line = to_json_line(record("hello", utc(2026, 11, 27), InvocationStatus::ok, 1.0));
    for (size_t length = 0; length + 1 < line.size(); ++length) {
        EXPECT_EQ(parse_json_line(line.substr(0, length)), std::nullopt) << line.substr(0, length);
    }
}

TEST(BillingRecordTest, ParseRejectsCorruptAndIncompleteLines) {
    auto good = nlohmann::json::parse(to_json_line(record("hello", utc(2026, 11, 27))));
    auto with = [&](const char* key, nlohmann::json value) {
        auto copy = good;
        copy[key] = std::move(value);
        return copy.dump();
    };
    auto without = [&](const char* key) {
        auto copy = good;
        copy.erase(key);
        return copy.dump();
    };
    EXPECT_TRUE(parse_json_line(good.dump()));
    EXPECT_FALSE(parse_json_line(without("request_id")));
    auto costless = good;
    costless.erase("cost_usd");
    costless.erase("cost_pico_usd");
    EXPECT_FALSE(parse_json_line(costless.dump()));
    EXPECT_FALSE(parse_json_line(with("cost_pico_usd", -5)));
    EXPECT_FALSE(parse_json_line(with("version", "3")));
    EXPECT_FALSE(parse_json_line(with("billed_ms", -1)));
    EXPECT_FALSE(parse_json_line(with("status", "throttled")));
    EXPECT_FALSE(parse_json_line(with("trigger", "cron")));
    EXPECT_FALSE(parse_json_line(with("start", "1h")));
    EXPECT_FALSE(parse_json_line(with("start", "2026-11-27")));
    EXPECT_FALSE(parse_json_line(with("init_ms", "cold")));
    EXPECT_FALSE(parse_json_line("[1,2,3]"));
    EXPECT_FALSE(parse_json_line("\x01\x02 garbage"));
}

TEST(BillingSummaryTest, GroupsByFunctionSortedWithATotal) {
    WallTime t = utc(2026, 11, 27);
    std::vector<InvocationReport> records = {
        record("zeta", t, InvocationStatus::ok, 5.0), record("alpha", t, InvocationStatus::error),
        record("alpha", t, InvocationStatus::crash),  record("alpha", t, InvocationStatus::oom),
        record("alpha", t, InvocationStatus::timeout), record("alpha", t, InvocationStatus::ok),
    };
    BillingSummary summary = summarize(records);
    ASSERT_EQ(summary.functions.size(), 2u);
    const auto& alpha = summary.functions[0];
    EXPECT_EQ(alpha.function, "alpha");
    EXPECT_EQ(alpha.invocations, 5u);
    EXPECT_EQ(alpha.errors, 3u);
    EXPECT_EQ(alpha.timeouts, 1u);
    EXPECT_EQ(alpha.cold_starts, 0u);
    EXPECT_EQ(alpha.billed_ms, 5 * 13u);
    EXPECT_EQ(alpha.mb_ms, 5 * 256 * 13u);
    const auto& zeta = summary.functions[1];
    EXPECT_EQ(zeta.function, "zeta");
    EXPECT_EQ(zeta.cold_starts, 1u);
    EXPECT_EQ(zeta.billed_ms, 18u);
    EXPECT_EQ(summary.total.function, "");
    EXPECT_EQ(summary.total.invocations, 6u);
    EXPECT_EQ(summary.total.billed_ms, 5 * 13u + 18u);
    EXPECT_EQ(summary.total.cost_pico_usd, alpha.cost_pico_usd + zeta.cost_pico_usd);
}

TEST(BillingSummaryTest, JsonHasFunctionRowsAndTotal) {
    auto json = nlohmann::json::parse(summary_to_json(summarize({record("hello", utc(2026, 11, 27))})));
    ASSERT_EQ(json["functions"].size(), 1u);
    for (const char* key : {"function", "invocations", "errors", "timeouts", "cold_starts", "billed_ms", "gb_seconds",
                            "cost_usd"}) {
        EXPECT_TRUE(json["functions"][0].contains(key)) << key;
        EXPECT_TRUE(json["total"].contains(key)) << key;
    }
    EXPECT_EQ(json["functions"][0]["function"], "hello");
    EXPECT_EQ(json["total"]["invocations"], 1);
    EXPECT_EQ(nlohmann::json::parse(summary_to_json(summarize({})))["functions"].size(), 0u);
}

TEST_F(LedgerTest, AppendsOneLineToTheSegmentOfTheHourOfTheRecordsStart) {
    {
        Ledger ledger(billing, options);
        EXPECT_TRUE(ledger.append(record("hello", utc(2026, 11, 27, 23, 59, 59))));
        EXPECT_TRUE(ledger.append(record("hello", utc(2026, 11, 28, 0, 0, 1))));
    }
    const std::string hour1 = file_text(billing / "2026-11-27T23.0.tsv");
    const std::string hour2 = file_text(billing / "2026-11-28T00.0.tsv");
    ASSERT_TRUE(hour1.starts_with(ledger_line_header)) << hour1;
    EXPECT_EQ(std::count(hour1.begin(), hour1.end(), '\n'), 2);
    EXPECT_EQ(std::count(hour2.begin(), hour2.end(), '\n'), 2);
    EXPECT_EQ(parse_ledger_line(hour1.substr(ledger_line_header.size()))->start, utc(2026, 11, 27, 23, 59, 59));
}

TEST_F(LedgerTest, QueryFiltersByFunctionAndStartTime) {
    Ledger ledger(billing, options);
    for (int hour : {1, 2, 3}) {
        ledger.append(record("hello", utc(2026, 11, 27, hour)));
        ledger.append(record("other", utc(2026, 11, 27, hour)));
    }
    ledger.append(record("hello", utc(2026, 11, 29, 1)));
    EXPECT_EQ(ledger.query({}).size(), 7u);

    LedgerQuery query;
    query.function = "hello";
    EXPECT_EQ(ledger.query(query).size(), 4u);
    query.since = utc(2026, 11, 27, 2);
    query.until = utc(2026, 11, 27, 3);  // exclusive
    auto records = ledger.query(query);
    ASSERT_EQ(records.size(), 1u);
    EXPECT_EQ(records[0].start, utc(2026, 11, 27, 2));

    query = {};
    query.since = utc(2026, 11, 28);
    ASSERT_EQ(ledger.query(query).size(), 1u);
}

TEST_F(LedgerTest, QueryReadsOnlyTheDayFilesThatCanMatch) {
    Ledger ledger(billing, options);
    ledger.append(record("hello", utc(2026, 11, 28, 12)));
    append_raw(billing / "2026-11-20.jsonl", "corrupt line that would be counted\n");
    LedgerQuery query;
    query.since = utc(2026, 11, 28);
    size_t skipped = 99;
    EXPECT_EQ(ledger.query(query, &skipped).size(), 1u);
    EXPECT_EQ(skipped, 0u);
    EXPECT_EQ(ledger.query({}, &skipped).size(), 1u);
    EXPECT_EQ(skipped, 1u);
}

TEST_F(LedgerTest, SkipsTornLastLine) {
    Ledger ledger(billing, options);
    ledger.append(record("hello", utc(2026, 11, 27, 1)));
    std::string torn = to_json_line(record("hello", utc(2026, 11, 27, 2)));
    append_raw(billing / "2026-11-27.jsonl", torn.substr(0, torn.size() / 2));
    size_t skipped = 0;
    auto records = ledger.query({}, &skipped);
    ASSERT_EQ(records.size(), 1u);
    EXPECT_EQ(records[0].start, utc(2026, 11, 27, 1));
    EXPECT_EQ(skipped, 1u);
}

TEST_F(LedgerTest, ATornSegmentIsReadAndSealedWithoutItsTornLine) {
    fs::create_directories(billing);
    std::string earlier;
    append_ledger_line(earlier, record("hello", utc(2026, 11, 27, 1)));
    // The crash tore line 2.
    append_raw(billing / "2026-11-27T01.0.tsv", std::string(ledger_line_header) + earlier + earlier.substr(0, 40));

    Ledger ledger(billing, options);  // the restarted daemon
    ASSERT_TRUE(ledger.append(record("hello", utc(2026, 11, 27, 1, 30))));
    EXPECT_TRUE(fs::exists(billing / "2026-11-27T01.1.tsv")) << "a restart starts the hour's next segment";
    size_t skipped = 0;
    auto records = ledger.query({}, &skipped);
    ASSERT_EQ(records.size(), 2u);
    EXPECT_EQ(records[1].start, utc(2026, 11, 27, 1, 30));
    EXPECT_EQ(skipped, 1u);

    ledger.seal_due();  // the torn one at once: nothing is appended to it again
    EXPECT_TRUE(fs::exists(billing / "2026-11-27T01.0.tsv.zst"));
    EXPECT_FALSE(fs::exists(billing / "2026-11-27T01.0.tsv"));
    EXPECT_EQ(ledger.query({}, &skipped).size(), 2u);
    EXPECT_EQ(skipped, 0u);
}

TEST_F(LedgerTest, ConcurrentAppendsNeverInterleave) {
    constexpr int threads = 8, per_thread = 250;
    {
        Ledger ledger(billing, options);
        std::vector<std::thread> writers;
        for (int t = 0; t < threads; ++t) {
            writers.emplace_back([&, t] {
                for (int i = 0; i < per_thread; ++i) {
                    InvocationReport r = record("fn" + std::to_string(t), utc(2026, 11, 27, 12));
                    r.request_id = std::string(200, 'a' + t) + std::to_string(i);  // long lines
                    ledger.append(r);
                }
            });
        }
        for (auto& writer : writers) writer.join();
        ledger.flush();
    }
    Ledger reader(billing, options);
    size_t skipped = 0;
    auto records = reader.query({}, &skipped);
    EXPECT_EQ(records.size(), size_t(threads * per_thread));
    EXPECT_EQ(skipped, 0u);
}

// A directory listing that overlaps a seal must still see the segment, open or sealed: the
// open file may go while the listing runs, and the sealed one may come at a place the
// listing has already passed.
TEST_F(LedgerTest, QueriesDuringSealingSeeEveryRecord) {
    constexpr int hours_of_records = 40, per_hour = 3;
    {
        Ledger ledger(billing, options);
        for (int h = 0; h < hours_of_records; ++h) {
            for (int i = 0; i < per_hour; ++i) ledger.append(record("fn", utc(2026, 11, 1) + hours(h) + minutes(i)));
        }
        ledger.flush();
    }
    Ledger reader(billing, options);  // its sealer seals every one of them, now
    const auto open_segments = [&] {
        size_t open = 0;
        for (const auto& entry : fs::directory_iterator(billing)) open += entry.path().extension() == ".tsv";
        return open;
    };
    size_t queries = 0;
    do {
        size_t skipped = 0;
        ASSERT_EQ(reader.query({}, &skipped).size(), size_t(hours_of_records * per_hour)) << "query " << queries;
        EXPECT_EQ(skipped, 0u);
        ++queries;
    } while (open_segments() > 0);
    EXPECT_GT(queries, 1u);
}

// The sealer seals only segments it knows are closed: one created by an append while a
// sealing pass runs is being written, and sealing it would leave the appends that follow
// in a file no longer in the directory.
TEST_F(LedgerTest, ASegmentCreatedDuringASealingPassIsNotSealedUnderItsWriters) {
    constexpr int threads = 4, hours_per_thread = 6, per_hour = 20;
    LedgerOptions eager = options;
    eager.check_interval = milliseconds(1);
    {
        Ledger ledger(billing, eager);
        std::vector<std::thread> writers;
        for (int t = 0; t < threads; ++t) {
            writers.emplace_back([&, t] {
                // Each hour's first record opens a segment of an hour long over, which the
                // sealer may look at while its next records are appended.
                for (int h = 0; h < hours_per_thread; ++h) {
                    for (int i = 0; i < per_hour; ++i) {
                        ledger.append(record("fn", utc(2026, 1, 1) + hours(t * 1000 + h) + seconds(i)));
                        std::this_thread::sleep_for(milliseconds(1));
                    }
                }
            });
        }
        for (auto& writer : writers) writer.join();
        ledger.flush();
    }
    Ledger reader(billing, options);
    size_t skipped = 0;
    EXPECT_EQ(reader.query({}, &skipped).size(), size_t(threads * hours_per_thread * per_hour));
    EXPECT_EQ(skipped, 0u);
}

TEST_F(LedgerTest, FlushReturnsWithEveryRecordReadable) {
    for (auto interval : {milliseconds(0), milliseconds(1), milliseconds(50)}) {
        sofaas::testing::TempDir dir{"sofaas-ledger-flush"};
        Ledger ledger(dir.path(), LedgerOptions{interval});
        for (int i = 0; i < 10; ++i) ledger.append(record("hello", utc(2026, 11, 27, 1)));
        ledger.flush();
        EXPECT_EQ(ledger.query({}).size(), 10u) << interval.count();
    }
}

TEST_F(LedgerTest, DurabilityMeasuresTheWaitFromAGroupsFirstWriteToItsFsync) {
    Ledger ledger(billing, LedgerOptions{milliseconds(30)});
    EXPECT_EQ(ledger.durability().group_fsyncs, 0u);
    for (int i = 0; i < 5; ++i) ledger.append(record("hello", utc(2026, 11, 27, 1)));
    // Nobody flushes: the syncer waits out the whole window, so the group waited at least that.
    ASSERT_TRUE(sofaas::testing::eventually([&] { return ledger.durability().group_fsyncs > 0; }));
    LedgerDurability durability = ledger.durability();
    EXPECT_EQ(durability.fsync_interval, milliseconds(30));
    EXPECT_EQ(durability.group_fsyncs, 1u);
    EXPECT_GE(durability.max_ms, 30.0);
    EXPECT_GE(durability.p50_ms, 30.0);
    EXPECT_LE(durability.p50_ms, durability.p99_ms);
    EXPECT_LE(durability.p99_ms, durability.max_ms);
    EXPECT_LT(durability.max_ms, 10000.0);  // measured from the group's first write, not from long before
}

TEST_F(LedgerTest, AFlushEndsTheWindowEarlyAndCountsAsAGroup) {
    Ledger ledger(billing, LedgerOptions{milliseconds(60000)});
    ledger.append(record("hello", utc(2026, 11, 27, 1)));
    ledger.flush();
    LedgerDurability durability = ledger.durability();
    EXPECT_EQ(durability.group_fsyncs, 1u);
    EXPECT_LT(durability.max_ms, 60000.0);
}

TEST_F(LedgerTest, AWindowLongerThanTheSlowFsyncWarningIsNoWarning) {
    std::ostringstream log;
    const auto previous = spdlog::default_logger();
    spdlog::set_default_logger(
        std::make_shared<spdlog::logger>("capture", std::make_shared<spdlog::sinks::ostream_sink_mt>(log)));
    {
        Ledger ledger(billing, LedgerOptions{milliseconds(1100)});
        ledger.append(record("hello", utc(2026, 11, 27, 1)));
        EXPECT_TRUE(sofaas::testing::eventually([&] { return ledger.durability().group_fsyncs > 0; }));
        EXPECT_GE(ledger.durability().max_ms, 1100.0);
    }
    spdlog::set_default_logger(previous);
    EXPECT_EQ(log.str().find("to reach the disk"), std::string::npos) << log.str();
}

TEST_F(LedgerTest, WithFsyncOffNothingIsCounted) {
    Ledger ledger(billing, LedgerOptions{milliseconds(0)});
    ledger.append(record("hello", utc(2026, 11, 27, 1)));
    ledger.flush();
    EXPECT_EQ(ledger.durability().group_fsyncs, 0u);
}

TEST_F(LedgerTest, RecordsSurviveARestart) {
    {
        Ledger ledger(billing, options);
        ledger.append(record("hello", utc(2026, 11, 27, 1)));
    }
    Ledger restarted(billing, options);
    restarted.append(record("hello", utc(2026, 11, 27, 2)));
    EXPECT_EQ(restarted.query({}).size(), 2u);
}

TEST_F(LedgerTest, AppendReportsAnUnwritableLedger) {
    Ledger ledger(billing, options);
    fs::create_directories(billing / "2026-11-27T01.0.tsv");  // a directory where the file should be
    EXPECT_FALSE(ledger.append(record("hello", utc(2026, 11, 27, 1))));
    EXPECT_TRUE(ledger.append(record("hello", utc(2026, 11, 28, 1))));
}
