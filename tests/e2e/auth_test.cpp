// Authentication: the control API needs the admin token; a function deployed with
// --auth token needs it on its HTTP endpoints too.
#include <filesystem>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/daemon_process.h"
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

// Neither a wrong token a client sent nor the admin token shows up in an answer or in the
// daemon's log.
TEST_F(Auth, TokensNeverAppearInAnswersOrLogs) {
    const std::string wrong = "wrong-token-4f3e2d1c";
    ASSERT_EQ(daemon().deploy("guarded", function_library("hello"), {"--auth", "token"}).exit_code, 0);
    for (const auto& [method, path] : {std::pair{"GET", "/v1/functions"}, std::pair{"GET", "/fn/guarded"},
                                       std::pair{"POST", "/v1/functions/guarded/invoke"}}) {
        auto response = daemon().http(wrong).request(method, path);
        EXPECT_EQ(response.status, 401) << path;
        EXPECT_EQ(response.body.find(wrong), std::string::npos) << response.body;
        EXPECT_EQ(response.body.find(daemon().token()), std::string::npos) << response.body;
    }
    EXPECT_EQ(daemon().http().request("GET", "/fn/guarded").status, 200);
    const std::string log = daemon().log();
    EXPECT_NE(log.find("401"), std::string::npos) << "the refusals are logged: " << log;
    EXPECT_EQ(log.find(wrong), std::string::npos) << log;
    EXPECT_EQ(log.find(daemon().token()), std::string::npos) << log;
}

// With no token configured, the daemon generates one into a file only its owner can read.
TEST(AdminTokenFile, IsGeneratedPrivateAndAccepted) {
    DaemonProcess daemon;
    daemon.use_generated_token();
    daemon.start();
    const auto file = daemon.data_dir() / "admin.token";
    namespace fs = std::filesystem;
    EXPECT_EQ(fs::status(file).permissions(), fs::perms::owner_read | fs::perms::owner_write);
    EXPECT_EQ(daemon.token().size(), 64u) << daemon.token();
    EXPECT_EQ(daemon.http().request("GET", "/v1/functions").status, 200);
    EXPECT_EQ(daemon.http("").request("GET", "/v1/functions").status, 401);

    // A restart reads the same file: the token stays valid.
    const std::string token = daemon.token();
    daemon.restart();
    EXPECT_EQ(daemon.http(token).request("GET", "/v1/functions").status, 200);
    EXPECT_EQ(daemon.log().find(token), std::string::npos);
}

}  // namespace
}  // namespace sofaas::testing
