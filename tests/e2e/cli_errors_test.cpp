// What the CLI says when something is wrong: one clear line on stderr naming the cause,
// and an exit code per kind of failure (docs/CLI.md): 2 usage, 3 not found, 4 no token or
// refused, 5 unreachable, 6 function error, 7 timeout, 8 throttled, 1 anything else.
#include <thread>

#include <gtest/gtest.h>

#include "support/daemon_test.h"
#include "support/eventually.h"
#include "support/programs.h"
#include "support/temp_dir.h"
#include "support/unused_port.h"

namespace sofaas::testing {
namespace {

class CliErrors : public DaemonTest {};

size_t line_count(const std::string& text) { return static_cast<size_t>(std::count(text.begin(), text.end(), '\n')); }

TEST_F(CliErrors, UnknownFunction) {
    auto result = daemon().cli({"invoke", "nobody"});
    EXPECT_EQ(result.exit_code, 3) << result;
    EXPECT_EQ(result.err.rfind("ResourceNotFoundException: ", 0), 0u) << result;
    EXPECT_NE(result.err.find("nobody"), std::string::npos) << result;
    EXPECT_EQ(line_count(result.err), 1u) << result;
    EXPECT_EQ(daemon().cli({"info", "nobody"}).exit_code, 3);
    EXPECT_EQ(daemon().cli({"keys", "delete", "nobody"}).exit_code, 3);
}

TEST_F(CliErrors, BadFunctionName) {
    auto result = daemon().deploy("no/slashes", function_library("hello"));
    EXPECT_EQ(result.exit_code, 1) << result;
    EXPECT_EQ(result.err.rfind("InvalidParameterValueException: ", 0), 0u) << result;
    auto dots = daemon().deploy("..", function_library("hello"));
    EXPECT_EQ(dots.exit_code, 1) << dots;
}

TEST_F(CliErrors, UnreachableDaemon) {
    UnusedPort nowhere;
    std::string endpoint = "http://127.0.0.1:" + std::to_string(nowhere.port());
    auto result = run_process(programs_dir() / "sofaas", {"--endpoint", endpoint, "--token", "t", "list"});
    EXPECT_EQ(result.exit_code, 5) << result;
    EXPECT_EQ(result.err.rfind("cannot reach sofaasd at " + endpoint + ": ", 0), 0u) << result;
    EXPECT_EQ(line_count(result.err), 1u) << result;
}

// Outside sofaasd's directory, without SOFAAS_TOKEN or --token: the CLI says so before
// asking the daemon anything.
TEST_F(CliErrors, NoTokenSaysWhereItLooked) {
    TempDir elsewhere;
    const std::string sofaas = (programs_dir() / "sofaas").string();
    auto result = run_process("/bin/sh", {"-c", "cd '" + elsewhere.path().string() + "' && exec '" + sofaas + "' list"},
                              {{"SOFAAS_ENDPOINT", daemon().endpoint()}, {"SOFAAS_TOKEN", ""}});
    EXPECT_EQ(result.exit_code, 4) << result;
    EXPECT_EQ(result.err, "no token: set SOFAAS_TOKEN or --token; looked in ./data/admin.token\n");
    EXPECT_EQ(result.out, "");
}

TEST_F(CliErrors, ARefusedOrTooNarrowTokenExitsFour) {
    auto refused = daemon().cli({"--token", "wrong", "list"});
    EXPECT_EQ(refused.exit_code, 4) << refused;
    auto key = nlohmann::json::parse(daemon().cli({"keys", "create", "narrow-json", "--json"}).out);
    const std::string token = key["access_key_id"].get<std::string>() + ":" + key["secret_access_key"].get<std::string>();
    auto forbidden = daemon().cli({"--token", token, "list"});
    EXPECT_EQ(forbidden.exit_code, 4) << forbidden;
    EXPECT_EQ(forbidden.err.rfind("AccessDeniedException: ", 0), 0u) << forbidden;
}

TEST_F(CliErrors, FunctionErrorsAndTimeoutsHaveCodesOfTheirOwn) {
    ASSERT_EQ(daemon().deploy("codes", function_library("sleep"), {"--timeout", "1"}).exit_code, 0);
    auto failed = daemon().cli({"invoke", "codes", "--data", "not a number"});
    EXPECT_EQ(failed.exit_code, 6) << failed;
    auto timed_out = daemon().cli({"invoke", "codes", "--data", "3000"});
    EXPECT_EQ(timed_out.exit_code, 7) << timed_out;
    EXPECT_EQ(timed_out.err, "Sandbox.Timedout: Task timed out after 1.00 seconds\n");
    auto refused = daemon().cli({"config", "codes", "--timeout", "0"});
    EXPECT_EQ(refused.exit_code, 1) << refused;
}

// No queue and one invocation at a time: a second call while the first runs is throttled.
TEST(CliThrottled, ExitsEight) {
    DaemonProcess daemon(nlohmann::json{{"limits", {{"max_queue", 0}}}});
    daemon.start();
    ASSERT_EQ(daemon.deploy("single", function_library("sleep"), {"--max-concurrency", "1", "--timeout", "10"}).exit_code,
              0);
    std::thread busy([&] { daemon.http().request("POST", "/v1/functions/single/invoke", "3000"); });
    auto http = daemon.http();
    EXPECT_TRUE(eventually([&] {
        return body_of(http.request("GET", "/v1/functions/single"))["workers"]["busy"] == 1;
    }));
    auto throttled = daemon.cli({"invoke", "single", "--data", "1"});
    EXPECT_EQ(throttled.exit_code, 8) << throttled;
    EXPECT_EQ(throttled.err.rfind("TooManyRequestsException: ", 0), 0u) << throttled;
    busy.join();
    EXPECT_EQ(daemon.stop(), 0);
}

TEST_F(CliErrors, UsageMistakesExitTwo) {
    for (const std::vector<std::string>& args :
         {std::vector<std::string>{}, {"frobnicate"}, {"deploy", "hello"}, {"invoke", "hello", "--bogus"},
          {"list", "extra"}, {"--endpoint", "localhost:8080", "list"}, {"list", "--output", "yaml"},
          {"completion", "fish"}}) {
        auto result = daemon().cli(args);
        EXPECT_EQ(result.exit_code, 2) << result;
        EXPECT_EQ(line_count(result.err), 1u) << result;
        EXPECT_EQ(result.out, "");
    }
}

TEST_F(CliErrors, UnreadableLibrary) {
    auto result = daemon().cli({"deploy", "hello", "/nonexistent/hello.so"});
    EXPECT_EQ(result.exit_code, 1) << result;
    EXPECT_EQ(result.err, "cannot read /nonexistent/hello.so: No such file or directory\n");
}

TEST_F(CliErrors, HelpEverywhere) {
    auto top = daemon().cli({"--help"});
    EXPECT_EQ(top.exit_code, 0);
    EXPECT_NE(top.out.find("exit codes:"), std::string::npos) << top.out;
    for (const char* command : {"deploy", "invoke", "list", "info", "delete", "logs", "billing", "completion"}) {
        EXPECT_NE(top.out.find(command), std::string::npos) << command;
        auto help = daemon().cli({command, "--help"});
        EXPECT_EQ(help.exit_code, 0) << help;
        EXPECT_EQ(help.out.rfind(std::string("sofaas ") + command, 0), 0u) << help;
    }
}

}  // namespace
}  // namespace sofaas::testing
