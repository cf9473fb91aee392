// The zygote seen from outside: sofaasd runs one `sofaas-worker --zygote` child, which is
// no worker; the workers it forks are sofaasd's own children and show their own command
// line. With "zygote": false there is none, and the answers are the same.
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/daemon_process.h"
#include "support/proc_inspect.h"

namespace sofaas::testing {
namespace {

struct DaemonChildren {
    std::vector<ProcessStatus> zygotes;
    std::vector<ProcessStatus> workers;
};

// The daemon's zygote and its workers of version 1.
DaemonChildren children_of(const DaemonProcess& daemon) {
    DaemonChildren children;
    const auto daemon_pid = find_process("sofaasd", daemon.data_dir().string());
    EXPECT_TRUE(daemon_pid);
    if (!daemon_pid) return children;
    for (const auto& process : all_processes()) {
        if (process.ppid != *daemon_pid || process.comm != "sofaas-worker") continue;
        if (process.cmdline.find(" --zygote ") != std::string::npos) children.zygotes.push_back(process);
        // Not the deploys' trial workers (version 0), which may still be on their way out.
        else if (process.cmdline.find(" --version 1 ") != std::string::npos) children.workers.push_back(process);
    }
    return children;
}

TEST(Zygote, WorkersForkFromTheDaemonsOneZygote) {
    DaemonProcess daemon;
    daemon.start();
    ASSERT_EQ(daemon.deploy("hello", function_library("hello")).exit_code, 0);
    ASSERT_EQ(daemon.deploy("echo", function_library("echo")).exit_code, 0);
    EXPECT_EQ(daemon.http().request("POST", "/v1/functions/hello/invoke", "zygote").body, "Hello, zygote!");
    EXPECT_EQ(daemon.http().request("POST", "/v1/functions/echo/invoke", "forked").body, "forked");

    const DaemonChildren children = children_of(daemon);
    ASSERT_EQ(children.zygotes.size(), 1u);
    ASSERT_EQ(children.workers.size(), 2u);
    for (const auto& worker : children.workers)
        EXPECT_NE(worker.cmdline.find(" --library " + daemon.data_dir().string()), std::string::npos)
            << "a forked worker shows its own command line: " << worker.cmdline;
    EXPECT_NE(daemon.log().find("zygote " + std::to_string(children.zygotes.front().pid) + " ready"),
              std::string::npos)
        << daemon.log();
    EXPECT_EQ(daemon.stop(), 0);
}

TEST(Zygote, TurnedOffWorkersAreExecd) {
    DaemonProcess daemon(nlohmann::json{{"zygote", false}});
    daemon.start();
    ASSERT_EQ(daemon.deploy("hello", function_library("hello")).exit_code, 0);
    EXPECT_EQ(daemon.http().request("POST", "/v1/functions/hello/invoke", "exec").body, "Hello, exec!");

    const DaemonChildren children = children_of(daemon);
    EXPECT_TRUE(children.zygotes.empty());
    EXPECT_EQ(children.workers.size(), 1u);
    EXPECT_EQ(daemon.log().find("zygote"), std::string::npos) << daemon.log();
    EXPECT_EQ(daemon.stop(), 0);
}

}  // namespace
}  // namespace sofaas::testing
