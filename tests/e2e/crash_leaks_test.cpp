// After hundreds of crashing invocations the daemon holds what it held before: no leaked
// descriptors, no grown memory, no zombie children.
#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/daemon_process.h"
#include "support/fault_suite.h"
#include "support/proc_inspect.h"
#include "support/programs.h"

namespace sofaas::testing {
namespace {

using namespace std::chrono_literals;

std::vector<ProcessStatus> zombie_children(pid_t parent) {
    std::vector<ProcessStatus> zombies;
    for (const auto& process : all_processes())
        if (process.ppid == parent && process.state == 'Z') zombies.push_back(process);
    return zombies;
}

// Reaping is asynchronous: a child may be a zombie for a moment, never for long.
bool no_zombies_within(pid_t parent, std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!zombie_children(parent).empty()) {
        if (std::chrono::steady_clock::now() > deadline) return false;
        std::this_thread::sleep_for(50ms);
    }
    return true;
}

TEST(CrashLeaks, ManyCrashesLeaveNoDescriptorsMemoryOrZombies) {
    DaemonProcess daemon;
    // ASan's allocator keeps freed memory in quarantine: the daemon's RSS bound means nothing.
    if (programs_are_sanitized()) GTEST_SKIP() << "RSS bounds do not hold under AddressSanitizer";
    daemon.start();
    auto pid = find_process("sofaasd", daemon.data_dir().string());
    ASSERT_TRUE(pid) << "no sofaasd process with data dir " << daemon.data_dir();

    const std::vector<std::string> crashers = {"segv", "aborter", "exiter"};
    ASSERT_EQ(daemon.deploy("segv", function_library("crash")).exit_code, 0);
    ASSERT_EQ(daemon.deploy("aborter", fixture_library("abort")).exit_code, 0);
    ASSERT_EQ(daemon.deploy("exiter", fixture_library("exit3")).exit_code, 0);
    ASSERT_EQ(daemon.deploy("healthy", function_library("hello")).exit_code, 0);

    auto crash_round = [&](int rounds) {
        auto http = daemon.http();
        int not_crashes = 0;
        for (int i = 0; i < rounds; ++i) {
            auto response = http.request("POST", "/v1/functions/" + crashers[i % crashers.size()] + "/invoke", "");
            if (response.status != 502 || response.header("X-Sofaas-Status") != "crash") ++not_crashes;
        }
        return not_crashes;
    };

    // Warm-up: every lazily built structure (buffers, maps, log files) and the healthy
    // function's warm environment exist before the baseline.
    ASSERT_EQ(crash_round(12), 0);
    ASSERT_EQ(daemon.http().request("POST", "/v1/functions/healthy/invoke", "warm").status, 200);
    std::this_thread::sleep_for(200ms);
    const size_t descriptors_before = open_descriptor_count(*pid);
    const std::string descriptors_listing_before = describe_descriptors(*pid);
    const long rss_before_kb = resident_kb(*pid);
    ASSERT_GT(rss_before_kb, 0);

    const int total = fault_suite_size(200, 1000);
    constexpr int callers = 2;
    std::vector<std::thread> threads;
    std::atomic<int> not_crashes{0};
    {
        HealthyTraffic traffic(daemon, "healthy");
        for (int t = 0; t < callers; ++t) threads.emplace_back([&] { not_crashes += crash_round(total / callers); });
        for (auto& thread : threads) thread.join();
        traffic.stop();
        EXPECT_GT(traffic.succeeded(), 0);
        EXPECT_EQ(traffic.failed(), 0) << "first failure: " << traffic.first_failure();
    }
    EXPECT_EQ(not_crashes.load(), 0);

    EXPECT_TRUE(no_zombies_within(*pid, 3s)) << zombie_children(*pid).size() << " zombie children of sofaasd";
    // The traffic's connection closes asynchronously; a leak would be one per crash.
    size_t descriptors_after = open_descriptor_count(*pid);
    for (int i = 0; i < 20 && descriptors_after > descriptors_before + 4; ++i) {
        std::this_thread::sleep_for(100ms);
        descriptors_after = open_descriptor_count(*pid);
    }
    EXPECT_LE(descriptors_after, descriptors_before + 4)
        << "descriptors before:\n" << descriptors_listing_before << "after " << total << " crashes:\n"
        << describe_descriptors(*pid);
    const long rss_after_kb = resident_kb(*pid);
    EXPECT_LE(rss_after_kb, rss_before_kb + 32 * 1024)
        << "RSS before " << rss_before_kb << " kB, after " << total << " crashes " << rss_after_kb << " kB";

    EXPECT_EQ(daemon.http().request("POST", "/v1/functions/healthy/invoke", "again").status, 200);
    EXPECT_EQ(daemon.stop(), 0);
}

}  // namespace
}  // namespace sofaas::testing
