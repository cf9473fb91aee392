// The trust boundary seen by an attacker who may deploy functions: nothing a function
// says about itself decides who is at fault, what is billed, or what a caller learns of
// the platform.
#include <chrono>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/daemon_test.h"
#include "support/eventually.h"

namespace sofaas::testing {
namespace {

using nlohmann::json;

class Trust : public DaemonTest {};

// A function that names its failure "ServiceException" is still failing itself: 502, its
// status `error`, billed for the time it took.
TEST_F(Trust, AFunctionCannotClaimAHostFault) {
    ASSERT_EQ(daemon().deploy("blames-host", fixture_library("claims_host_fault"), {"--memory", "1024"}).exit_code, 0);
    auto response = daemon().http().request("POST", "/v1/functions/blames-host/invoke", "");
    EXPECT_EQ(response.status, 502) << response.body;
    EXPECT_EQ(body_of(response)["errorType"], "ServiceException");
    EXPECT_EQ(response.header("X-Sofaas-Status"), "error");

    auto records = daemon().billing_records("blames-host");
    ASSERT_EQ(records.size(), 1u);
    EXPECT_EQ(records[0]["status"], "error");
    EXPECT_GE(records[0]["billed_ms"].get<uint64_t>(), 300u) << records[0].dump();
    EXPECT_GT(records[0]["cost_pico_usd"].get<uint64_t>(), 5'000'000u) << records[0].dump();  // 1 GB x 0.3 s
}

// A Ready frame forged by the library's init, claiming the sandbox failed, refuses the
// library as invalid (the library's fault), never as the host's.
TEST_F(Trust, AForgedSandboxErrorIsTheLibrarysFault) {
    auto deploy = daemon().deploy("forges-sandbox", fixture_library("forged_sandbox_error"));
    EXPECT_EQ(deploy.exit_code, 1) << deploy;
    EXPECT_EQ(deploy.err.rfind("InvalidLibraryException: ", 0), 0u) << deploy;
    EXPECT_EQ(deploy.err.find("ServiceException"), std::string::npos) << deploy;
}

std::vector<json> records_of(const DaemonProcess& daemon, const std::string& function, const std::string& trigger) {
    std::vector<json> found;
    for (const auto& record : daemon.all_billing_records(function))
        if (record["trigger"] == trigger) found.push_back(record);
    return found;
}

// Every init is billed: a deploy's trial load (trigger deploy) and min_warm environments
// (trigger warm), for their init time at their memory size, without the request price.
TEST_F(Trust, InitsNoInvocationPaidForAreBilled) {
    ASSERT_EQ(daemon().deploy("warm-inits", fixture_library("slow_init"),
                              {"--env", "INIT_MS=300", "--min-warm", "2", "--memory", "1024"})
                  .exit_code,
              0);
    ASSERT_TRUE(eventually([&] { return records_of(daemon(), "warm-inits", "warm").size() == 2; }));
    const auto deploy = records_of(daemon(), "warm-inits", "deploy");
    ASSERT_EQ(deploy.size(), 1u);
    for (const auto& record : {deploy[0], records_of(daemon(), "warm-inits", "warm")[0]}) {
        EXPECT_EQ(record["status"], "ok") << record.dump();
        // The daemon's clock starts when it hands the worker its start, a moment after the
        // worker began: the 300 ms init can measure a little less, never much less.
        EXPECT_GE(record["init_ms"].get<double>(), 290.0) << record.dump();
        EXPECT_GE(record["billed_ms"].get<uint64_t>(), 290u) << record.dump();
        // 1 GB x billed ms at 16,666,700 pico-dollars a GB-second, no request price
        const uint64_t expected = (record["billed_ms"].get<uint64_t>() * 16'666'700 + 500) / 1000;
        EXPECT_EQ(record["cost_pico_usd"].get<uint64_t>(), expected) << record.dump();
    }
    // Not invocations: the summary counts none, and bills them.
    auto summary = daemon().cli({"billing", "--json", "--function", "warm-inits"});
    const json total = json::parse(summary.out)["total"];
    EXPECT_EQ(total["invocations"], 0);
    EXPECT_GE(total["billed_ms"].get<uint64_t>(), 3 * 290u);  // three inits, each measured as above
}

// An init that times out while a caller waits is billed for the time it ran, not 1 ms.
TEST(TrustInit, AnInitThatTimesOutIsBilledForItsTime) {
    DaemonProcess daemon(json{{"limits", {{"init_timeout_s", 1}}}});
    daemon.start();
    ASSERT_EQ(daemon.deploy("hangs-later", fixture_library("slow_init"), {"--env", "HANG_AFTER_DEPLOY=1"}).exit_code, 0);
    auto response = daemon.http().request("POST", "/v1/functions/hangs-later/invoke", "x");
    EXPECT_EQ(json::parse(response.body)["errorType"], "Runtime.InitTimeout") << response.body;
    const auto records = records_of(daemon, "hangs-later", "invoke");
    ASSERT_EQ(records.size(), 1u);
    EXPECT_GE(records[0]["init_ms"].get<double>(), 1000.0) << records[0].dump();
    EXPECT_GE(records[0]["billed_ms"].get<uint64_t>(), 1000u) << records[0].dump();
    EXPECT_EQ(daemon.stop(), 0);
}

// min_warm environments that die idle are replaced, but each failure in a row doubles the
// wait (1 s, 2 s, 4 s): over 6.5 s a few inits, not one a second, and `info` says why.
TEST(TrustInit, FailingWarmEnvironmentsAreRespawnedWithBackoff) {
    DaemonProcess daemon;
    daemon.start();
    // Its init crashes once deployed (a thread that would crash it while it waits idle is
    // frozen with it, under a root daemon with cgroups).
    ASSERT_EQ(daemon.deploy("dies-idle", fixture_library("slow_init"), {"--env", "CRASH_AFTER_DEPLOY=1", "--min-warm", "1"})
                  .exit_code,
              0);
    // The respawning itself is there: a second environment follows the first one's death.
    ASSERT_TRUE(eventually([&] { return records_of(daemon, "dies-idle", "warm").size() >= 2; }));
    std::this_thread::sleep_for(std::chrono::milliseconds(6500));
    const size_t inits = records_of(daemon, "dies-idle", "warm").size();
    EXPECT_GE(inits, 3u);
    EXPECT_LE(inits, 5u) << "one free init a second is what the backoff prevents";
    auto info = daemon.cli({"info", "dies-idle"});
    EXPECT_NE(info.out.find("min warm failing"), std::string::npos) << info.out;
    EXPECT_EQ(daemon.stop(), 0);
}

}  // namespace
}  // namespace sofaas::testing
