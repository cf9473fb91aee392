// Function logs: what a function prints, framed by START / END / REPORT as on Lambda.
#include <sstream>

#include <gtest/gtest.h>

#include "support/daemon_test.h"

namespace sofaas::testing {
namespace {

class Logs : public DaemonTest {};

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> lines;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    return lines;
}

TEST_F(Logs, StdoutStderrAndPlatformLinesAppear) {
    ASSERT_EQ(daemon().deploy("logger", function_library("logger")).exit_code, 0);
    auto invoked = daemon().http().request("POST", "/v1/functions/logger/invoke", "12345");
    ASSERT_EQ(invoked.status, 200) << invoked.body;
    const std::string request_id = invoked.header("X-Sofaas-Request-Id");

    auto logs = daemon().cli({"logs", "logger"});
    ASSERT_EQ(logs.exit_code, 0) << logs;
    auto lines = lines_of(logs.out);
    auto find = [&](const std::string& needle) {
        for (const auto& line : lines) {
            if (line.find(needle) != std::string::npos) return line;
        }
        return std::string();
    };
    EXPECT_NE(find(" START RequestId: " + request_id), "") << logs.out;
    EXPECT_NE(find(" END RequestId: " + request_id), "") << logs.out;
    std::string report = find(" REPORT RequestId: " + request_id);
    EXPECT_NE(report.find("Billed Duration: "), std::string::npos) << logs.out;
    EXPECT_NE(report.find("Memory Size: 128 MB"), std::string::npos) << logs.out;
    EXPECT_NE(report.find("Init Duration: "), std::string::npos) << "a cold start: " << logs.out;

    EXPECT_NE(find(request_id + " stdout stdout line from printf (event 5 bytes)"), "") << logs.out;
    EXPECT_NE(find(request_id + " stderr stderr line from fprintf"), "") << logs.out;
    EXPECT_NE(find("line from the context log, request " + request_id), "") << logs.out;

    // Lines are in order: START first, REPORT last.
    ASSERT_FALSE(lines.empty());
    EXPECT_NE(lines.front().find(" START RequestId: "), std::string::npos) << logs.out;
    EXPECT_NE(lines.back().find(" REPORT RequestId: "), std::string::npos) << logs.out;
}

TEST_F(Logs, TailLimitsTheLines) {
    ASSERT_EQ(daemon().deploy("chatty", function_library("logger")).exit_code, 0);
    for (int i = 0; i < 3; ++i) ASSERT_EQ(daemon().cli({"invoke", "chatty"}).exit_code, 0);
    auto tail = daemon().cli({"logs", "chatty", "--tail", "2"});
    ASSERT_EQ(tail.exit_code, 0) << tail;
    auto lines = lines_of(tail.out);
    ASSERT_EQ(lines.size(), 2u) << tail.out;
    EXPECT_NE(lines[1].find(" REPORT RequestId: "), std::string::npos) << tail.out;
    EXPECT_EQ(daemon().cli({"logs", "chatty", "--tail", "many"}).exit_code, 2);
}

TEST_F(Logs, UnknownFunctionHasNoLogs) {
    auto result = daemon().cli({"logs", "nobody"});
    EXPECT_EQ(result.exit_code, 3) << result;
    EXPECT_NE(result.err.find("ResourceNotFoundException"), std::string::npos) << result;
}

}  // namespace
}  // namespace sofaas::testing
