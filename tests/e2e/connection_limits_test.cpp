// Connection limits: thousands of idle keep-alive connections do not starve a new client,
// and running out of descriptors pauses accepting without spinning, then recovers.
#include <sys/resource.h>
#include <sys/times.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "support/daemon_process.h"
#include "support/fault_suite.h"
#include "support/proc_inspect.h"
#include "support/raw_socket.h"

namespace sofaas::testing {
namespace {

using namespace std::chrono_literals;

// Thousands of open keep-alive connections (some never sent a byte) must not keep a new
// client waiting.
TEST(ConnectionLimits, ManyIdleKeepAliveConnectionsDoNotStarveANewClient) {
    const int connections = fault_suite_size(500, 10000);
    // Both this process and sofaasd (which inherits the limit) hold one descriptor each.
    rlimit files{};
    ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &files), 0);
    files.rlim_cur = files.rlim_max;
    ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &files), 0);
    if (files.rlim_cur < static_cast<rlim_t>(connections) + 200)
        GTEST_SKIP() << "RLIMIT_NOFILE hard limit " << files.rlim_max << " is too low for " << connections;

    DaemonProcess daemon;
    daemon.start();
    ASSERT_EQ(daemon.deploy("echo", function_library("echo")).exit_code, 0);
    std::vector<RawConnection> idle;
    idle.reserve(connections);
    int answered = 0;
    for (int i = 0; i < connections; ++i) {
        idle.emplace_back(daemon.endpoint());
        if (i % 2 == 1) continue;  // connected, never sent a byte
        ASSERT_TRUE(idle.back().send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"));
        auto response = idle.back().read_response(10s);
        if (response && response->status == 200) ++answered;
    }
    EXPECT_EQ(answered, (connections + 1) / 2);

    auto http = daemon.http();
    http.set_timeout(5s);
    auto started = std::chrono::steady_clock::now();
    auto response = http.request("POST", "/v1/functions/echo/invoke", "still served");
    EXPECT_EQ(response.status, 200);
    EXPECT_EQ(response.body, "still served");
    EXPECT_LT(std::chrono::steady_clock::now() - started, 3s);
    // And an idle keep-alive connection is still usable.
    ASSERT_TRUE(idle.front().send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"));
    auto again = idle.front().read_response(5s);
    ASSERT_TRUE(again);
    EXPECT_EQ(again->status, 200);
    idle.clear();
    EXPECT_EQ(daemon.stop(), 0);
}

// CPU time (user + system) the process has used, in clock ticks.
long cpu_ticks(pid_t pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
    std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::istringstream fields(stat.substr(stat.rfind(')') + 2));
    std::string field;
    long user = 0, system = 0;
    for (int i = 3; i <= 15 && fields >> field; ++i) {
        if (i == 14) user = std::stol(field);
        if (i == 15) system = std::stol(field);
    }
    return user + system;
}

// sofaasd started with a small RLIMIT_NOFILE, then sent more connections than that: accept
// fails with EMFILE, which must neither busy-loop nor stop the accepting for good.
TEST(ConnectionLimits, RunningOutOfDescriptorsPausesAcceptingAndRecovers) {
    rlimit saved{};
    ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &saved), 0);
    rlimit small = saved;
    small.rlim_cur = 128;  // inherited by the daemon at spawn; restored for this process below
    ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &small), 0);
    DaemonProcess daemon;
    try {
        daemon.start();
    } catch (...) {
        ::setrlimit(RLIMIT_NOFILE, &saved);
        throw;
    }
    ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &saved), 0);
    auto pid = find_process("sofaasd", daemon.data_dir().string());
    ASSERT_TRUE(pid);

    std::vector<RawConnection> flood;
    for (int i = 0; i < 300; ++i) flood.emplace_back(daemon.endpoint());
    std::this_thread::sleep_for(300ms);
    const long ticks_before = cpu_ticks(*pid);
    std::this_thread::sleep_for(1s);
    EXPECT_LT(cpu_ticks(*pid) - ticks_before, ::sysconf(_SC_CLK_TCK) / 2) << "sofaasd spins while out of descriptors";
    EXPECT_NE(daemon.log().find("Too many open files"), std::string::npos);

    flood.clear();
    auto http = daemon.http();
    http.set_timeout(5s);
    EXPECT_EQ(http.request("GET", "/healthz").status, 200);
    EXPECT_EQ(daemon.stop(), 0);
}

}  // namespace
}  // namespace sofaas::testing
