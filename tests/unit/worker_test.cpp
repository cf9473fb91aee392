// sofaas-worker, spoken to frame by frame as the pool does: the cold start's Ready, the
// Result of each Invoke, and the way a worker ends when its function misbehaves.
#include <gtest/gtest.h>

#include <csignal>
#include <fstream>
#include <string>

#include "support/daemon_process.h"
#include "support/temp_dir.h"
#include "support/worker_process.h"

namespace sofaas::testing {
namespace {

WorkerLaunch launch(const std::filesystem::path& library) {
    WorkerLaunch launch;
    launch.library = library;
    return launch;
}

// Starts a worker and expects its cold start to fail with `error_type`.
protocol::Ready failed_cold_start(const WorkerLaunch& launch, const std::string& error_type) {
    WorkerProcess worker(launch);
    auto ready = worker.ready();
    EXPECT_TRUE(ready);
    if (!ready) return {};
    EXPECT_FALSE(ready->ok);
    EXPECT_EQ(ready->error_type, error_type) << ready->error_message;
    EXPECT_EQ(worker.wait_exit(), 0);
    return *ready;
}

TEST(Worker, HelloSendsReadyThenGreets) {
    WorkerProcess worker(launch(function_library("hello")));
    const auto ready = worker.ready();
    ASSERT_TRUE(ready);
    EXPECT_TRUE(ready->ok) << ready->error_type << ": " << ready->error_message;
    EXPECT_GE(ready->init_ms, 0);

    const auto result = worker.invoke("sofaas");
    ASSERT_TRUE(result);
    EXPECT_TRUE(result->ok) << result->error_type << ": " << result->error_message;
    EXPECT_EQ(result->output, "Hello, sofaas!");
    EXPECT_GE(result->duration_ms, 0);
    EXPECT_GT(result->max_memory_used_kb, 0u);

    worker.close_socket();
    EXPECT_EQ(worker.wait_exit(), 0);
}

TEST(Worker, WarmWorkerServesInvocationsInOrder) {
    WorkerProcess worker(launch(function_library("hello")));
    ASSERT_TRUE(worker.ready());
    for (int i = 0; i < 50; ++i) {
        const auto result = worker.invoke("caller " + std::to_string(i));
        ASSERT_TRUE(result);
        EXPECT_EQ(result->output, "Hello, caller " + std::to_string(i) + "!");
    }
    EXPECT_EQ(worker.invoke("")->output, "Hello, world!");
}

TEST(Worker, EchoRoundTripsEveryByteValue) {
    std::string bytes;
    for (int i = 0; i < 256; ++i) bytes.push_back(static_cast<char>(i));
    const std::string event = bytes + bytes + std::string(200'000, '\0') + bytes;

    WorkerProcess worker(launch(function_library("echo")));
    ASSERT_TRUE(worker.ready());
    const auto result = worker.invoke(event);
    ASSERT_TRUE(result);
    EXPECT_TRUE(result->ok);
    EXPECT_EQ(result->output, event);
}

TEST(Worker, FunctionOutputIsInTheMemfdsWhenTheResultArrives) {
    WorkerProcess worker(launch(function_library("logger")));
    ASSERT_TRUE(worker.ready());
    const auto result = worker.invoke("abc", std::chrono::seconds(3), "req-logger");
    ASSERT_TRUE(result);
    EXPECT_EQ(result->output, "logged");
    // Read at once, as the daemon does: printf's buffer must already have been flushed.
    EXPECT_EQ(worker.stdout_text(), "stdout line from printf (event 3 bytes)\n");
    EXPECT_EQ(worker.stderr_text(),
              "stderr line from fprintf\nline from the context log, request req-logger\n");
}

TEST(Worker, ContextCarriesRequestFunctionAndRemainingTime) {
    WorkerLaunch probe = launch(fixture_library("probe"));
    probe.function = "probe-fn";
    probe.version = 7;
    probe.memory_mb = 256;
    WorkerProcess worker(probe);
    ASSERT_TRUE(worker.ready());
    const auto result = worker.invoke("", std::chrono::seconds(5), "req-probe");
    ASSERT_TRUE(result);
    const std::string& report = result->output;
    EXPECT_NE(report.find("request_id=req-probe\n"), std::string::npos) << report;
    EXPECT_NE(report.find("function=probe-fn\n"), std::string::npos) << report;
    EXPECT_NE(report.find("version=7\n"), std::string::npos) << report;
    EXPECT_NE(report.find("memory_mb=256\n"), std::string::npos) << report;

    const size_t at = report.find("remaining_ms=");
    ASSERT_NE(at, std::string::npos) << report;
    const long remaining = std::stol(report.substr(at + 13));
    EXPECT_GT(remaining, 0);
    EXPECT_LE(remaining, 5000);
}

TEST(Worker, FunctionErrorCarriesItsTypeAndMessage) {
    WorkerProcess worker(launch(function_library("sleep")));
    ASSERT_TRUE(worker.ready());
    const auto result = worker.invoke("not a number");
    ASSERT_TRUE(result);
    EXPECT_FALSE(result->ok);
    EXPECT_EQ(result->error_type, "InvalidInput");
    EXPECT_NE(result->error_message.find("milliseconds"), std::string::npos);
    EXPECT_TRUE(result->output.empty());
    EXPECT_EQ(worker.invoke("1")->output, "slept 1 ms");  // the environment stays usable
}

TEST(Worker, BareErrorReturnBecomesFunctionError) {
    WorkerProcess worker(launch(fixture_library("probe")));
    ASSERT_TRUE(worker.ready());
    const auto result = worker.invoke("bare-error");
    ASSERT_TRUE(result);
    EXPECT_FALSE(result->ok);
    EXPECT_EQ(result->error_type, "FunctionError");
    EXPECT_EQ(result->error_message, "function returned an error");
}

TEST(Worker, EscapedExceptionIsNamedByItsReadableType) {
    WorkerProcess worker(launch(function_library("http-api")));
    ASSERT_TRUE(worker.ready());
    // rawPath must be a string: nlohmann::json throws type_error through the SDK.
    const auto result = worker.invoke(R"({"requestContext":{"http":{"method":"GET"}},"rawPath":5})");
    ASSERT_TRUE(result);
    EXPECT_FALSE(result->ok);
    EXPECT_TRUE(result->error_type.starts_with("nlohmann::")) << result->error_type;
    EXPECT_TRUE(result->error_type.ends_with("type_error")) << result->error_type;
}

TEST(Worker, OutputOverSixMegabytesIsRefused) {
    WorkerProcess worker(launch(function_library("echo")));
    ASSERT_TRUE(worker.ready());
    const auto result = worker.invoke(std::string(protocol::max_output_bytes + 1, 'x'));
    ASSERT_TRUE(result);
    EXPECT_FALSE(result->ok);
    EXPECT_EQ(result->error_type, "Runtime.ResponseTooLarge");
    EXPECT_TRUE(result->output.empty());
    EXPECT_EQ(worker.invoke(std::string(protocol::max_output_bytes, 'x'))->output.size(),
              protocol::max_output_bytes);
}

TEST(Worker, InitFailureIsReportedInReady) {
    const auto ready = failed_cold_start(launch(fixture_library("init_fails")), "Runtime.InitError");
    EXPECT_EQ(ready.error_message, "missing setting");
}

TEST(Worker, MissingHandlerIsReportedInReady) {
    const auto ready =
        failed_cold_start(launch(fixture_library("no_handler")), "Runtime.HandlerNotFound");
    EXPECT_NE(ready.error_message.find("sofaas_handler"), std::string::npos);

    WorkerLaunch renamed = launch(function_library("hello"));
    renamed.handler = "no_such_symbol";
    failed_cold_start(renamed, "Runtime.HandlerNotFound");
}

TEST(Worker, WrongAbiVersionIsReportedInReady) {
    const auto ready = failed_cold_start(launch(fixture_library("wrong_abi")), "Runtime.InvalidAbi");
    EXPECT_NE(ready.error_message.find("999"), std::string::npos) << ready.error_message;
}

TEST(Worker, NotAnElfFileIsAnInvalidLibrary) {
    TempDir dir;
    const auto not_elf = dir / "function.so";
    std::ofstream(not_elf) << "#!/bin/sh\n" << std::string(200, '#') << "\n";
    const auto ready = failed_cold_start(launch(not_elf), "Runtime.InvalidLibrary");
    EXPECT_NE(ready.error_message.find("invalid ELF header"), std::string::npos)
        << ready.error_message;

    const auto truncated = dir / "truncated.so";
    std::ofstream(truncated) << "\x7f" "ELF";
    failed_cold_start(launch(truncated), "Runtime.InvalidLibrary");
    failed_cold_start(launch(dir / "missing.so"), "Runtime.InvalidLibrary");
}

TEST(Worker, CrashingFunctionDiesOfSigsegv) {
    WorkerProcess worker(launch(function_library("crash")));
    ASSERT_TRUE(worker.ready());
    EXPECT_FALSE(worker.invoke(""));
    EXPECT_EQ(worker.wait_exit(), 128 + SIGSEGV);
}

TEST(Worker, AllocationPastTheMemoryLimitExitsWithOutOfMemory) {
#if defined(__SANITIZE_ADDRESS__)
    GTEST_SKIP() << "ASan's operator new does not call the new_handler (memory_limit.cpp)";
#endif
    WorkerLaunch hog = launch(function_library("hog"));
    hog.memory_mb = 32;
    WorkerProcess worker(hog);
    ASSERT_TRUE(worker.ready());
    EXPECT_FALSE(worker.invoke(""));
    EXPECT_EQ(worker.wait_exit(), protocol::exit_out_of_memory);
}

TEST(Worker, ExitInTheHandlerEndsTheWorkerWithItsStatus) {
    WorkerProcess worker(launch(fixture_library("exit3")));
    ASSERT_TRUE(worker.ready());
    EXPECT_FALSE(worker.invoke(""));
    EXPECT_EQ(worker.wait_exit(), 3);
}

TEST(Worker, ProtocolViolationEndsTheWorker) {
    std::string unexpected_type;  // a Ready: a frame the daemon never sends
    protocol::encode(protocol::Ready{}, unexpected_type);
    std::string truncated_body;   // request_id's length runs past the body
    protocol::encode(protocol::Invoke{"req", 0, "payload"}, truncated_body);
    truncated_body[protocol::header_size] = 100;
    const protocol::FrameHeader too_big{static_cast<uint32_t>(protocol::FrameType::invoke),
                                        protocol::max_body_size + 1};
    const std::string oversized(reinterpret_cast<const char*>(&too_big), sizeof too_big);

    for (const std::string& frame : {unexpected_type, truncated_body, oversized}) {
        WorkerProcess worker(launch(function_library("echo")));
        ASSERT_TRUE(worker.ready());
        worker.send_bytes(frame);
        EXPECT_EQ(worker.wait_exit(), 2);
    }
}

TEST(Worker, RefusesToRunForAnotherParent) {
    WorkerLaunch orphan = launch(function_library("hello"));
    orphan.parent_pid = 1;
    WorkerProcess worker(orphan);
    EXPECT_FALSE(worker.ready());
    EXPECT_EQ(worker.wait_exit(), 1);
}

TEST(Worker, BadCommandLineIsRefused) {
    WorkerLaunch bad = launch(function_library("hello"));
    bad.memory_mb = 0;
    WorkerProcess worker(bad);
    EXPECT_FALSE(worker.ready());
    EXPECT_EQ(worker.wait_exit(), 2);
    EXPECT_NE(worker.stderr_text().find("--memory-mb"), std::string::npos);
}

}  // namespace
}  // namespace sofaas::testing
