#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <mutex>
#include <optional>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "billing/ledger.h"
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

// As the scheduler records an invocation: its billing record (unless it was refused before
// it ran), then its log.
void record(Ledger& ledger, FunctionLogStore& store, const InvocationReport& report) {
    if (report.status != InvocationStatus::throttled && report.status != InvocationStatus::unavailable) {
        ASSERT_TRUE(ledger.append(report));
    }
    store.append(report);
}

class FunctionLogsTest : public ::testing::Test {
protected:
    void append(InvocationReport r, std::string out, std::string err = {}, WallTime start = utc(2026, 11, 27, 12)) {
        r.start = start;
        r.captured_stdout = std::move(out);
        r.captured_stderr = std::move(err);
        record(ledger, store, r);
    }

    sofaas::testing::TempDir temp{"sofaas-logs"};
    fs::path logs = temp / "logs";
    Ledger ledger{temp / "billing", LedgerOptions{0ms}};
    // The day of the lines written: retention keeps them.
    FunctionLogStore store{logs, ledger, LogSettings{}, Limits{}, [] { return utc(2026, 11, 27, 12); }};
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
    auto lines = store.tail("hello", {.count = 100});
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
// before END, in Lambda's shape for its kind.
TEST_F(FunctionLogsTest, AFunctionErrorLogsItsErrorObject) {
    auto failed = result("req-err");
    failed.status = InvocationStatus::error;
    failed.error_type = "Runtime.InvalidResponse";
    failed.error_message = "statusCode must be an \"integer\"";
    append(failed, "printed\n");
    EXPECT_EQ(messages(store.tail("hello", {.count = 100})),
              (std::vector<std::string>{
                  "START RequestId: req-err Version: 2", "printed",
                  R"(ERROR RequestId: req-err Invoke Error {"errorType":"Runtime.InvalidResponse",)"
                  R"("errorMessage":"statusCode must be an \"integer\""})",
                  "END RequestId: req-err", report_line(failed)}));
}

TEST_F(FunctionLogsTest, ARuntimeFailureLogsItsErrorAndType) {
    auto crashed = result("req-crash");
    crashed.status = InvocationStatus::crash;
    crashed.error_type = "Runtime.ExitError";
    crashed.error_message = "Runtime exited with error: signal: segmentation fault (SIGSEGV)";
    append(crashed, "");
    auto timed_out = result("req-late");
    timed_out.status = InvocationStatus::timeout;
    timed_out.error_message = "Task timed out after 1.00 seconds";
    append(timed_out, "");
    auto out_of_memory = result("req-oom");
    out_of_memory.status = InvocationStatus::oom;
    append(out_of_memory, "");
    EXPECT_EQ(messages(store.tail("hello", {.count = 100})),
              (std::vector<std::string>{
                  "START RequestId: req-crash Version: 2",
                  "RequestId: req-crash Error: Runtime exited with error: signal: segmentation fault (SIGSEGV)",
                  "Runtime.ExitError", "END RequestId: req-crash", report_line(crashed),
                  "START RequestId: req-late Version: 2",
                  "RequestId: req-late Error: Task timed out after 1.00 seconds", "Sandbox.Timedout",
                  "END RequestId: req-late", report_line(timed_out), "START RequestId: req-oom Version: 2",
                  "RequestId: req-oom Error: Runtime exited with error: out of memory (memory_mb 128)",
                  "Runtime.OutOfMemory", "END RequestId: req-oom", report_line(out_of_memory)}));
}

TEST_F(FunctionLogsTest, AnInitFailureLogsAnInitReport) {
    auto failed = result("req-init", 12.5);
    failed.status = InvocationStatus::crash;
    failed.failed_in_init = true;
    failed.duration_ms = 0;
    failed.error_type = "Runtime.ExitError";
    failed.error_message = "Runtime exited with error: exit status 3";
    append(failed, "init says hi\n");
    const auto lines = messages(store.tail("hello", {.count = 100}));
    ASSERT_EQ(lines.size(), 7u);
    EXPECT_EQ(lines[1], "init says hi");
    EXPECT_EQ(lines[2], "INIT_REPORT Init Duration: 12.50 ms\tPhase: init\tStatus: crash\tError Type: Runtime.ExitError");
    EXPECT_EQ(lines[3], "RequestId: req-init Error: Runtime exited with error: exit status 3");
}

// Not the function's doing, and said so: a host fault, a throttle.
TEST_F(FunctionLogsTest, HostFaultsAndThrottlesArePlatformLines) {
    auto fault = result("req-host");
    fault.status = InvocationStatus::host_fault;
    fault.error_type = "ServiceException";
    fault.error_message = "The host could not start a worker; see the daemon log.";
    append(fault, "");
    auto throttled = result("req-busy");
    throttled.status = InvocationStatus::throttled;
    throttled.error_type = "TooManyRequestsException";
    throttled.error_message = "Rate Exceeded.";
    throttled.refusal_reason = "concurrency limit reached and the queue is full";
    append(throttled, "");
    const auto lines = store.tail("hello", {.count = 100});
    ASSERT_EQ(lines.size(), 5u);
    EXPECT_EQ(lines[1].message,
              "RequestId: req-host Host fault (not the function's, not billed): The host could not start a worker; "
              "see the daemon log. (ServiceException)");
    EXPECT_EQ(lines[4].message,
              "RequestId: req-busy Not run: Rate Exceeded. (TooManyRequestsException): concurrency limit reached and "
              "the queue is full");
    EXPECT_EQ(lines[4].stream, "platform");
    EXPECT_EQ(lines[4].request_id, "req-busy");
}

TEST_F(FunctionLogsTest, TailFiltersByRequestIdAndTime) {
    append(result("early"), "one", {}, utc(2026, 11, 26, 10));
    append(result("late"), "two", {}, utc(2026, 11, 27, 10));
    append(result("later"), "three", {}, utc(2026, 11, 27, 11));
    EXPECT_EQ(messages(store.tail("hello", {.count = 100, .request_id = "late"})),
              (std::vector<std::string>{"START RequestId: late Version: 2", "two", "END RequestId: late",
                                        report_line(result("late"))}));
    EXPECT_EQ(store.tail("hello", {.count = 2, .request_id = "early"}).size(), 2u);
    const auto since = store.tail("hello", {.count = 100, .since = utc(2026, 11, 27, 10, 30)});
    ASSERT_EQ(since.size(), 4u);
    EXPECT_EQ(since.front().request_id, "later");
    EXPECT_EQ(store.tail("hello", {.count = 100, .since = utc(2026, 11, 27)}).size(), 8u);
}

// The file holds what the function printed, one JSON object per run: START / END / REPORT
// are its billing record's, and rendered from it.
TEST_F(FunctionLogsTest, StoresOneJsonObjectPerRunWithoutStartEndOrReport) {
    append(result("req-1"), "say \"hi\"\t\x01 and \xff invalid utf-8\nsecond\n");
    store.flush();  // the lines are written by a background thread
    const auto stored = sofaas::testing::lines_of(sofaas::testing::file_text(logs / "hello" / "2026-11-27.jsonl"));
    ASSERT_EQ(stored.size(), 1u);
    const auto object = nlohmann::json::parse(stored[0]);
    EXPECT_EQ(object["request_id"], "req-1");
    EXPECT_EQ(object["start"], "2026-11-27T12:00:00.000000Z");
    ASSERT_EQ(object["lines"].size(), 2u);
    EXPECT_EQ(object["lines"][0]["stream"], "stdout");
    EXPECT_EQ(object["lines"][1]["message"], "second");
    EXPECT_EQ(stored[0].find("START"), std::string::npos);
    EXPECT_EQ(stored[0].find("REPORT"), std::string::npos);
    EXPECT_EQ(store.tail("hello", {.count = 5})[1].message.substr(0, 10), "say \"hi\"\t\x01");
}

TEST_F(FunctionLogsTest, ASilentSuccessfulRunStoresNothing) {
    append(result("req-quiet"), "");
    store.flush();
    EXPECT_FALSE(fs::exists(logs / "hello" / "2026-11-27.jsonl"));
    EXPECT_EQ(messages(store.tail("hello", {.count = 10})),
              (std::vector<std::string>{"START RequestId: req-quiet Version: 2", "END RequestId: req-quiet",
                                        report_line(result("req-quiet"))}));
}

// Logs are best effort, the ledger is not: a run whose lines were lost still shows.
TEST_F(FunctionLogsTest, ARecordWhoseLinesWereLostStillRenders) {
    auto r = result("req-lost");
    r.start = utc(2026, 11, 27, 11);
    ASSERT_TRUE(ledger.append(r));
    EXPECT_EQ(messages(store.tail("hello", {.count = 10})),
              (std::vector<std::string>{"START RequestId: req-lost Version: 2", "END RequestId: req-lost",
                                        report_line(r)}));
}

TEST_F(FunctionLogsTest, TailReturnsTheNewestLinesOldestFirst) {
    for (int i = 0; i < 5; ++i) append(result("req-" + std::to_string(i)), "line " + std::to_string(i));
    auto lines = store.tail("hello", {.count = 3});
    EXPECT_EQ(messages(lines), (std::vector<std::string>{"line 4", "END RequestId: req-4", report_line(result("req-4"))}));
    EXPECT_EQ(store.tail("hello", {.count = 1000}).size(), 5 * 4u);
    EXPECT_TRUE(store.tail("hello", {.count = 0}).empty());
}

TEST_F(FunctionLogsTest, TailCrossesDayFiles) {
    append(result("yesterday"), "old", {}, utc(2026, 11, 26, 23));
    append(result("today"), "new", {}, utc(2026, 11, 27, 1));
    auto lines = store.tail("hello", {.count = 5});
    ASSERT_EQ(lines.size(), 5u);
    EXPECT_EQ(lines[0].request_id, "yesterday");
    EXPECT_EQ(lines[0].message, report_line(result("yesterday")));
    EXPECT_EQ(lines[1].request_id, "today");
}

TEST_F(FunctionLogsTest, TailReadsLargeFilesBackwards) {
    std::string big(1000, 'x');
    for (int i = 0; i < 300; ++i) append(result("req-" + std::to_string(i)), big);  // > 64 KiB chunks
    auto lines = store.tail("hello", {.count = 401});
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
    EXPECT_EQ(store.tail("hello", {.count = 1})[0].message, report_line(result("req-1")));
    // A new store (a restarted daemon) seals the torn line before appending.
    FunctionLogStore restarted(logs, ledger, LogSettings{}, Limits{}, [] { return utc(2026, 11, 27, 13); });
    auto after = result("req-2");
    after.start = utc(2026, 11, 27, 13);
    after.captured_stdout = "after";
    record(ledger, restarted, after);
    auto lines = restarted.tail("hello", {.count = 100});
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
    auto lines = store.tail("hello", {.count = 100000});
    ASSERT_EQ(lines.size(), size_t(threads * per_thread * 6));
    for (size_t i = 0; i < lines.size(); i += 6) {
        for (size_t j = 1; j < 6; ++j) EXPECT_EQ(lines[i + j].request_id, lines[i].request_id);
        EXPECT_EQ(lines[i].message.rfind("START", 0), 0u);
    }
}

// The billing records stay, but a function made again under the name has a log of its own.
TEST_F(FunctionLogsTest, RemoveDeletesAFunctionsLogs) {
    append(result("req-1"), "ok", {}, utc(2026, 11, 27, 11));
    store.remove("hello");
    EXPECT_FALSE(fs::exists(logs / "hello" / "2026-11-27.jsonl"));
    EXPECT_TRUE(store.tail("hello", {.count = 10}).empty());
    EXPECT_EQ(ledger.query({}).size(), 1u);
    append(result("req-2"), "again");
    const auto lines = store.tail("hello", {.count = 10});
    ASSERT_EQ(lines.size(), 4u);
    EXPECT_EQ(lines[0].request_id, "req-2");
}

TEST_F(FunctionLogsTest, RejectsNamesThatEscapeTheLogsDirectory) {
    EXPECT_TRUE(store.tail("../etc", {.count = 10}).empty());
    store.remove("..");
    EXPECT_TRUE(fs::exists(temp.path()));
}

TEST_F(FunctionLogsTest, TruncatesRunawayOutput) {
    std::string huge(3 * 1024 * 1024, 'y');
    append(result("req-1"), huge);
    auto lines = store.tail("hello", {.count = 10});
    ASSERT_EQ(lines.size(), 5u);
    EXPECT_EQ(lines[1].message.size(), 1024 * 1024u);
    EXPECT_NE(lines[2].message.find("bytes dropped"), std::string::npos);
}

namespace {

// What a follower was told, on the writer's thread.
class RecordingFollower : public LogFollower {
public:
    void on_lines(std::string_view jsonl, size_t count) override {
        std::lock_guard lock(mutex);
        text += jsonl;
        lines += count;
    }
    void on_end(std::string_view why) override {
        std::lock_guard lock(mutex);
        ended = std::string(why);
    }

    std::mutex mutex;
    std::string text;
    size_t lines = 0;
    std::optional<std::string> ended;
};

}  // namespace

TEST_F(FunctionLogsTest, AFollowerGetsEachNewLineOnce) {
    append(result("before"), "old");
    auto follower = std::make_shared<RecordingFollower>();
    const auto first = store.follow("hello", {.count = 2}, follower);
    EXPECT_EQ(messages(first), (std::vector<std::string>{"END RequestId: before", report_line(result("before"))}));
    append(result("after"), "new");
    append(result("after-that"), "also new");
    store.flush();
    // The same lines as the file holds, since the follow began.
    std::lock_guard lock(follower->mutex);
    EXPECT_EQ(follower->lines, 8u);
    EXPECT_NE(follower->text.find(R"("message":"new")"), std::string::npos);
    EXPECT_EQ(follower->text.find(R"("message":"old")"), std::string::npos);
    EXPECT_FALSE(follower->ended);
}

TEST_F(FunctionLogsTest, AFollowerOfOneRequestGetsOnlyItsLines) {
    auto follower = std::make_shared<RecordingFollower>();
    store.follow("hello", {.count = 10, .request_id = "wanted"}, follower);
    append(result("unwanted"), "no");
    append(result("wanted"), "yes");
    store.flush();
    std::lock_guard lock(follower->mutex);
    EXPECT_EQ(follower->lines, 4u);
    EXPECT_EQ(follower->text.find("unwanted"), std::string::npos);
}

TEST_F(FunctionLogsTest, DeletingAFunctionEndsItsFollowers) {
    auto follower = std::make_shared<RecordingFollower>();
    store.follow("hello", {}, follower);
    auto bystander = std::make_shared<RecordingFollower>();
    store.follow("other", {}, bystander);
    store.remove("hello");
    EXPECT_EQ(follower->ended, "the function was deleted");
    EXPECT_FALSE(bystander->ended);
}

TEST_F(FunctionLogsTest, AFollowerThatIsGoneIsForgotten) {
    auto follower = std::make_shared<RecordingFollower>();
    store.follow("hello", {}, follower);
    follower.reset();
    append(result("req-1"), "nobody listens");
    EXPECT_EQ(store.tail("hello", {.count = 10}).size(), 4u);
}

namespace {

// A store whose clock the test moves, with small limits.
class LogRetentionTest : public ::testing::Test {
protected:
    void write_day(const std::string& function, const std::string& date, size_t bytes) {
        fs::create_directories(logs / function);
        std::string text;
        while (text.size() < bytes) text += R"({"time":")" + date + R"(T00:00:00.000000Z","message":"x"})" "\n";
        std::ofstream(logs / function / (date + ".jsonl")) << text;
    }
    std::vector<std::string> days(const std::string& function) {
        std::vector<std::string> names;
        for (const auto& entry : fs::directory_iterator(logs / function)) names.push_back(entry.path().filename());
        std::sort(names.begin(), names.end());
        return names;
    }

    sofaas::testing::TempDir temp{"sofaas-retention"};
    fs::path logs = temp / "logs";
    WallTime now = utc(2026, 12, 10, 12);
    Ledger ledger{temp / "billing", LedgerOptions{0ms}};
    FunctionLogStore store{logs, ledger, LogSettings{.max_bytes_per_function = 10'000, .max_age_days = 7},
                           Limits{}, [this] { return now; }};
};

}  // namespace

TEST_F(LogRetentionTest, DeletesDayFilesPastTheAge) {
    for (const char* date : {"2026-12-01", "2026-12-02", "2026-12-03", "2026-12-09"}) write_day("hello", date, 100);
    // Not a day-file: never touched.
    std::ofstream(logs / "hello" / "notes.txt") << "mine";
    EXPECT_EQ(store.enforce_retention(), 2u);
    EXPECT_EQ(days("hello"), (std::vector<std::string>{"2026-12-03.jsonl", "2026-12-09.jsonl", "notes.txt"}));
    now += std::chrono::hours(24);
    EXPECT_EQ(store.enforce_retention(), 1u);
    EXPECT_EQ(days("hello"), (std::vector<std::string>{"2026-12-09.jsonl", "notes.txt"}));
}

// The ledger's day-files have the logs' names: a symlink in the logs directory, to a
// directory or to a file, leads retention nowhere.
TEST_F(LogRetentionTest, FollowsNoSymlink) {
    const fs::path billing = temp / "billing";
    fs::create_directories(billing);
    std::ofstream(billing / "2026-12-01.jsonl") << "{\"request_id\":\"r\"}\n";
    fs::create_directories(logs);
    fs::create_directory_symlink(billing, logs / "linked");
    write_day("hello", "2026-12-09", 100);
    fs::create_symlink(billing / "2026-12-01.jsonl", logs / "hello" / "2026-12-02.jsonl");
    EXPECT_EQ(store.enforce_retention(), 0u);
    EXPECT_TRUE(fs::exists(billing / "2026-12-01.jsonl"));
    EXPECT_TRUE(fs::is_symlink(logs / "hello" / "2026-12-02.jsonl"));
}

TEST_F(LogRetentionTest, DeletesTheOldestFilesPastTheSizeThenTrimsTheNewest) {
    write_day("hello", "2026-12-08", 6'000);
    write_day("hello", "2026-12-09", 3'000);
    write_day("hello", "2026-12-10", 3'000);
    write_day("small", "2026-12-08", 3'000);
    store.enforce_retention();
    EXPECT_EQ(days("hello"), (std::vector<std::string>{"2026-12-09.jsonl", "2026-12-10.jsonl"}));
    EXPECT_EQ(days("small"), (std::vector<std::string>{"2026-12-08.jsonl"}));

    write_day("big", "2026-12-10", 30'000);
    store.enforce_retention();
    const std::string kept = sofaas::testing::file_text(logs / "big" / "2026-12-10.jsonl");
    EXPECT_LE(kept.size(), 5'000u);
    EXPECT_GT(kept.size(), 4'000u);
    // Whole lines only, the newest kept.
    EXPECT_EQ(kept.front(), '{');
    EXPECT_EQ(kept.back(), '\n');
}

TEST_F(LogRetentionTest, WritesGoOnAfterATrim) {
    InvocationReport report = result("req-1");
    report.start = now;
    report.captured_stdout = std::string(20'000, 'z');
    record(ledger, store, report);
    store.flush();
    store.enforce_retention();
    report.request_id = "req-2";
    report.captured_stdout = "after the trim";
    record(ledger, store, report);
    const auto lines = store.tail("hello", {.count = 4});
    ASSERT_EQ(lines.size(), 4u);
    EXPECT_EQ(lines[1].message, "after the trim");
    EXPECT_LT(fs::file_size(logs / "hello" / "2026-12-10.jsonl"), 10'000u);
}

// A daemon that was down past the age finds the old files gone as it starts.
TEST(LogRetentionAtStart, AStoreDeletesOldFilesWhenItIsMade) {
    sofaas::testing::TempDir temp{"sofaas-retention-start"};
    fs::create_directories(temp / "logs" / "hello");
    std::ofstream(temp / "logs" / "hello" / "2026-11-01.jsonl") << "{}\n";
    std::ofstream(temp / "logs" / "hello" / "2026-12-09.jsonl") << "{}\n";
    Ledger ledger(temp / "billing", LedgerOptions{0ms});
    FunctionLogStore store(temp / "logs", ledger, LogSettings{.max_age_days = 7}, Limits{},
                           [] { return utc(2026, 12, 10); });
    EXPECT_FALSE(fs::exists(temp / "logs" / "hello" / "2026-11-01.jsonl"));
    EXPECT_TRUE(fs::exists(temp / "logs" / "hello" / "2026-12-09.jsonl"));
}

namespace {

// One function's calls of every kind, as the scheduler reports them.
std::vector<InvocationReport> calls_of_every_kind() {
    std::vector<InvocationReport> calls;
    auto call = [&](std::string id, WallTime start, InvocationStatus status) -> InvocationReport& {
        InvocationReport& r = calls.emplace_back(result(std::move(id)));
        r.function = "mixed";
        r.start = start;
        r.status = status;
        return r;
    };
    auto& cold = call("req-cold", utc(2026, 11, 27, 11, 0, 0), InvocationStatus::ok);
    cold.init_ms = 0.625;
    cold.captured_stdout = "hello\nworld";
    cold.captured_stderr = "careful\n";
    call("req-quiet", utc(2026, 11, 27, 11, 0, 1), InvocationStatus::ok);
    auto& error = call("req-error", utc(2026, 11, 27, 11, 0, 2), InvocationStatus::error);
    error.captured_stdout = "about to fail\n";
    error.error_type = "Custom.Error";
    error.error_message = "it went \"wrong\"";
    auto& timeout = call("req-timeout", utc(2026, 11, 27, 11, 0, 3), InvocationStatus::timeout);
    timeout.duration_ms = 1000.125;
    timeout.billed_ms = 1001;
    timeout.error_message = "Task timed out after 1.00 seconds";
    auto& crash = call("req-crash", utc(2026, 11, 27, 11, 0, 5), InvocationStatus::crash);
    crash.error_type = "Runtime.ExitError";
    crash.error_message = "Runtime exited with error: signal: segmentation fault (SIGSEGV)";
    auto& throttled = call("req-throttled", utc(2026, 11, 27, 11, 0, 6), InvocationStatus::throttled);
    throttled.error_type = "TooManyRequestsException";
    throttled.error_message = "Rate Exceeded.";
    throttled.refusal_reason = "concurrency limit reached and the queue is full";
    auto& init = call("req-init", utc(2026, 11, 27, 11, 0, 7), InvocationStatus::crash);
    init.failed_in_init = true;
    init.duration_ms = 0;
    init.init_ms = 12.5;
    init.captured_stdout = "init says hi\n";
    init.error_type = "Runtime.ExitError";
    init.error_message = "Runtime exited with error: exit status 3";
    auto& fault = call("req-fault", utc(2026, 11, 27, 11, 0, 8), InvocationStatus::host_fault);
    fault.error_type = "ServiceException";
    fault.error_message = "The host could not start a worker; see the daemon log.";
    auto& warm = call("warm-init", utc(2026, 11, 27, 11, 0, 9), InvocationStatus::ok);
    warm.trigger = Trigger::warm;
    warm.duration_ms = 0;
    warm.init_ms = 3.5;
    auto& refused = call("req-refused", utc(2026, 11, 27, 11, 0, 10), InvocationStatus::unavailable);
    refused.error_type = "ServiceUnavailableException";
    refused.error_message = "The billing ledger cannot record invocations now.";
    return calls;
}

// What the function log of those calls read before START / END / REPORT were rendered
// from the ledger (they were stored then): the same lines, in the same order.
constexpr std::string_view golden_rendering = R"golden({"time":"2026-11-27T11:00:00.000000Z","request_id":"req-cold","version":2,"stream":"platform","message":"START RequestId: req-cold Version: 2"}
{"time":"2026-11-27T11:00:00.000000Z","request_id":"req-cold","version":2,"stream":"stdout","message":"hello"}
{"time":"2026-11-27T11:00:00.000000Z","request_id":"req-cold","version":2,"stream":"stdout","message":"world"}
{"time":"2026-11-27T11:00:00.000000Z","request_id":"req-cold","version":2,"stream":"stderr","message":"careful"}
{"time":"2026-11-27T11:00:00.001234Z","request_id":"req-cold","version":2,"stream":"platform","message":"END RequestId: req-cold"}
{"time":"2026-11-27T11:00:00.001234Z","request_id":"req-cold","version":2,"stream":"platform","message":"REPORT RequestId: req-cold\tDuration: 1.23 ms\tBilled Duration: 2 ms\tMemory Size: 128 MB\tMax Memory Used: 5 MB\tInit Duration: 0.62 ms"}
{"time":"2026-11-27T11:00:01.000000Z","request_id":"req-quiet","version":2,"stream":"platform","message":"START RequestId: req-quiet Version: 2"}
{"time":"2026-11-27T11:00:01.001234Z","request_id":"req-quiet","version":2,"stream":"platform","message":"END RequestId: req-quiet"}
{"time":"2026-11-27T11:00:01.001234Z","request_id":"req-quiet","version":2,"stream":"platform","message":"REPORT RequestId: req-quiet\tDuration: 1.23 ms\tBilled Duration: 2 ms\tMemory Size: 128 MB\tMax Memory Used: 5 MB"}
{"time":"2026-11-27T11:00:02.000000Z","request_id":"req-error","version":2,"stream":"platform","message":"START RequestId: req-error Version: 2"}
{"time":"2026-11-27T11:00:02.000000Z","request_id":"req-error","version":2,"stream":"stdout","message":"about to fail"}
{"time":"2026-11-27T11:00:02.001234Z","request_id":"req-error","version":2,"stream":"platform","message":"ERROR RequestId: req-error Invoke Error {\"errorType\":\"Custom.Error\",\"errorMessage\":\"it went \\\"wrong\\\"\"}"}
{"time":"2026-11-27T11:00:02.001234Z","request_id":"req-error","version":2,"stream":"platform","message":"END RequestId: req-error"}
{"time":"2026-11-27T11:00:02.001234Z","request_id":"req-error","version":2,"stream":"platform","message":"REPORT RequestId: req-error\tDuration: 1.23 ms\tBilled Duration: 2 ms\tMemory Size: 128 MB\tMax Memory Used: 5 MB"}
{"time":"2026-11-27T11:00:03.000000Z","request_id":"req-timeout","version":2,"stream":"platform","message":"START RequestId: req-timeout Version: 2"}
{"time":"2026-11-27T11:00:04.000125Z","request_id":"req-timeout","version":2,"stream":"platform","message":"RequestId: req-timeout Error: Task timed out after 1.00 seconds"}
{"time":"2026-11-27T11:00:04.000125Z","request_id":"req-timeout","version":2,"stream":"platform","message":"Sandbox.Timedout"}
{"time":"2026-11-27T11:00:04.000125Z","request_id":"req-timeout","version":2,"stream":"platform","message":"END RequestId: req-timeout"}
{"time":"2026-11-27T11:00:04.000125Z","request_id":"req-timeout","version":2,"stream":"platform","message":"REPORT RequestId: req-timeout\tDuration: 1000.12 ms\tBilled Duration: 1001 ms\tMemory Size: 128 MB\tMax Memory Used: 5 MB"}
{"time":"2026-11-27T11:00:05.000000Z","request_id":"req-crash","version":2,"stream":"platform","message":"START RequestId: req-crash Version: 2"}
{"time":"2026-11-27T11:00:05.001234Z","request_id":"req-crash","version":2,"stream":"platform","message":"RequestId: req-crash Error: Runtime exited with error: signal: segmentation fault (SIGSEGV)"}
{"time":"2026-11-27T11:00:05.001234Z","request_id":"req-crash","version":2,"stream":"platform","message":"Runtime.ExitError"}
{"time":"2026-11-27T11:00:05.001234Z","request_id":"req-crash","version":2,"stream":"platform","message":"END RequestId: req-crash"}
{"time":"2026-11-27T11:00:05.001234Z","request_id":"req-crash","version":2,"stream":"platform","message":"REPORT RequestId: req-crash\tDuration: 1.23 ms\tBilled Duration: 2 ms\tMemory Size: 128 MB\tMax Memory Used: 5 MB"}
{"time":"2026-11-27T11:00:06.000000Z","request_id":"req-throttled","version":2,"stream":"platform","message":"RequestId: req-throttled Not run: Rate Exceeded. (TooManyRequestsException): concurrency limit reached and the queue is full"}
{"time":"2026-11-27T11:00:07.000000Z","request_id":"req-init","version":2,"stream":"platform","message":"START RequestId: req-init Version: 2"}
{"time":"2026-11-27T11:00:07.000000Z","request_id":"req-init","version":2,"stream":"stdout","message":"init says hi"}
{"time":"2026-11-27T11:00:07.000000Z","request_id":"req-init","version":2,"stream":"platform","message":"INIT_REPORT Init Duration: 12.50 ms\tPhase: init\tStatus: crash\tError Type: Runtime.ExitError"}
{"time":"2026-11-27T11:00:07.000000Z","request_id":"req-init","version":2,"stream":"platform","message":"RequestId: req-init Error: Runtime exited with error: exit status 3"}
{"time":"2026-11-27T11:00:07.000000Z","request_id":"req-init","version":2,"stream":"platform","message":"Runtime.ExitError"}
{"time":"2026-11-27T11:00:07.000000Z","request_id":"req-init","version":2,"stream":"platform","message":"END RequestId: req-init"}
{"time":"2026-11-27T11:00:07.000000Z","request_id":"req-init","version":2,"stream":"platform","message":"REPORT RequestId: req-init\tDuration: 0.00 ms\tBilled Duration: 2 ms\tMemory Size: 128 MB\tMax Memory Used: 5 MB\tInit Duration: 12.50 ms"}
{"time":"2026-11-27T11:00:08.000000Z","request_id":"req-fault","version":2,"stream":"platform","message":"START RequestId: req-fault Version: 2"}
{"time":"2026-11-27T11:00:08.001234Z","request_id":"req-fault","version":2,"stream":"platform","message":"RequestId: req-fault Host fault (not the function's, not billed): The host could not start a worker; see the daemon log. (ServiceException)"}
{"time":"2026-11-27T11:00:08.001234Z","request_id":"req-fault","version":2,"stream":"platform","message":"END RequestId: req-fault"}
{"time":"2026-11-27T11:00:08.001234Z","request_id":"req-fault","version":2,"stream":"platform","message":"REPORT RequestId: req-fault\tDuration: 1.23 ms\tBilled Duration: 2 ms\tMemory Size: 128 MB\tMax Memory Used: 5 MB"}
{"time":"2026-11-27T11:00:09.000000Z","request_id":"warm-init","version":2,"stream":"platform","message":"START RequestId: warm-init Version: 2"}
{"time":"2026-11-27T11:00:09.000000Z","request_id":"warm-init","version":2,"stream":"platform","message":"END RequestId: warm-init"}
{"time":"2026-11-27T11:00:09.000000Z","request_id":"warm-init","version":2,"stream":"platform","message":"REPORT RequestId: warm-init\tDuration: 0.00 ms\tBilled Duration: 2 ms\tMemory Size: 128 MB\tMax Memory Used: 5 MB\tInit Duration: 3.50 ms"}
{"time":"2026-11-27T11:00:10.000000Z","request_id":"req-refused","version":2,"stream":"platform","message":"RequestId: req-refused Not run: The billing ledger cannot record invocations now. (ServiceUnavailableException)"}
)golden";

}  // namespace

TEST_F(FunctionLogsTest, TheRenderedLogIsTheOneThatWasStored) {
    for (const InvocationReport& call : calls_of_every_kind()) record(ledger, store, call);
    std::string rendered;
    for (const LogLine& line : store.tail("mixed", {.count = 1000})) rendered += to_json(line) + "\n";
    EXPECT_EQ(rendered, golden_rendering);
}

TEST_F(FunctionLogsTest, ARequestIdReadsItsRunFromTheLedger) {
    for (const InvocationReport& call : calls_of_every_kind()) record(ledger, store, call);
    EXPECT_EQ(messages(store.tail("mixed", {.count = 100, .request_id = "req-quiet"})),
              (std::vector<std::string>{"START RequestId: req-quiet Version: 2", "END RequestId: req-quiet",
                                        report_line(result("req-quiet"))}));
    const auto crash = store.tail("mixed", {.count = 100, .request_id = "req-crash"});
    ASSERT_EQ(crash.size(), 5u);
    EXPECT_EQ(crash[1].message,
              "RequestId: req-crash Error: Runtime exited with error: signal: segmentation fault (SIGSEGV)");
    EXPECT_EQ(messages(store.tail("mixed", {.count = 100, .request_id = "req-throttled"})).size(), 1u);
    EXPECT_TRUE(store.tail("mixed", {.count = 100, .request_id = "nobody"}).empty());
}

// Followers see a run as it is recorded, START / END / REPORT included, though they are
// not stored.
TEST_F(FunctionLogsTest, AFollowerSeesTheFramesOfASilentRunLive) {
    auto follower = std::make_shared<RecordingFollower>();
    EXPECT_TRUE(store.follow("hello", {.count = 10}, follower).empty());
    append(result("req-quiet"), "");
    store.flush();
    {
        std::lock_guard lock(follower->mutex);
        EXPECT_EQ(follower->lines, 3u);
        EXPECT_NE(follower->text.find("START RequestId: req-quiet"), std::string::npos);
        EXPECT_NE(follower->text.find("REPORT RequestId: req-quiet"), std::string::npos);
    }
    EXPECT_FALSE(fs::exists(logs / "hello" / "2026-11-27.jsonl"));
}

// A run whose record the follower's first read found, but whose report reached the store
// after: its START / END / REPORT are not told twice.
TEST_F(FunctionLogsTest, AFollowerIsNotToldTwiceWhatItsFirstLinesHeld) {
    auto r = result("req-between");
    r.start = utc(2026, 11, 27, 12);
    ASSERT_TRUE(ledger.append(r));  // the record is written, the log not yet
    auto follower = std::make_shared<RecordingFollower>();
    EXPECT_EQ(store.follow("hello", {.count = 10}, follower).size(), 3u);
    r.captured_stdout = "printed";
    store.append(r);
    store.flush();
    std::lock_guard lock(follower->mutex);
    EXPECT_EQ(follower->lines, 1u);
    EXPECT_NE(follower->text.find(R"("message":"printed")"), std::string::npos);
}

// A day-file an earlier version wrote holds START / END / REPORT beside the record they
// repeat: each is shown once.
TEST_F(FunctionLogsTest, AnEarlierVersionsStoredFramesAreNotShownTwice) {
    auto r = result("req-old");
    r.start = utc(2026, 11, 27, 11);
    ASSERT_TRUE(ledger.append(r));
    // req-orphan's record is gone (archived): its stored START stays.
    fs::create_directories(logs / "hello");
    std::ofstream(logs / "hello" / "2026-11-27.jsonl")
        << R"({"time":"2026-11-27T11:00:00.000000Z","request_id":"req-old","version":2,"stream":"platform","message":"START RequestId: req-old Version: 2"})" "\n"
        << R"({"time":"2026-11-27T11:00:00.000000Z","request_id":"req-old","version":2,"stream":"stdout","message":"from before"})" "\n"
        << R"({"time":"2026-11-27T11:00:00.001234Z","request_id":"req-old","version":2,"stream":"platform","message":"END RequestId: req-old"})" "\n"
        << R"({"time":"2026-11-27T11:00:00.001234Z","request_id":"req-old","version":2,"stream":"platform","message":)"
        << nlohmann::json(report_line(r)).dump() << "}\n"
        << R"({"time":"2026-11-27T11:30:00.000000Z","request_id":"req-orphan","version":2,"stream":"platform","message":"START RequestId: req-orphan Version: 2"})" "\n";
    append(result("req-new"), "from now");
    EXPECT_EQ(messages(store.tail("hello", {.count = 100})),
              (std::vector<std::string>{"START RequestId: req-old Version: 2", "from before", "END RequestId: req-old",
                                        report_line(r), "START RequestId: req-orphan Version: 2",
                                        "START RequestId: req-new Version: 2", "from now", "END RequestId: req-new",
                                        report_line(result("req-new"))}));
}

// `since` keeps lines, as it always did: a run that started before it shows the lines it
// wrote after it (its END and REPORT).
TEST_F(FunctionLogsTest, SinceKeepsTheEndOfARunThatStartedBefore) {
    auto slow = result("req-slow");
    slow.duration_ms = 2000;
    slow.billed_ms = 2000;
    append(slow, "early", {}, utc(2026, 11, 27, 10, 29, 59));
    append(result("req-after"), "later", {}, utc(2026, 11, 27, 10, 45));
    EXPECT_EQ(messages(store.tail("hello", {.count = 100, .since = utc(2026, 11, 27, 10, 30)})),
              (std::vector<std::string>{"END RequestId: req-slow", report_line(slow),
                                        "START RequestId: req-after Version: 2", "later", "END RequestId: req-after",
                                        report_line(result("req-after"))}));
}
