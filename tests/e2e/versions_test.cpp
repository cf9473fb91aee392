// Versions: a new version takes over without failing a single call in flight, old
// versions stay invocable, and everything comes back after a restart.
#include <atomic>
#include <chrono>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/daemon_process.h"
#include "support/eventually.h"

namespace sofaas::testing {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

size_t invocations_billed(const DaemonProcess& daemon, const std::string& function) {
    auto result = daemon.cli({"billing", "--json", "--function", function});
    EXPECT_EQ(result.exit_code, 0) << result;
    return json::parse(result.out)["total"]["invocations"].get<size_t>();
}

TEST(Versions, NewVersionTakesOverDuringTraffic) {
    DaemonProcess daemon;
    daemon.start();
    ASSERT_EQ(daemon.deploy("greeter", function_library("hello")).exit_code, 0);

    std::atomic<bool> stop{false};
    std::atomic<bool> saw_v2{false};
    std::atomic<int> answered{0};
    std::vector<std::string> failures;
    std::vector<int> versions_seen;
    std::thread traffic([&] {
        auto http = daemon.http();
        while (!stop) {
            auto response = http.request("POST", "/v1/functions/greeter/invoke", "traffic");
            if (response.status != 200) {
                failures.push_back(std::to_string(response.status) + " " + response.body);
                continue;
            }
            int version = std::stoi(response.header("X-Sofaas-Version"));
            if (versions_seen.empty() || versions_seen.back() != version) versions_seen.push_back(version);
            if (version == 2 && response.body == "Hello from C, traffic!") saw_v2 = true;
            ++answered;
        }
    });
    // Version 1 is serving the traffic before the deploy, whatever the machine's load.
    if (!eventually([&] { return answered >= 3; })) {
        stop = true;
        traffic.join();
        FAIL() << "no traffic reached version 1";
    }
    auto deployed = daemon.deploy("greeter", function_library("c-hello"));
    EXPECT_EQ(deployed.out, "greeter version 2\n") << deployed;
    EXPECT_TRUE(eventually([&] { return saw_v2.load(); }));
    // A few more calls after the first one of version 2: none may go back to version 1.
    const int at_switch = answered;
    EXPECT_TRUE(eventually([&] { return answered >= at_switch + 5; }));
    stop = true;
    traffic.join();

    EXPECT_TRUE(failures.empty()) << failures.size() << " failures, first: " << failures.front();
    // Once a call reached version 2, no later call went back to version 1.
    EXPECT_EQ(versions_seen, (std::vector<int>{1, 2}));

    auto old = daemon.cli({"invoke", "greeter", "--version", "1", "--data", "old"});
    EXPECT_EQ(old.out, "Hello, old!") << old;
    EXPECT_EQ(daemon.stop(), 0);
}

TEST(Versions, RestartBringsBackFunctionsVersionsAndTheLedger) {
    DaemonProcess daemon;
    daemon.start();
    ASSERT_EQ(daemon.deploy("greeter", function_library("hello")).exit_code, 0);
    ASSERT_EQ(daemon.deploy("greeter", function_library("c-hello"), {"--memory", "256"}).exit_code, 0);
    ASSERT_EQ(daemon.deploy("http-api", function_library("http-api"), {"--route", "GET /items/{id}"}).exit_code, 0);
    ASSERT_EQ(daemon.cli({"invoke", "greeter", "--data", "a"}).exit_code, 0);
    ASSERT_EQ(daemon.cli({"invoke", "greeter", "--version", "1", "--data", "b"}).exit_code, 0);
    EXPECT_EQ(invocations_billed(daemon, "greeter"), 2u);

    daemon.restart();

    auto info = json::parse(daemon.http().request("GET", "/v1/functions/greeter").body);
    EXPECT_EQ(info["versions"], json::array({1, 2}));
    EXPECT_EQ(info["function"]["memory_mb"], 256);
    auto latest = daemon.cli({"invoke", "greeter", "--data", "again"});
    EXPECT_EQ(latest.out, "Hello from C, again!") << latest;
    auto first = daemon.cli({"invoke", "greeter", "--version", "1", "--data", "again"});
    EXPECT_EQ(first.out, "Hello, again!") << first;
    EXPECT_EQ(daemon.http("").request("GET", "/items/3").status, 200);  // routes are back too
    EXPECT_EQ(invocations_billed(daemon, "greeter"), 4u);                // the ledger continues
    auto next = daemon.deploy("greeter", function_library("hello"));
    EXPECT_EQ(next.out, "greeter version 3\n") << next;
    EXPECT_EQ(daemon.stop(), 0);
}

// The ledger is written before a response leaves: even SIGKILL loses no answered call.
TEST(Versions, KilledDaemonLosesNoAnsweredRecord) {
    DaemonProcess daemon;
    daemon.start();
    ASSERT_EQ(daemon.deploy("hello", function_library("hello")).exit_code, 0);
    auto http = daemon.http();
    for (int i = 0; i < 5; ++i) ASSERT_EQ(http.request("POST", "/v1/functions/hello/invoke", "x").status, 200);
    daemon.kill9();
    daemon.start();
    EXPECT_EQ(invocations_billed(daemon, "hello"), 5u);
    EXPECT_EQ(daemon.cli({"invoke", "hello"}).exit_code, 0);
    EXPECT_EQ(daemon.stop(), 0);
}

}  // namespace
}  // namespace sofaas::testing
