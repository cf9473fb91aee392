// The quantities the README promises, seen where a user sees them (HTTP, the CLI, the
// ledger, /proc): the deadline and the init deadline, the memory limit, billed_ms
// rounding, GB-seconds and the price of a non-default memory size, the fsync window and
// that fsync happens, max_concurrency and max_queue, the idle timeout, the payload
// limits. Each check fails when its quantity is off by a factor of two either way, and
// leaves room for a loaded machine only on the side a bug of that size cannot reach.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "common/money.h"
#include <nlohmann/json.hpp>

#include "support/daemon_test.h"
#include "support/eventually.h"
#include "support/programs.h"

namespace sofaas::testing {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
    return std::chrono::duration<double>(Clock::now() - start).count();
}

// billed_ms is the duration plus the init, rounded up to the next millisecond (at least 1).
void expect_billed_rounding(const json& record) {
    const double total = record["duration_ms"].get<double>() + record.value("init_ms", 0.0);
    const auto billed = record["billed_ms"].get<double>();
    EXPECT_GE(billed, std::max(1.0, total - 0.001)) << record.dump();  // the ledger keeps microseconds
    EXPECT_LT(billed, std::max(1.0, total) + 1.001) << record.dump();
}

class Quantities : public DaemonTest {};

// --timeout 2: the caller gets 504 after 2 s, not 1 or 4, and the record says how long it ran.
TEST_F(Quantities, DeadlineHoldsToTheTimeout) {
    ASSERT_EQ(daemon().deploy("deadline", fixture_library("spin"), {"--timeout", "2"}).exit_code, 0);
    auto http = daemon().http();
    const auto start = Clock::now();
    auto response = http.request("POST", "/v1/functions/deadline/invoke", "");
    const double waited = seconds_since(start);
    ASSERT_EQ(response.status, 504) << response.body;
    EXPECT_EQ(body_of(response)["errorMessage"], "Task timed out after 2.00 seconds");
    EXPECT_GE(waited, 2.0);
    EXPECT_LT(waited, 3.5);

    auto records = daemon().billing_records("deadline");
    ASSERT_EQ(records.size(), 1u);
    EXPECT_EQ(records[0]["status"], "timeout");
    EXPECT_GE(records[0]["duration_ms"].get<double>(), 2000.0);
    EXPECT_LT(records[0]["duration_ms"].get<double>(), 3000.0) << "measured, not copied from the timeout";
    EXPECT_LE(records[0]["duration_ms"].get<double>(), waited * 1000.0);
    expect_billed_rounding(records[0]);
}

// The duration is the daemon's measure of the handler: never less than what the function
// measured itself, and not much more. remaining_ms starts at the timeout.
TEST_F(Quantities, DurationIsWhatTheFunctionTook) {
    ASSERT_EQ(daemon().deploy("measured", fixture_library("clock"), {"--timeout", "4"}).exit_code, 0);
    auto http = daemon().http();
    std::vector<json> reports;
    for (const char* sleep_ms : {"600", "300"}) {  // a cold start, then a warm one
        auto response = http.request("POST", "/v1/functions/measured/invoke", sleep_ms);
        ASSERT_EQ(response.status, 200) << response.body;
        reports.push_back(body_of(response));
    }
    auto records = daemon().billing_records("measured");
    ASSERT_EQ(records.size(), 2u);
    EXPECT_TRUE(records[0].contains("init_ms"));
    EXPECT_FALSE(records[1].contains("init_ms"));
    for (size_t i = 0; i < 2; ++i) {
        const double measured = reports[i]["measured_ms"].get<double>();
        const double duration = records[i]["duration_ms"].get<double>();
        EXPECT_GE(measured, i == 0 ? 600.0 : 300.0) << reports[i].dump();
        EXPECT_GE(duration, measured) << records[i].dump();
        EXPECT_LT(duration, measured + 200.0) << records[i].dump();
        const auto remaining = reports[i]["remaining_ms_at_start"].get<int64_t>();
        EXPECT_LE(remaining, 4000) << reports[i].dump();
        EXPECT_GT(remaining, 3000) << reports[i].dump();
        expect_billed_rounding(records[i]);
    }
}

// --memory 256: 170 MiB fits, 400 MiB is Runtime.OutOfMemory, and the peak is reported.
TEST_F(Quantities, MemoryLimitIsTheConfiguredSize) {
    if (programs_are_sanitized()) {
        GTEST_SKIP() << "ASan's operator new does not call the new_handler, and its shadow memory counts";
    }
    ASSERT_EQ(daemon().deploy("allocator", fixture_library("allocate"), {"--memory", "256", "--timeout", "20"}).exit_code,
              0);
    auto http = daemon().http();
    auto fits = http.request("POST", "/v1/functions/allocator/invoke", "170");
    ASSERT_EQ(fits.status, 200) << fits.body;
    EXPECT_EQ(fits.body, "allocated 170 MiB");
    auto too_much = http.request("POST", "/v1/functions/allocator/invoke", "400");
    ASSERT_EQ(too_much.status, 502) << too_much.body;
    EXPECT_EQ(body_of(too_much)["errorType"], "Runtime.OutOfMemory");

    auto records = daemon().billing_records("allocator");
    ASSERT_EQ(records.size(), 2u);
    EXPECT_EQ(records[0]["status"], "ok");
    EXPECT_EQ(records[0]["memory_mb"], 256);
    EXPECT_GE(records[0]["max_memory_used_mb"].get<int>(), 170) << records[0].dump();
    EXPECT_LE(records[0]["max_memory_used_mb"].get<int>(), 256) << records[0].dump();
    EXPECT_EQ(records[1]["status"], "oom");
}

// A handler that exits cleanly has still not answered: a crash, never a success.
TEST_F(Quantities, ExitZeroInsideTheHandlerIsACrash) {
    ASSERT_EQ(daemon().deploy("exit-zero", fixture_library("exit0")).exit_code, 0);
    auto response = daemon().http().request("POST", "/v1/functions/exit-zero/invoke", "");
    ASSERT_EQ(response.status, 502) << response.body;
    EXPECT_EQ(body_of(response)["errorType"], "Runtime.ExitError");
    EXPECT_EQ(response.body.find("never sent"), std::string::npos) << response.body;
    auto records = daemon().billing_records("exit-zero");
    ASSERT_EQ(records.size(), 1u);
    EXPECT_EQ(records[0]["status"], "crash");
}

// 6 MiB in and out, as Lambda: exactly the limit passes, one byte more does not. A deploy
// may be 64 MiB.
TEST_F(Quantities, PayloadLimitsAreExact) {
    constexpr size_t payload_limit = 6 * 1024 * 1024;
    constexpr size_t library_limit = 64 * 1024 * 1024;
    ASSERT_EQ(daemon().deploy("sized", fixture_library("big_output")).exit_code, 0);
    auto http = daemon().http();

    std::string event = "16";
    event.resize(payload_limit, ' ');
    auto at_limit = http.request("POST", "/v1/functions/sized/invoke", event);
    EXPECT_EQ(at_limit.status, 200) << at_limit.body.substr(0, 200);
    EXPECT_EQ(at_limit.body, std::string(16, 'o'));
    event.push_back(' ');
    auto over = http.request("POST", "/v1/functions/sized/invoke", event);
    EXPECT_EQ(over.status, 413) << over.body;
    EXPECT_NE(over.body.find(std::to_string(payload_limit)), std::string::npos) << over.body;

    auto output_at_limit = http.request("POST", "/v1/functions/sized/invoke", std::to_string(payload_limit));
    EXPECT_EQ(output_at_limit.status, 200);
    EXPECT_EQ(output_at_limit.body.size(), payload_limit);
    auto output_over = http.request("POST", "/v1/functions/sized/invoke", std::to_string(payload_limit + 1));
    ASSERT_EQ(output_over.status, 502);
    EXPECT_EQ(body_of(output_over)["errorType"], "Runtime.ResponseTooLarge");

    std::string library(library_limit, 'x');  // not a library: refused as such, not for its size
    auto library_at_limit = http.request("PUT", "/v1/functions/sized-library", library);
    EXPECT_EQ(library_at_limit.status, 400) << library_at_limit.body;
    EXPECT_EQ(body_of(library_at_limit)["errorType"], "InvalidLibraryException") << library_at_limit.body;
    library.push_back('x');
    auto library_over = http.request("PUT", "/v1/functions/sized-library", library);
    EXPECT_EQ(library_over.status, 413) << library_over.body;
    EXPECT_NE(library_over.body.find(std::to_string(library_limit)), std::string::npos) << library_over.body;
}

// With prices of our own and --memory 512, every invocation costs exactly
// per_request + 0.5 GB x billed seconds x per_gb_second (the deploy's trial init the same,
// without the request price), to the pico-dollar, and the summary adds them up exactly.
TEST(QuantitiesPrices, CostIsTheConfiguredPriceOfTheConfiguredMemory) {
    constexpr double per_gb_second = 0.001;
    constexpr double per_request = 0.01;
    DaemonProcess daemon(json{{"prices", {{"per_gb_second", per_gb_second}, {"per_request", per_request}}}});
    daemon.start();
    ASSERT_EQ(daemon.deploy("priced", fixture_library("clock"), {"--memory", "512"}).exit_code, 0);
    auto http = daemon.http();
    for (const char* sleep_ms : {"200", "50"}) ASSERT_EQ(http.request("POST", "/v1/functions/priced/invoke", sleep_ms).status, 200);

    ASSERT_EQ(daemon.billing_records("priced").size(), 2u);
    const auto records = daemon.all_billing_records("priced");
    ASSERT_EQ(records.size(), 3u) << "the deploy's trial init and two invocations";
    uint64_t billed_ms = 0, cost = 0;
    for (const auto& record : records) {
        EXPECT_EQ(record["memory_mb"], 512);
        EXPECT_LT(record["max_memory_used_mb"].get<int>(), 256) << "the price must not follow the memory used";
        const auto billed = record["billed_ms"].get<uint64_t>();
        const bool invocation = record["trigger"] == "invoke";
        if (invocation) {
            EXPECT_GE(billed, 50u);
        }
        // 0.01 = 10^10 pico a request; 512 MB x 1 ms at 0.001 a GB-second = 500,000 pico
        const uint64_t expected = (invocation ? 10'000'000'000ull : 0) + billed * 500'000;
        EXPECT_EQ(record["cost_pico_usd"].get<uint64_t>(), expected) << record.dump();
        billed_ms += billed;
        cost += expected;
    }
    auto summary = daemon.cli({"billing", "--json", "--function", "priced"});
    ASSERT_EQ(summary.exit_code, 0) << summary;
    const json total = json::parse(summary.out)["total"];
    EXPECT_EQ(total["billed_ms"].get<uint64_t>(), billed_ms);
    EXPECT_EQ(total["mb_ms"], std::to_string(512 * billed_ms)) << total.dump();
    EXPECT_EQ(total["cost_pico_usd"], std::to_string(cost)) << total.dump();
    EXPECT_EQ(total["cost_usd"], usd_text(cost)) << total.dump();
    EXPECT_EQ(daemon.stop(), 0);
}

// init_timeout_s 2: a library whose init never returns is refused after 2 s.
TEST(QuantitiesInit, InitDeadlineHoldsToTheConfiguredTimeout) {
    DaemonProcess daemon(json{{"limits", {{"init_timeout_s", 2}}}});
    daemon.start();
    const auto start = Clock::now();
    auto deploy = daemon.deploy("hangs", fixture_library("init_hangs"));
    const double waited = seconds_since(start);
    EXPECT_EQ(deploy.exit_code, 1) << deploy;
    EXPECT_NE(deploy.err.find("Init timed out after 2.00 seconds"), std::string::npos) << deploy;
    EXPECT_GE(waited, 2.0);
    EXPECT_LT(waited, 3.5);
    EXPECT_EQ(daemon.stop(), 0);
}

// max_concurrency 2, max_queue 3, eight callers at once: exactly five are served (two
// running, three waiting, in three rounds) and three refused.
TEST(QuantitiesConcurrency, ConcurrencyAndQueueAreExact) {
    DaemonProcess daemon(json{{"limits", {{"max_queue", 3}}}});
    daemon.start();
    ASSERT_EQ(daemon.deploy("rounds", function_library("sleep"), {"--max-concurrency", "2", "--timeout", "10"}).exit_code,
              0);
    constexpr int callers = 8;
    std::atomic<int> ok{0}, throttled{0}, other{0};
    std::vector<double> finished;
    std::string unexpected;  // what the callers got besides 200 and 429, for the failure message
    std::mutex finished_mutex;
    const auto start = Clock::now();
    std::vector<std::thread> threads;
    for (int i = 0; i < callers; ++i) {
        threads.emplace_back([&] {
            auto response = daemon.http().request("POST", "/v1/functions/rounds/invoke", "1000");
            if (response.status == 200) {
                ++ok;
                std::lock_guard lock(finished_mutex);
                finished.push_back(seconds_since(start));
            } else if (response.status == 429) {
                ++throttled;
            } else {
                ++other;
                std::lock_guard lock(finished_mutex);
                unexpected += std::to_string(response.status) + " " + response.body + "\n";
            }
        });
    }
    for (auto& thread : threads) thread.join();
    EXPECT_EQ(ok.load(), 5);
    EXPECT_EQ(throttled.load(), 3);
    EXPECT_EQ(other.load(), 0) << unexpected;
    std::sort(finished.begin(), finished.end());
    ASSERT_EQ(finished.size(), 5u) << ::testing::PrintToString(finished);
    EXPECT_LT(finished[1], 1.9) << "two run at once";
    EXPECT_GE(finished[2], 2.0) << "no third one ran beside them";
    EXPECT_GE(finished[4], 3.0) << "the last waited two rounds";
    EXPECT_EQ(daemon.billing_records("rounds").size(), 5u);
    EXPECT_EQ(daemon.stop(), 0);
}

// A queued invocation waits at most its function's timeout (2 s) for a slot: with one slot
// and two 1.5 s calls ahead of it, the third is refused at 2 s, while the second (1.5 s in
// the queue) runs.
TEST(QuantitiesConcurrency, QueuedInvocationWaitsAtMostTheTimeout) {
    DaemonProcess daemon;
    daemon.start();
    ASSERT_EQ(daemon.deploy("one-slot", function_library("sleep"), {"--max-concurrency", "1", "--timeout", "2"}).exit_code,
              0);
    ASSERT_EQ(daemon.http().request("POST", "/v1/functions/one-slot/invoke", "0").status, 200);  // warm
    struct Call {
        int status = 0;
        double sent = 0, answered = 0;
    };
    std::vector<Call> calls(3);
    const auto start = Clock::now();
    std::vector<std::thread> threads;
    for (size_t i = 0; i < calls.size(); ++i) {
        threads.emplace_back([&, i] {
            std::this_thread::sleep_for(std::chrono::milliseconds(100 * i));  // in this order
            calls[i].sent = seconds_since(start);
            calls[i].status = daemon.http().request("POST", "/v1/functions/one-slot/invoke", "1500").status;
            calls[i].answered = seconds_since(start);
        });
    }
    for (auto& thread : threads) thread.join();
    EXPECT_EQ(calls[0].status, 200);
    EXPECT_EQ(calls[1].status, 200) << "it waited 1.5 s of its 2 s";
    EXPECT_EQ(calls[2].status, 429) << "its slot would have come after 3 s";
    const double waited = calls[2].answered - calls[2].sent;
    EXPECT_GE(waited, 1.9);
    EXPECT_LT(waited, 2.9);
    EXPECT_EQ(daemon.stop(), 0);
}

// idle_timeout_s 2: an idle environment is reaped 2 s (plus at most the 1 s reaping
// period) after its last invocation, not before.
TEST(QuantitiesIdle, IdleEnvironmentLivesForTheIdleTimeout) {
    DaemonProcess daemon(json{{"defaults", {{"idle_timeout_s", 2}}}});
    daemon.start();
    ASSERT_EQ(daemon.deploy("idler", function_library("hello")).exit_code, 0);
    ASSERT_TRUE(eventually([&] { return worker_processes(daemon).empty(); })) << "the deploy's trial worker stays";
    ASSERT_EQ(daemon.http().request("POST", "/v1/functions/idler/invoke", "x").status, 200);
    const auto idle_since = Clock::now();
    ASSERT_EQ(worker_processes(daemon).size(), 1u);
    ASSERT_TRUE(eventually([&] { return worker_processes(daemon).empty(); }, 10s));
    const double lived = seconds_since(idle_since);
    EXPECT_GE(lived, 1.9);
    EXPECT_LT(lived, 3.6);
    EXPECT_EQ(daemon.stop(), 0);
}

struct SyncCall {
    double at_ms;  // CLOCK_MONOTONIC, the same clock as steady_clock
    int result;
    std::string path;
};

std::vector<SyncCall> sync_calls(const std::filesystem::path& spy_log) {
    std::vector<SyncCall> calls;
    std::ifstream in(spy_log);
    for (std::string line; std::getline(in, line);) {
        std::istringstream fields(line);
        long long ns = 0;
        SyncCall call;
        fields >> ns >> call.result >> call.path;
        call.at_ms = ns / 1e6;
        calls.push_back(call);
    }
    return calls;
}

double now_ms() {
    return std::chrono::duration<double, std::milli>(Clock::now().time_since_epoch()).count();
}

// ledger_fsync_interval_ms 400: a record reaches fdatasync (seen by a preloaded spy, not
// the ledger's own counters) 400 ms after it was written, in one group per window.
TEST(QuantitiesLedger, RecordsAreFsyncedOnceAWindow) {
    constexpr int window_ms = 400;
    DaemonProcess daemon(json{{"ledger_fsync_interval_ms", window_ms}});
    const auto spy_log = daemon.data_dir().parent_path() / "sync_spy.log";
    daemon.set_environment("LD_PRELOAD", fixture_library("sync_spy").string());
    daemon.set_environment("SOFAAS_SYNC_SPY_LOG", spy_log.string());
    if (programs_are_sanitized()) daemon.set_environment("ASAN_OPTIONS", "verify_asan_link_order=0");
    daemon.start();
    ASSERT_EQ(daemon.deploy("durable", function_library("hello")).exit_code, 0);
    auto http = daemon.http();
    ASSERT_EQ(http.request("POST", "/v1/functions/durable/invoke", "x").status, 200);  // cold start out of the way

    auto ledger_syncs_after = [&](double since_ms) {
        std::vector<SyncCall> found;
        for (const auto& call : sync_calls(spy_log))
            if (call.at_ms > since_ms && call.path.find("/billing/") != std::string::npos) found.push_back(call);
        return found;
    };
    ASSERT_TRUE(eventually([&] { return !ledger_syncs_after(0).empty(); }, 5s)) << "the ledger is never fdatasync'd";

    // One call after a quiet moment: its record waits one window.
    std::this_thread::sleep_for(std::chrono::milliseconds(window_ms));  // let the last group close
    const double before_write = now_ms();
    ASSERT_EQ(http.request("POST", "/v1/functions/durable/invoke", "x").status, 200);
    const double answered = now_ms();
    ASSERT_TRUE(eventually([&] { return !ledger_syncs_after(before_write).empty(); }, 5s));
    const SyncCall first = ledger_syncs_after(before_write).front();
    EXPECT_EQ(first.result, 0);
    EXPECT_GE(first.at_ms - before_write, 0.8 * window_ms);
    EXPECT_LT(first.at_ms - answered, 1.6 * window_ms);

    // Calls for 1.2 s: every record is in a group synced within a window, and groups are a
    // window apart, so three or four of them, not six or eight, nor one or two.
    const double burst_start = now_ms();
    double last_sent = burst_start;
    while (now_ms() - burst_start < 3 * window_ms) {
        last_sent = now_ms();  // its record is written after this, so synced after it too
        ASSERT_EQ(http.request("POST", "/v1/functions/durable/invoke", "x").status, 200);
        std::this_thread::sleep_for(20ms);
    }
    const double burst_end = last_sent;
    ASSERT_TRUE(eventually([&] { return !ledger_syncs_after(burst_end).empty(); }, 5s));
    size_t groups = 0;
    for (const auto& call : ledger_syncs_after(burst_start)) {
        if (call.at_ms <= burst_end + 1.6 * window_ms) ++groups;
    }
    EXPECT_GE(groups, 3u);
    EXPECT_LE(groups, 5u);
    EXPECT_EQ(daemon.stop(), 0);
}

}  // namespace
}  // namespace sofaas::testing
