// Invoking: by the CLI, by the control API and by the function URL (/fn/NAME), with the
// headers that tell what happened.
#include <atomic>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/daemon_test.h"

namespace sofaas::testing {
namespace {

using nlohmann::json;

class Invoke : public DaemonTest {
protected:
    static void SetUpTestSuite() {
        DaemonTest::SetUpTestSuite();
        for (const char* name : {"hello", "c-hello", "echo", "sleep", "whoami"}) {
            auto result = daemon().deploy(name, function_library(name));
            ASSERT_EQ(result.exit_code, 0) << result;
        }
    }
};

TEST_F(Invoke, ByCliPrintsTheRawOutput) {
    auto result = daemon().cli({"invoke", "hello", "--data", "sofaas"});
    ASSERT_EQ(result.exit_code, 0) << result;
    EXPECT_EQ(result.out, "Hello, sofaas!");
    EXPECT_EQ(result.err, "");

    auto c = daemon().cli({"invoke", "c-hello", "--data", "sofaas"});
    ASSERT_EQ(c.exit_code, 0) << c;
    EXPECT_EQ(c.out, "Hello from C, sofaas!");

    auto empty = daemon().cli({"invoke", "hello"});
    EXPECT_EQ(empty.out, "Hello, world!");
}

TEST_F(Invoke, ALibraryBuiltForAbiVersion1KeepsWorking) {
    auto deployed = daemon().deploy("old-abi", fixture_library("abi_v1"));
    ASSERT_EQ(deployed.exit_code, 0) << deployed;
    auto result = daemon().cli({"--output", "json", "invoke", "old-abi", "--data", "hi"});
    ASSERT_EQ(result.exit_code, 0) << result;
    const json answer = json::parse(result.out);
    EXPECT_EQ(answer["output"], "old-abi version 1, 128 MB, request " + answer["request_id"].get<std::string>() +
                                    ", event hi");
}

TEST_F(Invoke, TheFunctionIsToldWhichKeyCalledItAndTheAdminTokenIsNoOne) {
    auto key = daemon().cli({"keys", "create", "caller", "--scope", "invoke", "--json"});
    ASSERT_EQ(key.exit_code, 0) << key;
    const json created = json::parse(key.out);
    const std::string key_id = created["access_key_id"];
    HttpClient by_key = daemon().http(key_id + ":" + created["secret_access_key"].get<std::string>());
    const HttpResponse answered = by_key.request("POST", "/v1/functions/whoami/invoke", "{}");
    ASSERT_EQ(answered.status, 200) << answered.body;
    EXPECT_EQ(json::parse(answered.body)["caller"],
              (json{{"key_id", key_id}, {"role", ""}, {"user_sub", ""}, {"schedule", ""}}));

    auto by_admin = daemon().cli({"invoke", "whoami"});
    ASSERT_EQ(by_admin.exit_code, 0) << by_admin;
    EXPECT_EQ(json::parse(by_admin.out)["caller"],
              (json{{"key_id", ""}, {"role", ""}, {"user_sub", ""}, {"schedule", ""}}));
}

TEST_F(Invoke, ByCliFromFileAndStdin) {
    TempDir dir;
    std::ofstream(dir / "event.txt") << "file";
    auto from_file = daemon().cli({"invoke", "hello", "--data-file", (dir / "event.txt").string()});
    ASSERT_EQ(from_file.exit_code, 0) << from_file;
    EXPECT_EQ(from_file.out, "Hello, file!");

    auto from_stdin = daemon().cli({"invoke", "hello", "--data-file", "-"}, "stdin");
    ASSERT_EQ(from_stdin.exit_code, 0) << from_stdin;
    EXPECT_EQ(from_stdin.out, "Hello, stdin!");

    auto missing = daemon().cli({"invoke", "hello", "--data-file", (dir / "missing").string()});
    EXPECT_EQ(missing.exit_code, 1) << missing;
    EXPECT_NE(missing.err.find("cannot read"), std::string::npos) << missing;
}

TEST_F(Invoke, FunctionErrorExitsSixWithTypeAndMessage) {
    auto result = daemon().cli({"invoke", "sleep", "--data", "not a number"});
    EXPECT_EQ(result.exit_code, 6) << result;
    EXPECT_EQ(result.out, "");
    EXPECT_EQ(result.err.rfind("InvalidInput: expected a number of milliseconds", 0), 0u) << result;
}

TEST_F(Invoke, ByControlApiWithHeaders) {
    auto http = daemon().http();
    auto first = http.request("POST", "/v1/functions/echo/invoke", "ping");
    ASSERT_EQ(first.status, 200) << first.body;
    EXPECT_EQ(first.body, "ping");
    EXPECT_EQ(first.header("X-Sofaas-Status"), "ok");
    EXPECT_EQ(first.header("X-Sofaas-Version"), "1");
    EXPECT_EQ(first.header("X-Sofaas-Request-Id").size(), 36u);
    EXPECT_GE(std::stoi(first.header("X-Sofaas-Billed-Ms")), 1);
    EXPECT_FALSE(first.header("X-Sofaas-Duration-Ms").empty());

    // The first call paid the cold start; the environment stays warm for the next.
    auto second = http.request("POST", "/v1/functions/echo/invoke", "pong");
    ASSERT_EQ(second.status, 200) << second.body;
    EXPECT_FALSE(first.header("X-Sofaas-Init-Ms").empty());
    EXPECT_TRUE(second.header("X-Sofaas-Init-Ms").empty());
    EXPECT_NE(first.header("X-Sofaas-Request-Id"), second.header("X-Sofaas-Request-Id"));
}

TEST_F(Invoke, BinaryPayloadRoundTrips) {
    std::string bytes;
    for (int i = 0; i < 4096; ++i) bytes += static_cast<char>(i % 256);
    auto response = daemon().http().request("POST", "/v1/functions/echo/invoke", bytes);
    ASSERT_EQ(response.status, 200);
    EXPECT_EQ(response.body, bytes);
}

TEST_F(Invoke, ByFunctionUrlGetsTheHttpEvent) {
    auto response = daemon().http("").request("POST", "/fn/echo/some/path?colour=blue", R"({"a":1})",
                                              {{"Content-Type", "application/json"}});
    ASSERT_EQ(response.status, 200) << response.body;
    json event = json::parse(response.body);
    EXPECT_EQ(event["version"], "2.0");
    EXPECT_EQ(event["requestContext"]["http"]["method"], "POST");
    EXPECT_EQ(event["queryStringParameters"]["colour"], "blue");
    EXPECT_EQ(event["rawQueryString"], "colour=blue");
    EXPECT_EQ(event["body"], R"({"a":1})");
    EXPECT_EQ(event["isBase64Encoded"], false);
    EXPECT_EQ(response.header("X-Sofaas-Request-Id").size(), 36u);
}

TEST_F(Invoke, HelloOverHttpGreetsTheWorld) {
    auto response = daemon().http("").request("GET", "/fn/hello");
    ASSERT_EQ(response.status, 200) << response.body;
    EXPECT_EQ(response.body, "Hello, world!");
}

TEST_F(Invoke, UnknownFunctionAndVersion) {
    auto http = daemon().http();
    auto missing = http.request("POST", "/v1/functions/nobody/invoke", "x");
    EXPECT_EQ(missing.status, 404);
    EXPECT_EQ(json::parse(missing.body)["errorType"], "ResourceNotFoundException");
    EXPECT_EQ(http.request("POST", "/v1/functions/hello/invoke?version=99", "x").status, 404);
    auto cli = daemon().cli({"invoke", "hello", "--version", "99"});
    EXPECT_EQ(cli.exit_code, 3) << cli;
}

TEST_F(Invoke, PayloadOverTheLimitIs413) {
    std::string big(7 * 1024 * 1024, 'x');  // the default limit is 6 MiB
    auto response = daemon().http().request("POST", "/v1/functions/echo/invoke", big);
    EXPECT_EQ(response.status, 413) << response.body.substr(0, 200);
    // The daemon still serves after refusing it.
    auto after = daemon().http().request("POST", "/v1/functions/echo/invoke", "small");
    EXPECT_EQ(after.status, 200);
}

// The default on this machine may be one io thread ("auto": half the cores); connections
// spread over several loops, each with environments of its own, answer the same way.
TEST(InvokeOnSeveralIoThreads, ConcurrentConnectionsAreEachAnsweredAndBilledOnce) {
    DaemonProcess daemon(json{{"io_threads", 3}});
    daemon.start();
    EXPECT_NE(daemon.log().find("(3 io threads)"), std::string::npos) << daemon.log();
    ASSERT_EQ(daemon.deploy("echo", function_library("echo")).exit_code, 0);

    constexpr int connections = 6, calls_per_connection = 20;
    std::atomic<int> right_answers = 0;
    std::vector<std::thread> callers;
    for (int c = 0; c < connections; ++c) {
        callers.emplace_back([&, c] {
            auto http = daemon.http();
            for (int i = 0; i < calls_per_connection; ++i) {
                const std::string payload = "connection " + std::to_string(c) + " call " + std::to_string(i);
                const auto response = http.request("POST", "/v1/functions/echo/invoke", payload);
                if (response.status == 200 && response.body == payload) ++right_answers;
            }
        });
    }
    for (auto& caller : callers) caller.join();
    EXPECT_EQ(right_answers, connections * calls_per_connection);
    EXPECT_EQ(daemon.billing_records("echo").size(), size_t{connections * calls_per_connection});
    EXPECT_EQ(daemon.stop(), 0);
}

}  // namespace
}  // namespace sofaas::testing
