// Function logs: what a function prints, framed by START / END / REPORT as on Lambda, the
// reason of every invocation that did not succeed, filters, following, retention.
#include <atomic>
#include <mutex>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "common/time.h"
#include "support/daemon_test.h"
#include "support/eventually.h"
#include "support/programs.h"
#include "support/test_data.h"

namespace sofaas::testing {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

class Logs : public DaemonTest {};

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

// A call that succeeds and prints nothing leaves its billing record and no log bytes: its
// START / END / REPORT are rendered from the record.
TEST_F(Logs, ASilentCallStoresNoLogBytes) {
    ASSERT_EQ(daemon().deploy("quiet", function_library("hello")).exit_code, 0);
    ASSERT_EQ(daemon().http().request("POST", "/v1/functions/quiet/invoke", "cold").status, 200);
    auto warm = daemon().http().request("POST", "/v1/functions/quiet/invoke", "warm");
    ASSERT_EQ(warm.status, 200) << warm.body;
    const std::string id = warm.header("X-Sofaas-Request-Id");
    auto logs = daemon().cli({"logs", "quiet", "--request-id", id});  // after every line is written
    ASSERT_EQ(logs.exit_code, 0) << logs;
    const auto lines = lines_of(logs.out);
    ASSERT_EQ(lines.size(), 3u) << logs.out;
    EXPECT_NE(lines[0].find(" START RequestId: " + id + " Version: 1"), std::string::npos) << logs.out;
    EXPECT_NE(lines[1].find(" END RequestId: " + id), std::string::npos) << logs.out;
    EXPECT_NE(lines[2].find(" REPORT RequestId: " + id + "\tDuration: "), std::string::npos) << logs.out;
    uintmax_t stored = 0;
    std::error_code ec;
    for (const auto& entry : fs::recursive_directory_iterator(daemon().data_dir() / "logs" / "quiet", ec)) {
        if (entry.is_regular_file()) stored += entry.file_size();
    }
    EXPECT_EQ(stored, 0u);
    EXPECT_EQ(daemon().billing_records("quiet").size(), 2u);
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

// More than the cap is refused, naming it, rather than silently cut.
TEST_F(Logs, TailBeyondTheCapIsRefused) {
    ASSERT_EQ(daemon().deploy("capped", function_library("logger")).exit_code, 0);
    auto cli = daemon().cli({"logs", "capped", "--tail", "100000"});
    EXPECT_EQ(cli.exit_code, 2) << cli;
    EXPECT_NE(cli.err.find("at most 10000 lines"), std::string::npos) << cli;
    auto api = daemon().http().request("GET", "/v1/functions/capped/logs?tail=10001");
    EXPECT_EQ(api.status, 400) << api.body;
    EXPECT_NE(body_of(api)["errorMessage"].get<std::string>().find("10000"), std::string::npos) << api.body;
    EXPECT_EQ(daemon().cli({"logs", "capped", "--tail", "10000"}).exit_code, 0);
}

// The lines of one invocation, of a time range, and as stored.
TEST_F(Logs, RequestIdSinceAndJsonFilters) {
    ASSERT_EQ(daemon().deploy("filtered", function_library("logger")).exit_code, 0);
    std::vector<std::string> ids;
    for (int i = 0; i < 3; ++i) {
        auto invoked = daemon().http().request("POST", "/v1/functions/filtered/invoke", "x");
        ASSERT_EQ(invoked.status, 200) << invoked.body;
        ids.push_back(invoked.header("X-Sofaas-Request-Id"));
    }
    auto one = daemon().cli({"logs", "filtered", "--request-id", ids[1], "--json"});
    ASSERT_EQ(one.exit_code, 0) << one;
    const auto lines = lines_of(one.out);
    ASSERT_GE(lines.size(), 4u) << one.out;
    for (const auto& line : lines) {
        const json entry = json::parse(line);
        EXPECT_EQ(entry["request_id"], ids[1]) << line;
        for (const char* key : {"time", "version", "stream", "message"}) EXPECT_TRUE(entry.contains(key)) << line;
    }
    EXPECT_EQ(json::parse(lines.front())["message"], "START RequestId: " + ids[1] + " Version: 1");

    auto recent = daemon().cli({"logs", "filtered", "--since", "10m"});
    ASSERT_EQ(recent.exit_code, 0) << recent;
    EXPECT_NE(recent.out.find("START RequestId: " + ids[0]), std::string::npos) << recent.out;
    const std::string tomorrow = format_rfc3339(wall_now() + std::chrono::hours(24));
    auto none = daemon().cli({"logs", "filtered", "--since", tomorrow});
    ASSERT_EQ(none.exit_code, 0) << none;
    EXPECT_EQ(none.out, "");
    auto bad = daemon().cli({"logs", "filtered", "--since", "yesterdayish"});
    EXPECT_EQ(bad.exit_code, 1) << bad;
    EXPECT_NE(bad.err.find("since must be"), std::string::npos) << bad;
}

// Each non-ok record of the ledger has its reason in the function's log, in Lambda's shape.
TEST_F(Logs, EveryFailureLeavesItsReason) {
    struct Case {
        std::string function;
        std::filesystem::path library;
        std::vector<std::string> settings;
        std::string event;
        std::vector<std::string> expected;  // substrings of the invocation's log, {ID} its id
    };
    std::vector<Case> cases = {
        {"failer", fixture_library("responds_with"), {}, "fail",
         {R"(ERROR RequestId: {ID} Invoke Error {"errorType":"Secret.DatabaseError","errorMessage":)"
          R"("connecting to db.internal:5432 as admin failed"})"}},
        {"segv", function_library("crash"), {}, "",
         {"RequestId: {ID} Error: Runtime exited with error: signal: segmentation fault (SIGSEGV)",
          "Runtime.ExitError"}},
        {"spinner", fixture_library("spin"), {"--timeout", "1"}, "",
         {"RequestId: {ID} Error: Task timed out after 1.00 seconds", "Sandbox.Timedout"}},
        {"badurl", fixture_library("responds_with"), {"--route", "POST /logs-badurl"}, R"({"statusCode": 42})",
         {R"(Invoke Error {"errorType":"Runtime.InvalidResponse")"}},
        {"initcrash", fixture_library("slow_init"), {"--env", "CRASH_AFTER_DEPLOY=1"}, "",
         {"INIT_REPORT Init Duration: ", " ms\tPhase: init\tStatus: crash\tError Type: Runtime.ExitError",
          "RequestId: {ID} Error: Runtime exited with error: signal: aborted (SIGABRT)"}},
        {"oversized", fixture_library("big_output"), {}, std::to_string(7 * 1024 * 1024),
         {R"(ERROR RequestId: {ID} Invoke Error {"errorType":"Runtime.ResponseTooLarge")"}},
    };
    if (!programs_are_sanitized()) {  // ASan's operator new ignores the limit (quantities_test.cpp)
        cases.push_back({"hungry", fixture_library("allocate"), {"--memory", "128", "--timeout", "20"}, "400",
                         {"RequestId: {ID} Error: Runtime exited with error: out of memory (memory_mb 128)",
                          "Runtime.OutOfMemory"}});
    }
    for (const Case& c : cases) {
        SCOPED_TRACE(c.function);
        std::vector<std::string> deploy_args = c.settings;
        ASSERT_EQ(daemon().deploy(c.function, c.library, deploy_args).exit_code, 0);
        auto http = daemon().http();
        auto response = c.function == "badurl"
                            ? http.request("POST", "/logs-badurl", c.event, {{"Content-Type", "application/json"}})
                                               : http.request("POST", "/v1/functions/" + c.function + "/invoke", c.event);
        EXPECT_GE(response.status, 500) << response.body;
        const std::string id = response.header("X-Sofaas-Request-Id");

        const auto records = daemon().billing_records(c.function);
        ASSERT_EQ(records.size(), 1u);
        EXPECT_NE(records[0]["status"], "ok");
        EXPECT_EQ(records[0]["request_id"], id);

        auto logs = daemon().cli({"logs", c.function, "--request-id", id});
        ASSERT_EQ(logs.exit_code, 0) << logs;
        for (std::string expected : c.expected) {
            if (const auto at = expected.find("{ID}"); at != std::string::npos) expected.replace(at, 4, id);
            EXPECT_NE(logs.out.find(expected), std::string::npos) << expected << "\nin:\n" << logs.out;
        }
        EXPECT_NE(logs.out.find("REPORT RequestId: " + id), std::string::npos) << logs.out;
    }
}

TEST_F(Logs, UnknownFunctionHasNoLogs) {
    auto result = daemon().cli({"logs", "nobody"});
    EXPECT_EQ(result.exit_code, 3) << result;
    EXPECT_NE(result.err.find("ResourceNotFoundException"), std::string::npos) << result;
}

// A throttled call never ran and has no billing record; its log line says so, and why.
TEST(LogsOfRefusals, AThrottleIsLoggedWithItsReason) {
    DaemonProcess daemon(json{{"limits", {{"max_queue", 0}}}});
    daemon.start();
    ASSERT_EQ(daemon.deploy("single", function_library("sleep"), {"--max-concurrency", "1"}).exit_code, 0);
    // As limits_test.cpp: all arrive while the first sleeps its second.
    std::mutex mutex;
    std::string throttled_id;
    std::vector<std::thread> callers;
    for (int i = 0; i < 4; ++i) {
        callers.emplace_back([&] {
            auto response = daemon.http().request("POST", "/v1/functions/single/invoke", "1000");
            std::lock_guard lock(mutex);
            if (response.status == 429) throttled_id = response.header("X-Sofaas-Request-Id");
        });
    }
    for (auto& caller : callers) caller.join();
    ASSERT_FALSE(throttled_id.empty());
    auto logs = daemon.cli({"logs", "single", "--request-id", throttled_id});
    ASSERT_EQ(logs.exit_code, 0) << logs;
    EXPECT_NE(logs.out.find("RequestId: " + throttled_id +
                            " Not run: Rate Exceeded. (TooManyRequestsException): concurrency limit reached"),
              std::string::npos)
        << logs.out;
    for (const json& record : daemon.billing_records("single")) EXPECT_NE(record["request_id"], throttled_id);
    EXPECT_EQ(daemon.stop(), 0);
}

// `sofaas logs NAME --follow` in the background, as a user runs it in a second terminal.
class Follower {
public:
    Follower(const DaemonProcess& daemon, std::vector<std::string> args)
        : thread_([this, &daemon, args] { result_ = daemon.cli(args); done_ = true; }) {}
    ~Follower() {
        if (thread_.joinable()) thread_.join();
    }
    bool done() const { return done_; }
    const ProcessResult& result() {
        thread_.join();
        return result_;
    }

private:
    ProcessResult result_;
    std::atomic<bool> done_{false};
    std::thread thread_;
};

// Log streams open now, as /healthz counts them.
int open_streams(const DaemonProcess& daemon) {
    return body_of(daemon.http().request("GET", "/healthz")).value("log_streams", 0);
}

// With one stream allowed and taken, the next is refused at once.
bool next_follower_refused(const DaemonProcess& daemon, const std::string& function) {
    auto response = daemon.http().request("GET", "/v1/functions/" + function + "/logs?follow=1");
    return response.status == 429 && body_of(response)["errorType"] == "TooManyRequestsException";
}

class LogsFollow : public ::testing::Test {
protected:
    LogsFollow() : daemon(json{{"logs", {{"max_followers", 1}}}}) {}
    void SetUp() override { daemon.start(); }
    DaemonProcess daemon;
};

TEST_F(LogsFollow, StreamsNewLinesUntilTheFunctionIsDeleted) {
    ASSERT_EQ(daemon.deploy("watched", function_library("logger")).exit_code, 0);
    auto before = daemon.http().request("POST", "/v1/functions/watched/invoke", "old");
    Follower follower(daemon, {"logs", "watched", "--follow", "--tail", "1"});
    ASSERT_TRUE(eventually([&] { return open_streams(daemon) == 1; }));
    EXPECT_TRUE(next_follower_refused(daemon, "watched"));
    auto during = daemon.http().request("POST", "/v1/functions/watched/invoke", "new");
    ASSERT_EQ(during.status, 200);
    const std::string id = during.header("X-Sofaas-Request-Id");
    // Lines are written within milliseconds; the stream carries them as they are.
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    EXPECT_FALSE(follower.done());
    ASSERT_EQ(daemon.cli({"delete", "watched"}).exit_code, 0);

    const ProcessResult& result = follower.result();
    EXPECT_EQ(result.exit_code, 0) << result;
    const auto lines = lines_of(result.out);
    ASSERT_GE(lines.size(), 6u) << result.out;
    EXPECT_NE(lines.front().find("REPORT RequestId: " + before.header("X-Sofaas-Request-Id")), std::string::npos)
        << result.out;
    EXPECT_NE(result.out.find("START RequestId: " + id), std::string::npos) << result.out;
    EXPECT_NE(result.out.find(id + " stdout stdout line from printf (event 3 bytes)"), std::string::npos) << result.out;
    EXPECT_NE(result.out.find("REPORT RequestId: " + id), std::string::npos) << result.out;
    EXPECT_NE(lines.back().find("Log stream ended: the function was deleted"), std::string::npos) << result.out;
    // The slot is free again.
    EXPECT_TRUE(eventually([&] { return open_streams(daemon) == 0; }));
    EXPECT_EQ(daemon.stop(), 0);
}

// Lines reach the reader while the stream is open, and a reader that hangs up frees its
// slot at once, not at the next line or heartbeat.
TEST_F(LogsFollow, LinesArriveLiveAndAHangUpFreesTheSlot) {
    ASSERT_EQ(daemon.deploy("live", function_library("logger")).exit_code, 0);
    std::mutex mutex;
    std::string received, awaited;  // awaited: the REPORT line the reader stops after
    std::atomic<bool> reader_done{false};
    struct Enough {};
    std::thread reader([&] {
        auto client = daemon.http();
        try {
            client.stream("GET", "/v1/functions/live/logs?follow=1&tail=1", [&](std::string_view piece) {
                std::lock_guard lock(mutex);
                received += piece;
                if (!awaited.empty() && received.find(awaited) != std::string::npos) throw Enough{};
            });
        } catch (const Enough&) {
        }
        reader_done = true;  // and the client, its connection with it, is gone
    });
    ASSERT_TRUE(eventually([&] { return open_streams(daemon) == 1; }));
    auto invoked = daemon.http().request("POST", "/v1/functions/live/invoke", "live");
    ASSERT_EQ(invoked.status, 200);
    {
        std::lock_guard lock(mutex);
        awaited = "REPORT RequestId: " + invoked.header("X-Sofaas-Request-Id");
    }
    // Its REPORT comes while the stream is open; the heartbeat (every 10 s) also wakes
    // the reader should it have come before `awaited` was set.
    const bool streamed = eventually([&] { return reader_done.load(); }, std::chrono::seconds(15));
    if (!streamed) daemon.cli({"delete", "live"});  // ends the stream, so the reader returns
    reader.join();
    EXPECT_TRUE(streamed) << received;
    EXPECT_TRUE(eventually([&] { return open_streams(daemon) == 0; }, std::chrono::seconds(5)));
    EXPECT_EQ(daemon.stop(), 0);
}

TEST_F(LogsFollow, AStoppingDaemonEndsTheStream) {
    ASSERT_EQ(daemon.deploy("watched", function_library("logger")).exit_code, 0);
    Follower follower(daemon, {"logs", "watched", "--follow", "--json"});
    ASSERT_TRUE(eventually([&] { return open_streams(daemon) == 1; }));
    EXPECT_EQ(daemon.stop(), 0);
    const ProcessResult& result = follower.result();
    EXPECT_EQ(result.exit_code, 0) << result;
    const auto lines = lines_of(result.out);
    ASSERT_FALSE(lines.empty()) << result.out;
    EXPECT_EQ(json::parse(lines.back())["message"], "Log stream ended: the daemon is stopping");
}

TEST_F(LogsFollow, AnUnknownFunctionCannotBeFollowed) {
    auto result = daemon.cli({"logs", "nobody", "--follow"});
    EXPECT_EQ(result.exit_code, 3) << result;
    EXPECT_NE(result.err.find("ResourceNotFoundException"), std::string::npos) << result;
    // The refused stream did not keep its slot.
    ASSERT_EQ(daemon.deploy("somebody", function_library("logger")).exit_code, 0);
    EXPECT_EQ(open_streams(daemon), 0);
    Follower follower(daemon, {"logs", "somebody", "--follow"});
    EXPECT_TRUE(eventually([&] { return open_streams(daemon) == 1; }));
    EXPECT_EQ(daemon.stop(), 0);
}

// Old day-files go, by the configured age; today's and the billing ledger stay.
TEST(LogsRetention, OldDayFilesAreDeletedAndTheLedgerIsKept) {
    DaemonProcess daemon(json{{"logs", {{"max_age_days", 2}}}});
    daemon.start();
    ASSERT_EQ(daemon.deploy("kept", function_library("logger")).exit_code, 0);
    ASSERT_EQ(daemon.cli({"invoke", "kept"}).exit_code, 0);
    const fs::path logs = daemon.data_dir() / "logs" / "kept";
    const std::string today = format_date(wall_now()) + ".jsonl";
    const std::string three_days_ago = format_date(wall_now() - std::chrono::hours(72)) + ".jsonl";
    const std::string old = format_date(wall_now() - std::chrono::hours(24 * 30)) + ".jsonl";
    for (const std::string& name : {old, three_days_ago}) {
        std::ofstream(logs / name) << R"({"time":"2020-01-01T00:00:00.000000Z","request_id":"r","version":1,)"
                                      R"("stream":"stdout","message":"old"})"
                                   << "\n";
    }
    const auto records_before = daemon.all_billing_records("kept");
    daemon.restart();  // a pass at start; then one a minute
    EXPECT_FALSE(fs::exists(logs / old));
    EXPECT_FALSE(fs::exists(logs / three_days_ago));
    EXPECT_TRUE(fs::exists(logs / today));
    EXPECT_EQ(daemon.all_billing_records("kept").size(), records_before.size());
    auto shown = daemon.cli({"logs", "kept"});
    EXPECT_EQ(shown.out.find(" old\n"), std::string::npos) << shown.out;
    EXPECT_NE(shown.out.find("REPORT RequestId: "), std::string::npos) << shown.out;
    EXPECT_EQ(daemon.stop(), 0);
}

}  // namespace
}  // namespace sofaas::testing
