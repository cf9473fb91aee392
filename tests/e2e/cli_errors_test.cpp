// What the CLI says when something is wrong: one clear line on stderr, exit code 2 for
// usage mistakes and 1 for everything else.
#include <gtest/gtest.h>

#include "support/daemon_test.h"
#include "support/programs.h"
#include "support/unused_port.h"

namespace sofaas::testing {
namespace {

class CliErrors : public DaemonTest {};

size_t line_count(const std::string& text) { return static_cast<size_t>(std::count(text.begin(), text.end(), '\n')); }

TEST_F(CliErrors, UnknownFunction) {
    auto result = daemon().cli({"invoke", "nobody"});
    EXPECT_EQ(result.exit_code, 1) << result;
    EXPECT_EQ(result.err.rfind("ResourceNotFoundException: ", 0), 0u) << result;
    EXPECT_NE(result.err.find("nobody"), std::string::npos) << result;
    EXPECT_EQ(line_count(result.err), 1u) << result;
    EXPECT_EQ(daemon().cli({"info", "nobody"}).exit_code, 1);
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
    auto result = run_process(programs_dir() / "sofaas", {"--endpoint", endpoint, "list"});
    EXPECT_EQ(result.exit_code, 1) << result;
    EXPECT_EQ(result.err.rfind("cannot reach sofaasd at " + endpoint + ": ", 0), 0u) << result;
    EXPECT_EQ(line_count(result.err), 1u) << result;
}

TEST_F(CliErrors, UsageMistakesExitTwo) {
    for (const std::vector<std::string>& args :
         {std::vector<std::string>{}, {"frobnicate"}, {"deploy", "hello"}, {"invoke", "hello", "--bogus"},
          {"list", "extra"}, {"--endpoint", "localhost:8080", "list"}}) {
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
    for (const char* command : {"deploy", "invoke", "list", "info", "delete", "logs", "billing"}) {
        EXPECT_NE(top.out.find(command), std::string::npos) << command;
        auto help = daemon().cli({command, "--help"});
        EXPECT_EQ(help.exit_code, 0) << help;
        EXPECT_EQ(help.out.rfind(std::string("sofaas ") + command, 0), 0u) << help;
    }
}

}  // namespace
}  // namespace sofaas::testing
