// sofaas-worker, spoken to frame by frame as the pool does: the cold start's Ready, the
// Result of each Invoke, and the way a worker ends when its function misbehaves.
#include <gtest/gtest.h>
#include <pwd.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include "support/daemon_process.h"
#include "support/proc_inspect.h"
#include "support/temp_dir.h"
#include "support/worker_process.h"

namespace sofaas::testing {
namespace {

WorkerLaunch launch(const std::filesystem::path& library) {
    WorkerLaunch launch;
    launch.library = library;
    return launch;
}

// The value of `key` in a "key=value" per line report (sandbox_probe's).
std::string value_of(const std::string& report, const std::string& key) {
    const size_t at = report.find(key + "=");
    if (at == std::string::npos) return "<missing " + key + ">";
    const size_t begin = at + key.size() + 1;
    return report.substr(begin, report.find('\n', begin) - begin);
}

// Running as root, workers drop to "nobody" (as the daemon's default worker_user does);
// otherwise they keep the test's own user. Empty optional: root without a nobody user.
std::optional<std::string> worker_user() {
    if (geteuid() != 0) return std::string();
    if (getpwnam("nobody") == nullptr) return std::nullopt;
    return std::string("nobody");
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

// Between invocations a worker sleeps once, waiting for the next frame. Blocked in a
// unix-socket read() it would also be woken, for nothing, each time the daemon reads its
// Result (that frees send space and wakes the socket's whole wait queue): a second
// context switch per call on a machine that has few to spare. Here the Result is read only
// once the worker has gone back to sleep, which is when that wake-up happened.
TEST(Worker, SleepsOncePerInvocation) {
    WorkerProcess worker(launch(function_library("hello")));
    ASSERT_TRUE(worker.ready());
    ASSERT_TRUE(worker.invoke("warm-up"));
    constexpr int calls = 40;
    const long before = voluntary_switches(worker.pid());
    for (int i = 0; i < calls; ++i) {
        worker.send_invoke("caller");
        std::this_thread::sleep_for(std::chrono::milliseconds(3));  // it answers and sleeps
        const auto result = worker.next_result();
        ASSERT_TRUE(result);
        EXPECT_EQ(result->output, "Hello, caller!");
        std::this_thread::sleep_for(std::chrono::milliseconds(2));  // a wake-up would land now
    }
    const long switches = voluntary_switches(worker.pid()) - before;
    ASSERT_GE(before, 0);
    EXPECT_LT(switches, calls * 3 / 2) << switches << " sleeps in " << calls << " calls";
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

TEST(Worker, ContextNamesEachInvocationsCallerAndNoneDuringInit) {
    WorkerProcess worker(launch(fixture_library("probe")));
    ASSERT_TRUE(worker.ready());
    const auto called = worker.invoke("", std::chrono::seconds(5), "req-1", {"ASIAEXAMPLE", "web", "user-1", ""});
    ASSERT_TRUE(called);
    EXPECT_NE(called->output.find("abi_version=2\n"), std::string::npos) << called->output;
    EXPECT_NE(called->output.find("caller_key_id=ASIAEXAMPLE\ncaller_role=web\ncaller_user_sub=user-1\n"
                                  "caller_schedule=\n"),
              std::string::npos)
        << called->output;
    // The next invocation is someone else's: nothing of the first caller is left.
    Principal schedule;
    schedule.schedule = "nightly";
    const auto fired = worker.invoke("", std::chrono::seconds(5), "req-2", schedule);
    ASSERT_TRUE(fired);
    EXPECT_NE(fired->output.find("caller_key_id=\ncaller_role=\ncaller_user_sub=\ncaller_schedule=nightly\n"),
              std::string::npos)
        << fired->output;
}

TEST(Worker, ALibraryBuiltForAbiVersion1LoadsAndRuns) {
    WorkerLaunch v1 = launch(fixture_library("abi_v1"));
    v1.function = "old-fn";
    v1.version = 3;
    v1.memory_mb = 256;
    WorkerProcess worker(v1);
    const auto ready = worker.ready();
    ASSERT_TRUE(ready);
    EXPECT_TRUE(ready->ok) << ready->error_type << ": " << ready->error_message;
    const auto result = worker.invoke("hi", std::chrono::seconds(5), "req-v1", {"ASIAEXAMPLE", "web", "user-1", ""});
    ASSERT_TRUE(result);
    EXPECT_TRUE(result->ok) << result->error_type << ": " << result->error_message;
    EXPECT_EQ(result->output, "old-fn version 3, 256 MB, request req-v1, event hi");
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

TEST(WorkerSandbox, IsInPlaceBeforeTheHandlerRuns) {
    WorkerProcess worker(launch(fixture_library("sandbox_probe")));
    ASSERT_TRUE(worker.ready());
    const auto result = worker.invoke("");
    ASSERT_TRUE(result);
    const std::string& report = result->output;
    EXPECT_EQ(value_of(report, "no_new_privs"), "1") << report;
    EXPECT_EQ(value_of(report, "seccomp"), "2") << report;  // SECCOMP_MODE_FILTER
    EXPECT_EQ(value_of(report, "pdeathsig"), std::to_string(SIGKILL)) << report;
    EXPECT_EQ(value_of(report, "core"), "0") << report;
    EXPECT_EQ(value_of(report, "fsize"), std::to_string(512 * 1024 * 1024)) << report;
    // At most the sandbox's 1024: lower only if the test itself runs under a lower limit.
    for (const char* limit : {"nproc", "nofile"}) {
        const long value = std::stol(value_of(report, limit));
        EXPECT_GT(value, 0) << limit;
        EXPECT_LE(value, 1024) << limit;
    }
}

// What tests/fixtures/sandbox_probe.c reports about itself when its worker runs as `user`.
std::string sandbox_report_as(const std::string& user) {
    WorkerLaunch probe = launch(fixture_library("sandbox_probe"));
    probe.user = user;
    WorkerProcess worker(probe);
    const auto ready = worker.ready();
    EXPECT_TRUE(ready && ready->ok) << (ready ? ready->error_type + ": " + ready->error_message : "no Ready");
    if (!ready || !ready->ok) return {};
    const auto result = worker.invoke("");
    EXPECT_TRUE(result);
    return result ? result->output : std::string();
}

TEST(WorkerSandbox, RootWorkerRunsTheFunctionAsTheWorkerUser) {
    if (geteuid() != 0) GTEST_SKIP() << "only root can switch users";
    const passwd* nobody = getpwnam("nobody");
    if (!nobody) GTEST_SKIP() << "no user 'nobody' here";
    const std::string uid = std::to_string(nobody->pw_uid);

    const std::string report = sandbox_report_as("nobody");
    EXPECT_EQ(value_of(report, "uid"), uid) << report;
    EXPECT_EQ(value_of(report, "euid"), uid) << report;
    EXPECT_EQ(value_of(report, "suid"), uid) << report;
    EXPECT_EQ(value_of(report, "gid"), std::to_string(nobody->pw_gid)) << report;
    EXPECT_EQ(value_of(report, "groups"), "0") << report;
    // The uid change cleared the parent-death signal: the worker must have set it again.
    EXPECT_EQ(value_of(report, "pdeathsig"), std::to_string(SIGKILL)) << report;
}

// "#UID" is how the daemon gives a worker a user of its own: no user database entry, uid
// and gid both UID. Anything else after '#' is refused before the function loads.
TEST(WorkerSandbox, NumericUserNeedsNoNameAndIsTheGroupToo) {
    if (geteuid() != 0) GTEST_SKIP() << "only root can switch users";
    const std::string report = sandbox_report_as("#1900123456");
    for (const char* id : {"uid", "euid", "suid", "gid"}) EXPECT_EQ(value_of(report, id), "1900123456") << report;
    EXPECT_EQ(value_of(report, "groups"), "0") << report;

    for (const char* bad : {"#", "#0", "#-5", "#12x", "#4294967295", "#99999999999"}) {
        WorkerLaunch refused = launch(fixture_library("sandbox_probe"));
        refused.user = bad;
        WorkerProcess refused_worker(refused);
        const auto refusal = refused_worker.ready();
        ASSERT_TRUE(refusal) << bad;
        EXPECT_FALSE(refusal->ok) << bad;
        EXPECT_NE(refusal->error_message.find("not a valid uid"), std::string::npos)
            << bad << ": " << refusal->error_message;
    }
}

// The registry writes libraries 0644, but the data directory may be private to root: the
// worker opens the library before it drops to the worker user.
TEST(WorkerSandbox, LibraryInADirectoryOnlyRootCanEnterStillLoads) {
    if (geteuid() != 0) GTEST_SKIP() << "only root can switch users";
    if (!getpwnam("nobody")) GTEST_SKIP() << "no user 'nobody' here";
    TempDir dir;
    const auto private_dir = dir / "private";
    std::filesystem::create_directory(private_dir);
    std::filesystem::permissions(private_dir, std::filesystem::perms::owner_all);
    std::filesystem::copy_file(function_library("hello"), private_dir / "function.so");
    using std::filesystem::perms;
    std::filesystem::permissions(private_dir / "function.so",
                                 perms::owner_read | perms::owner_write | perms::group_read |
                                     perms::others_read);

    WorkerLaunch hello = launch(private_dir / "function.so");
    hello.user = "nobody";
    WorkerProcess worker(hello);
    const auto ready = worker.ready();
    ASSERT_TRUE(ready);
    ASSERT_TRUE(ready->ok) << ready->error_type << ": " << ready->error_message;
    EXPECT_EQ(worker.invoke("nobody")->output, "Hello, nobody!");
}

TEST(WorkerSandbox, UnknownWorkerUserIsASandboxError) {
    WorkerLaunch hello = launch(function_library("hello"));
    hello.user = "sofaas-no-such-user";
    const auto ready = failed_cold_start(hello, "Runtime.SandboxError");
    EXPECT_NE(ready.error_message.find("sofaas-no-such-user"), std::string::npos)
        << ready.error_message;
}

TEST(WorkerSandbox, SystemCallsOfNoUseToAFunctionFailWithEperm) {
    WorkerProcess worker(launch(fixture_library("forbidden_calls")));
    ASSERT_TRUE(worker.ready());
    const std::string eperm = "errno=" + std::to_string(EPERM);
    for (const char* call : {"ptrace", "unshare", "mount", "clone", "personality"}) {
        const auto result = worker.invoke(call);
        ASSERT_TRUE(result) << call;
        EXPECT_EQ(result->output, eperm) << call;
    }
    // Reading the personality is harmless and stays allowed; threads start (through
    // glibc's fallback from the filtered clone3 to clone).
    EXPECT_EQ(worker.invoke("personality-query")->output, "errno=0");
    EXPECT_EQ(worker.invoke("thread")->output, "errno=0");
}

TEST(WorkerSandbox, ForkBombEndsWithForkFailing) {
    const auto user = worker_user();
    // Root is exempt from RLIMIT_NPROC: without a user to drop to, nothing would stop it.
    if (!user) GTEST_SKIP() << "running as root without a user 'nobody' to drop to";
    WorkerLaunch bomb = launch(fixture_library("fork_bomb"));
    bomb.user = *user;
    WorkerProcess worker(bomb);
    const auto ready = worker.ready();
    ASSERT_TRUE(ready);
    ASSERT_TRUE(ready->ok) << ready->error_type << ": " << ready->error_message;
    const auto result = worker.invoke("", std::chrono::seconds(30));
    ASSERT_TRUE(result);
    const std::string& report = result->output;
    EXPECT_EQ(value_of(report, "errno"), std::to_string(EAGAIN)) << report;
    const long forks = std::stol(value_of(report, "forks"));
    EXPECT_LT(forks, 1024) << report;

    // The worker serves again, and its children are gone: the next bomb gets as far.
    const auto again = worker.invoke("", std::chrono::seconds(30));
    ASSERT_TRUE(again);
    EXPECT_EQ(value_of(again->output, "errno"), std::to_string(EAGAIN)) << again->output;
    if (forks > 0) {
        EXPECT_GT(std::stol(value_of(again->output, "forks")), 0) << again->output;
    }
}

TEST(WorkerSandbox, DescriptorsRunOutPastTheLimit) {
    WorkerProcess worker(launch(fixture_library("many_files")));
    ASSERT_TRUE(worker.ready());
    const std::string report = worker.invoke("")->output;
    EXPECT_EQ(value_of(report, "errno"), std::to_string(EMFILE)) << report;
    EXPECT_LT(std::stol(value_of(report, "opened")), 1024) << report;
}

TEST(WorkerSandbox, StackOverflowKillsOnlyTheWorker) {
    WorkerProcess worker(launch(fixture_library("stack_overflow")));
    ASSERT_TRUE(worker.ready());
    EXPECT_FALSE(worker.invoke(""));
    EXPECT_EQ(worker.wait_exit(), 128 + SIGSEGV);
}

}  // namespace
}  // namespace sofaas::testing
