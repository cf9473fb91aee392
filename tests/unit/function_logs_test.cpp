#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "logs/function_logs.h"
#include "support/temp_dir.h"
#include "support/test_data.h"

using namespace sofaas;
using sofaas::testing::utc;
using namespace std::chrono;
namespace fs = std::filesystem;

namespace {

InvocationReport result(std::string request_id, std::optional<double> init_ms = std::nullopt) {
    InvocationReport r;
    r.request_id = std::move(request_id);
    r.function = "hello";
    r.version = 2;
    r.duration_ms = 1.234;
    r.billed_ms = 2;
    r.memory_mb = 128;
    r.max_memory_used_mb = 5;
    r.init_ms = init_ms;
    return r;
}

std::vector<std::string> messages(const std::vector<LogLine>& lines) {
    std::vector<std::string> out;
    for (const auto& line : lines) out.push_back(line.message);
    return out;
}

class FunctionLogsTest : public ::testing::Test {
protected:
    void append(InvocationReport r, std::string out, std::string err = {}, WallTime start = utc(2026, 11, 27, 12)) {
        r.start = start;
        r.captured_stdout = std::move(out);
        r.captured_stderr = std::move(err);
        store.append(r);
    }

    sofaas::testing::TempDir temp{"sofaas-logs"};
    fs::path logs = temp / "logs";
    FunctionLogStore store{logs};
};

}  // namespace

TEST(ReportLine, FollowsLambdaWithTabs) {
    EXPECT_EQ(report_line(result("abc")),
              "REPORT RequestId: abc\tDuration: 1.23 ms\tBilled Duration: 2 ms\tMemory Size: 128 MB\t"
              "Max Memory Used: 5 MB");
}

TEST(ReportLine, AddsInitDurationOnAColdStart) {
    EXPECT_EQ(report_line(result("abc", 0.8)),
              "REPORT RequestId: abc\tDuration: 1.23 ms\tBilled Duration: 2 ms\tMemory Size: 128 MB\t"
              "Max Memory Used: 5 MB\tInit Duration: 0.80 ms");
}

TEST_F(FunctionLogsTest, FramesCapturedOutputWithStartEndAndReport) {
    auto r = result("req-1", 0.5);
    append(r, "first\nsecond\npartial", "oops\n");
    auto lines = store.tail("hello", 100);
    EXPECT_EQ(messages(lines), (std::vector<std::string>{"START RequestId: req-1 Version: 2", "first", "second",
                                                         "partial", "oops", "END RequestId: req-1",
                                                         report_line(r)}));
    EXPECT_EQ(lines[0].stream, "platform");
    EXPECT_EQ(lines[1].stream, "stdout");
    EXPECT_EQ(lines[4].stream, "stderr");
    EXPECT_EQ(lines[1].request_id, "req-1");
    EXPECT_EQ(lines[1].version, 2u);
    EXPECT_EQ(lines[0].time, "2026-11-27T12:00:00.000000Z");
    EXPECT_TRUE(fs::exists(logs / "hello" / "2026-11-27.jsonl"));
}

// A caller of a public endpoint gets a generic error: the function's own is in its log,
// before END.
TEST_F(FunctionLogsTest, AFailureSaysItsErrorBeforeEnd) {
    auto failed = result("req-err");
    failed.status = InvocationStatus::error;
    failed.error_type = "Runtime.InvalidResponse";
    failed.error_message = "The function returned an invalid HTTP response: statusCode must be an integer";
    append(failed, "printed\n");
    auto timed_out = result("req-late");
    timed_out.status = InvocationStatus::timeout;
    timed_out.error_message = "Task timed out after 1.00 seconds";
    append(timed_out, "");
    EXPECT_EQ(messages(store.tail("hello", 100)),
              (std::vector<std::string>{
                  "START RequestId: req-err Version: 2", "printed",
                  "ERROR RequestId: req-err Runtime.InvalidResponse: The function returned an invalid HTTP response: "
                  "statusCode must be an integer",
                  "END RequestId: req-err", report_line(failed), "START RequestId: req-late Version: 2",
                  "ERROR RequestId: req-late Sandbox.Timedout: Task timed out after 1.00 seconds",
                  "END RequestId: req-late", report_line(timed_out)}));
}

TEST_F(FunctionLogsTest, EachLineIsAJsonObject) {
    append(result("req-1"), "say \"hi\"\t\x01 and \xff invalid utf-8\n");
    store.flush();  // the lines are written by a background thread
    std::ifstream in(logs / "hello" / "2026-11-27.jsonl");
    std::string text;
    int count = 0;
    while (std::getline(in, text)) {
        auto object = nlohmann::json::parse(text);
        for (const char* key : {"time", "request_id", "version", "stream", "message"}) {
            EXPECT_TRUE(object.contains(key)) << key;
        }
        ++count;
    }
    EXPECT_EQ(count, 4);
    EXPECT_EQ(store.tail("hello", 4)[1].message.substr(0, 10), "say \"hi\"\t\x01");
}

TEST_F(FunctionLogsTest, TailReturnsTheNewestLinesOldestFirst) {
    for (int i = 0; i < 5; ++i) append(result("req-" + std::to_string(i)), "line " + std::to_string(i));
    auto lines = store.tail("hello", 3);
    EXPECT_EQ(messages(lines), (std::vector<std::string>{"line 4", "END RequestId: req-4", report_line(result("req-4"))}));
    EXPECT_EQ(store.tail("hello", 1000).size(), 5 * 4u);
    EXPECT_TRUE(store.tail("hello", 0).empty());
}

TEST_F(FunctionLogsTest, TailCrossesDayFiles) {
    append(result("yesterday"), "old", {}, utc(2026, 11, 26, 23));
    append(result("today"), "new", {}, utc(2026, 11, 27, 1));
    auto lines = store.tail("hello", 5);
    ASSERT_EQ(lines.size(), 5u);
    EXPECT_EQ(lines[0].request_id, "yesterday");
    EXPECT_EQ(lines[0].message, report_line(result("yesterday")));
    EXPECT_EQ(lines[1].request_id, "today");
}

TEST_F(FunctionLogsTest, TailReadsLargeFilesBackwards) {
    std::string big(1000, 'x');
    for (int i = 0; i < 300; ++i) append(result("req-" + std::to_string(i)), big);  // > 64 KiB chunks
    auto lines = store.tail("hello", 401);
    ASSERT_EQ(lines.size(), 401u);
    EXPECT_EQ(lines.back().request_id, "req-299");
    EXPECT_EQ(lines.front().message, report_line(result("req-199")));
    for (const auto& line : lines) {
        if (line.stream == "stdout") {
            EXPECT_EQ(line.message, big);
        }
    }
}

TEST_F(FunctionLogsTest, TailSkipsATornLastLine) {
    append(result("req-1"), "ok");
    store.flush();
    std::ofstream(logs / "hello" / "2026-11-27.jsonl", std::ios::app) << R"({"time":"2026-11-27T12:00:00Z","req)";
    EXPECT_EQ(store.tail("hello", 1)[0].message, report_line(result("req-1")));
    // A new store (a restarted daemon) seals the torn line before appending.
    FunctionLogStore restarted(logs);
    auto after = result("req-2");
    after.start = utc(2026, 11, 27, 13);
    after.captured_stdout = "after";
    restarted.append(after);
    auto lines = restarted.tail("hello", 100);
    EXPECT_EQ(lines.size(), 8u);
    EXPECT_EQ(lines.back().request_id, "req-2");
}

TEST_F(FunctionLogsTest, ConcurrentInvocationsNeverInterleave) {
    constexpr int threads = 6, per_thread = 50;
    std::vector<std::thread> writers;
    for (int t = 0; t < threads; ++t) {
        writers.emplace_back([&, t] {
            for (int i = 0; i < per_thread; ++i) {
                auto r = result("t" + std::to_string(t) + "-" + std::to_string(i));
                append(r, "a\nb\nc\n");
            }
        });
    }
    for (auto& writer : writers) writer.join();
    auto lines = store.tail("hello", 100000);
    ASSERT_EQ(lines.size(), size_t(threads * per_thread * 6));
    for (size_t i = 0; i < lines.size(); i += 6) {
        for (size_t j = 1; j < 6; ++j) EXPECT_EQ(lines[i + j].request_id, lines[i].request_id);
        EXPECT_EQ(lines[i].message.rfind("START", 0), 0u);
    }
}

TEST_F(FunctionLogsTest, RemoveDeletesAFunctionsLogs) {
    append(result("req-1"), "ok");
    store.remove("hello");
    EXPECT_FALSE(fs::exists(logs / "hello"));
    EXPECT_TRUE(store.tail("hello", 10).empty());
    append(result("req-2"), "again");
    EXPECT_EQ(store.tail("hello", 10).size(), 4u);
}

TEST_F(FunctionLogsTest, RejectsNamesThatEscapeTheLogsDirectory) {
    EXPECT_TRUE(store.tail("../etc", 10).empty());
    store.remove("..");
    EXPECT_TRUE(fs::exists(temp.path()));
}

TEST_F(FunctionLogsTest, TruncatesRunawayOutput) {
    std::string huge(3 * 1024 * 1024, 'y');
    append(result("req-1"), huge);
    auto lines = store.tail("hello", 10);
    ASSERT_EQ(lines.size(), 5u);
    EXPECT_EQ(lines[1].message.size(), 1024 * 1024u);
    EXPECT_NE(lines[2].message.find("bytes dropped"), std::string::npos);
}
