// When the host cannot set up a function's sandbox (here: a worker_user that does not
// exist), deploy and invoke answer 500 ServiceException: the library is not blamed, the
// caller is not shown the host's details, and the daemon log says what went wrong.
#include <filesystem>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/daemon_process.h"

namespace sofaas::testing {
namespace {

using nlohmann::json;

const json broken_sandbox = {{"worker_user", "sofaas-no-such-user"}};

TEST(HostFaults, DeployIsA500WhenTheSandboxCannotBeSetUp) {
    DaemonProcess daemon(broken_sandbox);
    daemon.start();
    const auto deployed = daemon.deploy("hello", function_library("hello"));
    EXPECT_NE(deployed.exit_code, 0);
    EXPECT_NE(deployed.err.find("ServiceException: The host could not start the function's sandbox: "),
              std::string::npos)
        << deployed;
    EXPECT_NE(deployed.err.find("sofaas-no-such-user"), std::string::npos) << "the operator is told why: " << deployed;
    EXPECT_EQ(daemon.http().request("GET", "/v1/functions/hello").status, 404) << "nothing was published";
}

TEST(HostFaults, InvokeIsA500WhenTheSandboxCannotBeSetUp) {
    DaemonProcess healthy;
    healthy.start();
    ASSERT_EQ(healthy.deploy("hello", function_library("hello")).exit_code, 0);
    healthy.stop();

    // The same function on a host whose sandbox is broken.
    DaemonProcess broken(broken_sandbox);
    std::filesystem::create_directories(broken.data_dir());
    std::filesystem::copy(healthy.data_dir() / "functions", broken.data_dir() / "functions",
                          std::filesystem::copy_options::recursive);
    broken.start();
    const auto response = broken.http().request("POST", "/v1/functions/hello/invoke", "x");
    ASSERT_EQ(response.status, 500) << response.body;
    const json error = json::parse(response.body);
    EXPECT_EQ(error["errorType"], "ServiceException");
    EXPECT_EQ(error["errorMessage"], "The host could not start the function's sandbox; see the daemon log.");
    const std::string request_id = response.header("X-Sofaas-Request-Id");
    EXPECT_NE(broken.log().find("[" + request_id + "] hello:1: the host could not start the function's sandbox: "),
              std::string::npos)
        << broken.log();

    // Recorded, as every answered invocation is, but not charged: the fault is the host's.
    EXPECT_EQ(response.header("X-Sofaas-Billed-Ms"), "0");
    const auto records = broken.billing_records("hello");
    ASSERT_EQ(records.size(), 1u);
    EXPECT_EQ(records[0]["request_id"], request_id);
    EXPECT_EQ(records[0]["billed_ms"], 0);
    EXPECT_EQ(records[0]["cost_pico_usd"], 0);
}

}  // namespace
}  // namespace sofaas::testing
