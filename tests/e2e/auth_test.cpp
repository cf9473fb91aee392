// Authentication: the control API needs the admin token; a function deployed with
// --auth token needs it on its HTTP endpoints too.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/daemon_test.h"

namespace sofaas::testing {
namespace {

using nlohmann::json;

class Auth : public DaemonTest {};

TEST_F(Auth, ControlApiNeedsTheAdminToken) {
    for (const std::string token : {"", "wrong-token"}) {
        auto response = daemon().http(token).request("GET", "/v1/functions");
        EXPECT_EQ(response.status, 401) << "token '" << token << "'";
        EXPECT_EQ(json::parse(response.body)["errorType"], "UnauthorizedException");
        EXPECT_FALSE(response.header("X-Sofaas-Request-Id").empty());
    }
    EXPECT_EQ(daemon().http("").request("PUT", "/v1/functions/sneaky", "x").status, 401);
    EXPECT_EQ(daemon().http().request("GET", "/v1/functions").status, 200);
    EXPECT_EQ(daemon().http("").request("GET", "/healthz").status, 200);
}

TEST_F(Auth, CliSaysWhatToCheck) {
    auto result = daemon().cli({"--token", "wrong-token", "list"});
    EXPECT_EQ(result.exit_code, 1) << result;
    EXPECT_EQ(result.err, "unauthorized: check --token or SOFAAS_TOKEN\n");
}

TEST_F(Auth, TokenProtectedFunctionRefusesAnonymousCalls) {
    ASSERT_EQ(daemon().deploy("private", function_library("hello"), {"--auth", "token"}).exit_code, 0);
    ASSERT_EQ(daemon().deploy("public", function_library("hello")).exit_code, 0);

    EXPECT_EQ(daemon().http("").request("GET", "/fn/private").status, 401);
    EXPECT_EQ(daemon().http("wrong-token").request("GET", "/fn/private").status, 401);
    EXPECT_EQ(daemon().http().request("GET", "/fn/private").status, 200);
    EXPECT_EQ(daemon().http("").request("GET", "/fn/public").status, 200);
}

}  // namespace
}  // namespace sofaas::testing
