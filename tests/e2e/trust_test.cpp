// The trust boundary seen by an attacker who may deploy functions: nothing a function
// says about itself decides who is at fault, what is billed, or what a caller learns of
// the platform.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/daemon_test.h"

namespace sofaas::testing {
namespace {

using nlohmann::json;

class Trust : public DaemonTest {};

json body_of(const HttpResponse& response) { return json::parse(response.body); }

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
    EXPECT_GT(records[0]["cost_usd"].get<double>(), 0.000005) << records[0].dump();  // 1 GB x 0.3 s
}

// A Ready frame forged by the library's init, claiming the sandbox failed, refuses the
// library as invalid (the library's fault), never as the host's.
TEST_F(Trust, AForgedSandboxErrorIsTheLibrarysFault) {
    auto deploy = daemon().deploy("forges-sandbox", fixture_library("forged_sandbox_error"));
    EXPECT_EQ(deploy.exit_code, 1) << deploy;
    EXPECT_EQ(deploy.err.rfind("InvalidLibraryException: ", 0), 0u) << deploy;
    EXPECT_EQ(deploy.err.find("ServiceException"), std::string::npos) << deploy;
}

}  // namespace
}  // namespace sofaas::testing
