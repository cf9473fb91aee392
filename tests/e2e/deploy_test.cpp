// Deploying: the CLI prints the new version, broken libraries are refused with a reason
// and never replace the working version, list/info/delete show what is deployed.
#include <fstream>
#include <random>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/daemon_test.h"

namespace sofaas::testing {
namespace {

using nlohmann::json;

class Deploy : public DaemonTest {};

std::string file_bytes(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

TEST_F(Deploy, PrintsNameAndVersion) {
    auto first = daemon().deploy("hello", function_library("hello"));
    ASSERT_EQ(first.exit_code, 0) << first;
    EXPECT_EQ(first.out, "hello version 1\n");
    auto second = daemon().deploy("hello", function_library("hello"), {"--memory", "256"});
    ASSERT_EQ(second.exit_code, 0) << second;
    EXPECT_EQ(second.out, "hello version 2\n");

    auto invoke = daemon().cli({"invoke", "hello", "--data", "sofaas"});
    ASSERT_EQ(invoke.exit_code, 0) << invoke;
    EXPECT_EQ(invoke.out, "Hello, sofaas!");
}

TEST_F(Deploy, ListAndInfoShowSettings) {
    auto deployed = daemon().deploy("catalog", function_library("http-api"),
                                    {"--route", "GET /catalog/{id}", "--memory", "256", "--timeout", "5", "--env",
                                     "STAGE=test", "--auth", "key"});
    ASSERT_EQ(deployed.exit_code, 0) << deployed;

    auto list = daemon().cli({"list"});
    ASSERT_EQ(list.exit_code, 0) << list;
    EXPECT_EQ(list.out.rfind("NAME", 0), 0u) << list.out;
    EXPECT_NE(list.out.find("catalog"), std::string::npos) << list.out;
    EXPECT_NE(list.out.find("256 MB"), std::string::npos) << list.out;
    EXPECT_NE(list.out.find("GET /catalog/{id}"), std::string::npos) << list.out;

    auto info = daemon().cli({"info", "catalog"});
    ASSERT_EQ(info.exit_code, 0) << info;
    EXPECT_NE(info.out.find("timeout:         5 s"), std::string::npos) << info.out;
    EXPECT_NE(info.out.find("env:             STAGE=test"), std::string::npos) << info.out;
    EXPECT_NE(info.out.find("auth:            key"), std::string::npos) << info.out;
    EXPECT_NE(info.out.find("versions:        1\n"), std::string::npos) << info.out;

    auto http = daemon().http();
    auto response = http.request("GET", "/v1/functions/catalog");
    ASSERT_EQ(response.status, 200) << response.body;
    json spec = json::parse(response.body)["function"];
    EXPECT_EQ(spec["memory_mb"], 256);
    EXPECT_EQ(spec["env"]["STAGE"], "test");
    EXPECT_EQ(spec["routes"][0]["path"], "/catalog/{id}");
    EXPECT_EQ(spec["size_bytes"], file_bytes(function_library("http-api")).size());
    EXPECT_EQ(spec["sha256"].get<std::string>().size(), 64u);
}

// Each broken library and a word its rejection must contain.
struct BrokenLibrary {
    std::string label;
    std::function<std::filesystem::path(const TempDir&)> make;
    std::string reason;
};

TEST_F(Deploy, BrokenLibrariesAreRejectedAndNeverReplaceTheWorkingVersion) {
    ASSERT_EQ(daemon().deploy("sturdy", function_library("hello")).exit_code, 0);
    TempDir dir;
    std::vector<BrokenLibrary> cases = {
        {"random bytes",
         [](const TempDir& d) {
             std::mt19937 random(42);
             std::string noise(64 * 1024, '\0');
             for (char& c : noise) c = static_cast<char>(random());
             std::ofstream(d / "noise.so", std::ios::binary) << noise;
             return d / "noise.so";
         },
         "InvalidLibrary"},
        // Cut inside the loadable segments (a half-finished upload): the headers still
        // parse but the code is gone.
        {"truncated hello.so",
         [](const TempDir& d) {
             std::string bytes = file_bytes(function_library("hello"));
             std::ofstream(d / "truncated.so", std::ios::binary) << bytes.substr(0, 4096);
             return d / "truncated.so";
         },
         "InvalidLibrary"},
        {"no handler", [](const TempDir&) { return fixture_library("no_handler"); }, "HandlerNotFound"},
        {"wrong ABI", [](const TempDir&) { return fixture_library("wrong_abi"); }, "InvalidAbi"},
        {"init fails", [](const TempDir&) { return fixture_library("init_fails"); }, "InitError"},
        {"init returns an error without saying why",
         [](const TempDir&) { return fixture_library("init_returns_error"); }, "sofaas_init returned an error"},
    };
    for (const auto& broken : cases) {
        auto result = daemon().deploy("sturdy", broken.make(dir));
        EXPECT_EQ(result.exit_code, 1) << broken.label << ": " << result;
        EXPECT_NE(result.err.find("InvalidLibraryException: "), std::string::npos) << broken.label << ": " << result;
        EXPECT_NE(result.err.find(broken.reason), std::string::npos) << broken.label << ": " << result;
        EXPECT_EQ(std::count(result.err.begin(), result.err.end(), '\n'), 1) << "one line: " << result.err;
    }

    auto invoke = daemon().cli({"invoke", "sturdy", "--data", "still here"});
    EXPECT_EQ(invoke.exit_code, 0) << invoke;
    EXPECT_EQ(invoke.out, "Hello, still here!");
    auto info = json::parse(daemon().http().request("GET", "/v1/functions/sturdy").body);
    EXPECT_EQ(info["versions"], json::array({1}));
}

TEST_F(Deploy, AnotherHandlerSymbolIsNamedAtDeploy) {
    auto result = daemon().deploy("renamed", function_library("hello"), {"--handler", "no_such_symbol"});
    EXPECT_EQ(result.exit_code, 1) << result;
    EXPECT_NE(result.err.find("no_such_symbol"), std::string::npos) << result;
}

TEST_F(Deploy, BadSettingsAreRefusedWithTheSettingNamed) {
    auto timeout = daemon().deploy("settings", function_library("hello"), {"--timeout", "0"});
    EXPECT_EQ(timeout.exit_code, 1) << timeout;
    EXPECT_NE(timeout.err.find("InvalidParameterValueException"), std::string::npos) << timeout;
    EXPECT_NE(timeout.err.find("timeout"), std::string::npos) << timeout;

    auto route = daemon().deploy("settings", function_library("hello"), {"--route", "FETCH"});
    EXPECT_EQ(route.exit_code, 1) << route;
    EXPECT_NE(route.err.find("InvalidParameterValueException"), std::string::npos) << route;

    auto syntax = daemon().deploy("settings", function_library("hello"), {"--memory", "lots"});
    EXPECT_EQ(syntax.exit_code, 2) << syntax;

    EXPECT_EQ(daemon().http().request("GET", "/v1/functions/settings").status, 404);
}

TEST_F(Deploy, DeleteRemovesEveryVersion) {
    ASSERT_EQ(daemon().deploy("doomed", function_library("hello")).exit_code, 0);
    ASSERT_EQ(daemon().deploy("doomed", function_library("echo")).exit_code, 0);
    auto deleted = daemon().cli({"delete", "doomed"});
    ASSERT_EQ(deleted.exit_code, 0) << deleted;
    EXPECT_EQ(deleted.out, "deleted doomed\n");

    auto invoke = daemon().cli({"invoke", "doomed"});
    EXPECT_EQ(invoke.exit_code, 3) << invoke;
    EXPECT_NE(invoke.err.find("ResourceNotFoundException"), std::string::npos) << invoke;
    EXPECT_EQ(daemon().http().request("POST", "/fn/doomed").status, 404);
    EXPECT_EQ(daemon().cli({"list"}).out.find("doomed"), std::string::npos);
    EXPECT_EQ(daemon().cli({"delete", "doomed"}).exit_code, 3);

    auto again = daemon().deploy("doomed", function_library("hello"));
    EXPECT_EQ(again.exit_code, 0) << again;
}

}  // namespace
}  // namespace sofaas::testing
