// Limits: a function that runs too long, crashes, or eats its memory fails alone, with
// Lambda's error names, and the daemon keeps serving; overload is answered with 429.
#include <atomic>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/daemon_test.h"
#include "support/programs.h"

namespace sofaas::testing {
namespace {

using nlohmann::json;

class Limits : public DaemonTest {};

TEST_F(Limits, TimeoutIs504AndTheNextCallSucceeds) {
    ASSERT_EQ(daemon().deploy("slow", function_library("sleep"), {"--timeout", "1"}).exit_code, 0);
    auto http = daemon().http();
    auto timed_out = http.request("POST", "/v1/functions/slow/invoke", "3000");
    ASSERT_EQ(timed_out.status, 504) << timed_out.body;
    EXPECT_EQ(body_of(timed_out)["errorType"], "Sandbox.Timedout");
    EXPECT_EQ(body_of(timed_out)["errorMessage"], "Task timed out after 1.00 seconds");
    EXPECT_EQ(timed_out.header("X-Sofaas-Status"), "timeout");
    EXPECT_EQ(timed_out.header("X-Sofaas-Function-Error"), "Sandbox.Timedout");

    auto next = daemon().cli({"invoke", "slow", "--data", "10"});
    EXPECT_EQ(next.exit_code, 0) << next;
    EXPECT_EQ(next.out, "slept 10 ms");

    auto records = daemon().billing_records("slow");
    ASSERT_EQ(records.size(), 2u);
    EXPECT_EQ(records[0]["status"], "timeout");
    EXPECT_GE(records[0]["billed_ms"].get<double>(), 1000);
    EXPECT_LT(records[0]["billed_ms"].get<double>(), 1500) << "the time it ran, not twice the timeout";
}

TEST_F(Limits, BusyLoopIsStoppedAtTheDeadline) {
    ASSERT_EQ(daemon().deploy("spin", fixture_library("spin"), {"--timeout", "1"}).exit_code, 0);
    auto result = daemon().cli({"invoke", "spin"});
    EXPECT_EQ(result.exit_code, 7) << result;
    EXPECT_EQ(result.err, "Sandbox.Timedout: Task timed out after 1.00 seconds\n");
}

TEST_F(Limits, CrashIs502AndTheDaemonKeepsServing) {
    ASSERT_EQ(daemon().deploy("crash", function_library("crash")).exit_code, 0);
    ASSERT_EQ(daemon().deploy("steady", function_library("hello")).exit_code, 0);
    auto http = daemon().http();
    for (int round = 0; round < 2; ++round) {  // the second runs in a replacement environment
        auto crashed = http.request("POST", "/v1/functions/crash/invoke", "");
        ASSERT_EQ(crashed.status, 502) << crashed.body;
        EXPECT_EQ(body_of(crashed)["errorType"], "Runtime.ExitError");
        EXPECT_NE(body_of(crashed)["errorMessage"].get<std::string>().find("SIGSEGV"), std::string::npos)
            << crashed.body;
        EXPECT_EQ(crashed.header("X-Sofaas-Status"), "crash");
        EXPECT_EQ(http.request("POST", "/v1/functions/steady/invoke", "x").status, 200);
    }
    EXPECT_EQ(http.request("GET", "/healthz").status, 200);
}

TEST_F(Limits, ExitInsideTheHandlerIsACrash) {
    ASSERT_EQ(daemon().deploy("quitter", fixture_library("exit3")).exit_code, 0);
    auto result = daemon().cli({"invoke", "quitter"});
    EXPECT_EQ(result.exit_code, 6) << result;
    EXPECT_EQ(result.err.rfind("Runtime.ExitError: ", 0), 0u) << result;
    EXPECT_NE(result.err.find("exit status 3"), std::string::npos) << result;
}

TEST_F(Limits, MemoryHogIsStoppedAtItsLimit) {
    if (programs_are_sanitized()) {
        GTEST_SKIP() << "ASan's operator new does not call the new_handler, so the hog runs into its deadline";
    }
    ASSERT_EQ(daemon().deploy("hog", function_library("hog"), {"--memory", "128", "--timeout", "10"}).exit_code, 0);
    auto response = daemon().http().request("POST", "/v1/functions/hog/invoke", "");
    ASSERT_EQ(response.status, 502) << response.body;
    EXPECT_EQ(body_of(response)["errorType"], "Runtime.OutOfMemory");
    EXPECT_EQ(response.header("X-Sofaas-Status"), "oom");

    auto records = daemon().billing_records("hog");
    ASSERT_EQ(records.size(), 1u);
    EXPECT_EQ(records[0]["status"], "oom");
    EXPECT_EQ(records[0]["memory_mb"], 128);
}

// No queue: with one invocation running, the others are refused at once.
TEST(LimitsThrottle, OverloadIs429AndNotBilled) {
    DaemonProcess daemon(json{{"limits", {{"max_queue", 0}}}});
    daemon.start();
    ASSERT_EQ(daemon.deploy("single", function_library("sleep"), {"--max-concurrency", "1"}).exit_code, 0);

    constexpr int callers = 6;
    std::atomic<int> ok{0}, throttled{0}, other{0};
    std::vector<std::thread> threads;
    for (int i = 0; i < callers; ++i) {
        threads.emplace_back([&] {
            auto http = daemon.http();
            auto response = http.request("POST", "/v1/functions/single/invoke", "1000");
            if (response.status == 200) {
                ++ok;
            } else if (response.status == 429 && body_of(response)["errorType"] == "TooManyRequestsException" &&
                       body_of(response)["errorMessage"] == "Rate Exceeded.") {
                ++throttled;
            } else {
                ++other;
            }
        });
    }
    for (auto& thread : threads) thread.join();
    EXPECT_EQ(ok.load(), 1);  // all six arrive while the first sleeps its second
    EXPECT_EQ(throttled.load(), callers - 1);
    EXPECT_EQ(other.load(), 0);
    EXPECT_EQ(daemon.billing_records("single").size(), static_cast<size_t>(ok.load()));
    EXPECT_EQ(daemon.stop(), 0);
}

}  // namespace
}  // namespace sofaas::testing
