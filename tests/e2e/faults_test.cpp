// Faulty functions: each one fails alone, with Lambda's error names, while a healthy
// function called in a loop meanwhile sees no failed request. Libraries that cannot serve
// are refused at deploy. (Leak checks after many crashes: crash_leaks_test.cpp.)
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/daemon_process.h"
#include "support/eventually.h"
#include "support/fault_suite.h"
#include "support/temp_dir.h"
#include "support/programs.h"

namespace sofaas::testing {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

constexpr int init_timeout_s = 2;

class Faults : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        daemon_ = std::make_unique<DaemonProcess>(json{{"limits", {{"init_timeout_s", init_timeout_s}}}});
        daemon_->start();
        ASSERT_EQ(daemon_->deploy("healthy", function_library("hello")).exit_code, 0);
    }
    static void TearDownTestSuite() {
        if (daemon_) daemon_->stop();
        daemon_.reset();
    }
    void SetUp() override {
        ASSERT_TRUE(daemon_ && daemon_->running());
        traffic_ = std::make_unique<HealthyTraffic>(*daemon_, "healthy");
    }
    // Every test ends with the healthy function's record: it was served all along.
    void TearDown() override {
        traffic_->stop();
        // A test that skipped itself at once gave the traffic no time to succeed.
        if (!IsSkipped()) {
            EXPECT_GT(traffic_->succeeded(), 0);
        }
        EXPECT_EQ(traffic_->failed(), 0) << "first failure: " << traffic_->first_failure();
        auto health = daemon_->http().request("GET", "/healthz");
        EXPECT_EQ(health.status, 200);
    }

    static DaemonProcess& daemon() { return *daemon_; }

    static HttpResponse invoke(const std::string& function, const std::string& event = "") {
        return daemon().http().request("POST", "/v1/functions/" + function + "/invoke", event);
    }

    // PUT the bytes of a library as NAME through the control API.
    static HttpResponse deploy_bytes(const std::string& name, const std::string& bytes) {
        auto http = daemon().http();
        http.set_timeout(30s);
        return http.request("PUT", "/v1/functions/" + name, bytes);
    }

private:
    static inline std::unique_ptr<DaemonProcess> daemon_;
    std::unique_ptr<HealthyTraffic> traffic_;
};

std::string read_bytes(const std::filesystem::path& file) {
    std::ifstream in(file, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void expect_crash(const HttpResponse& response, const std::string& message_part) {
    ASSERT_EQ(response.status, 502) << response.body;
    EXPECT_EQ(response.header("X-Sofaas-Status"), "crash");
    EXPECT_EQ(body_of(response)["errorType"], "Runtime.ExitError");
    EXPECT_NE(body_of(response)["errorMessage"].get<std::string>().find(message_part), std::string::npos)
        << response.body;
}

TEST_F(Faults, SegfaultIsACrash) {
    ASSERT_EQ(daemon().deploy("segv", function_library("crash")).exit_code, 0);
    expect_crash(invoke("segv"), "SIGSEGV");
}

TEST_F(Faults, AbortIsACrash) {
    ASSERT_EQ(daemon().deploy("aborter", fixture_library("abort")).exit_code, 0);
    expect_crash(invoke("aborter"), "SIGABRT");
}

TEST_F(Faults, ExitIsACrash) {
    ASSERT_EQ(daemon().deploy("exiter", fixture_library("exit3")).exit_code, 0);
    expect_crash(invoke("exiter"), "exit status 3");
}

TEST_F(Faults, InfiniteLoopTimesOut) {
    ASSERT_EQ(daemon().deploy("spinner", fixture_library("spin"), {"--timeout", "1"}).exit_code, 0);
    auto started = std::chrono::steady_clock::now();
    auto response = invoke("spinner");
    ASSERT_EQ(response.status, 504) << response.body;
    EXPECT_EQ(body_of(response)["errorType"], "Sandbox.Timedout");
    EXPECT_EQ(body_of(response)["errorMessage"], "Task timed out after 1.00 seconds");
    EXPECT_LT(std::chrono::steady_clock::now() - started, 10s);
}

TEST_F(Faults, MemoryHogIsOutOfMemory) {
    if (programs_are_sanitized()) {
        GTEST_SKIP() << "ASan's operator new does not call the new_handler, so the hog runs into its deadline";
    }
    ASSERT_EQ(daemon().deploy("hogger", function_library("hog"), {"--memory", "128", "--timeout", "10"}).exit_code, 0);
    auto response = invoke("hogger");
    ASSERT_EQ(response.status, 502) << response.body;
    EXPECT_EQ(response.header("X-Sofaas-Status"), "oom");
    EXPECT_EQ(body_of(response)["errorType"], "Runtime.OutOfMemory");
}

// Megabytes on stdout: the invocation succeeds, but the capture holds 256 KiB of it (the
// function's writes past that fail), the log keeps that part and says where it was cut.
TEST_F(Faults, StdoutFloodIsCappedInTheLog) {
    const int mebibytes = fault_suite_size(8, 64);
    ASSERT_EQ(daemon().deploy("flood", fixture_library("stdout_flood"), {"--timeout", "30"}).exit_code, 0);
    auto response = invoke("flood", std::to_string(mebibytes));
    ASSERT_EQ(response.status, 200) << response.body;
    EXPECT_EQ(response.body, "flooded " + std::to_string(mebibytes) + " MiB (stdout: Operation not permitted)");

    auto logs = daemon().http().request("GET", "/v1/functions/flood/logs?tail=10000");
    ASSERT_EQ(logs.status, 200);
    size_t logged_bytes = 0;
    bool cut_noted = false;
    const json log_lines = json::parse(logs.body)["lines"];
    for (const auto& line : log_lines) {
        const auto message = line["message"].get<std::string>();
        logged_bytes += message.size();
        if (message == "[sofaas: output cut at 262144 bytes per invocation]") cut_noted = true;
    }
    EXPECT_GT(logged_bytes, 200u * 1024);
    EXPECT_LE(logged_bytes, 257u * 1024) << "the log kept more than the capture holds";
    EXPECT_TRUE(cut_noted);
    // The next invocation's output is captured afresh: the flood neither stayed behind nor
    // left the stream failing.
    auto after = invoke("flood", "0");
    ASSERT_EQ(after.status, 200);
    EXPECT_EQ(after.body, "flooded 0 MiB");
    EXPECT_TRUE(eventually([&] {
        auto tail = daemon().http().request("GET", "/v1/functions/flood/logs?tail=10");
        return tail.body.find("\"stdout\",\"message\":\"flood of 0 MiB\"") != std::string::npos;
    })) << "the next invocation's stdout did not reach the log";
}

TEST_F(Faults, StackOverflowIsACrash) {
    ASSERT_EQ(daemon().deploy("deep", fixture_library("stack_overflow")).exit_code, 0);
    expect_crash(invoke("deep"), "SIGSEGV");
}

// The bomb stops at the worker's process limit (fork fails with EAGAIN), the function
// answers, and everything it forked is gone with its children's killer: the next bomb
// gets as far again.
TEST_F(Faults, ForkBombIsBoundedByTheProcessLimit) {
    // A root daemon's environments have a process limit of their own (their cgroup, else
    // RLIMIT_NPROC of their own uid); a non-root daemon's workers would share its budget.
    if (geteuid() != 0) GTEST_SKIP() << "needs a root daemon";
    // 1023 children, each with page tables of its own (under AddressSanitizer, of its
    // shadow memory too), all counted by the environment's memory limit.
    ASSERT_EQ(
        daemon().deploy("bomb", fixture_library("fork_bomb"), {"--timeout", "60", "--memory", "2048"}).exit_code,
        0);
    for (int round = 0; round < 2; ++round) {
        auto http = daemon().http();
        http.set_timeout(90s);
        auto response = http.request("POST", "/v1/functions/bomb/invoke");
        ASSERT_EQ(response.status, 200) << response.body;
        EXPECT_NE(response.body.find("errno=" + std::to_string(EAGAIN) + "\n"), std::string::npos) << response.body;
        const auto forks_at = response.body.find("forks=");
        ASSERT_NE(forks_at, std::string::npos) << response.body;
        const long forks = std::stol(response.body.substr(forks_at + 6));
        EXPECT_GT(forks, 0) << response.body;
        EXPECT_LT(forks, 1024) << response.body;
    }
}

TEST_F(Faults, OutputOverTheResponseLimitIsAClearError) {
    ASSERT_EQ(daemon().deploy("bigout", fixture_library("big_output")).exit_code, 0);
    auto fits = invoke("bigout", std::to_string(1024 * 1024));
    ASSERT_EQ(fits.status, 200);
    EXPECT_EQ(fits.body.size(), 1024u * 1024);

    auto too_large = invoke("bigout", std::to_string(7 * 1024 * 1024));
    ASSERT_EQ(too_large.status, 502) << too_large.body.substr(0, 200);
    EXPECT_EQ(body_of(too_large)["errorType"], "Runtime.ResponseTooLarge");
    EXPECT_NE(body_of(too_large)["errorMessage"].get<std::string>().find("exceeded maximum"), std::string::npos);
    EXPECT_EQ(invoke("bigout", "5").body, "ooooo");
}

// Function code shares the worker's process and can write Result frames of its own: what
// is billed must be what the daemon measured, not what the function claims.
TEST_F(Faults, ForgedResultFrameCannotUnderbill) {
    ASSERT_EQ(daemon().deploy("forger", fixture_library("forged_result")).exit_code, 0);
    auto started = std::chrono::steady_clock::now();
    invoke("forger", "500");
    auto waited = std::chrono::steady_clock::now() - started;
    ASSERT_GE(waited, 500ms);
    std::vector<json> records;
    for (int i = 0; i < 20 && records.empty(); ++i) {
        records = daemon().billing_records("forger");
        if (records.empty()) std::this_thread::sleep_for(100ms);
    }
    ASSERT_EQ(records.size(), 1u);
    EXPECT_GE(records[0]["duration_ms"].get<double>(), 490) << records[0].dump();
    EXPECT_GE(records[0]["billed_ms"].get<double>(), 490) << records[0].dump();
}

// The same for the cold start: a forged Ready frame chooses neither the init time billed
// nor an absurd figure in the ledger.
TEST_F(Faults, ForgedReadyFrameCannotChooseTheInitTime) {
    ASSERT_EQ(daemon().deploy("initforger", fixture_library("forged_init")).exit_code, 0);
    invoke("initforger", "x");
    auto records = daemon().billing_records("initforger");
    ASSERT_EQ(records.size(), 1u);
    ASSERT_TRUE(records[0].contains("init_ms")) << records[0].dump();
    EXPECT_GE(records[0]["init_ms"].get<double>(), 290) << records[0].dump();
    EXPECT_LT(records[0]["init_ms"].get<double>(), 10000) << records[0].dump();
    EXPECT_GE(records[0]["billed_ms"].get<double>(), 290) << records[0].dump();
}

void expect_invalid_library(const HttpResponse& response, const std::string& message_part) {
    ASSERT_EQ(response.status, 400) << response.body;
    EXPECT_EQ(body_of(response)["errorType"], "InvalidLibraryException");
    EXPECT_NE(body_of(response)["errorMessage"].get<std::string>().find(message_part), std::string::npos)
        << response.body;
}

TEST_F(Faults, InitThatHangsIsRejectedAfterTheInitDeadline) {
    auto started = std::chrono::steady_clock::now();
    expect_invalid_library(deploy_bytes("hangs", read_bytes(fixture_library("init_hangs"))), "InitTimeout");
    auto took = std::chrono::steady_clock::now() - started;
    EXPECT_GE(took, std::chrono::seconds(init_timeout_s) - 100ms);
    EXPECT_LT(took, std::chrono::seconds(init_timeout_s) + 8s);
    EXPECT_EQ(daemon().http().request("GET", "/v1/functions/hangs").status, 404);
}

TEST_F(Faults, InitThatFailsIsRejected) {
    expect_invalid_library(deploy_bytes("initfails", read_bytes(fixture_library("init_fails"))), "InitError");
    EXPECT_EQ(daemon().http().request("GET", "/v1/functions/initfails").status, 404);
}

TEST_F(Faults, FileThatIsNotElfIsRejected) {
    expect_invalid_library(deploy_bytes("notelf", "#!/bin/sh\necho this is not a shared library\n"),
                           "InvalidLibrary");
    expect_invalid_library(deploy_bytes("notelf", R"({"handler": "json is no library either"})"),
                           "InvalidLibrary");
}

template <typename T>
T read_at(const std::string& bytes, size_t offset) {
    T value{};
    std::memcpy(&value, bytes.data() + offset, sizeof value);
    return value;
}

// Where the file bytes of the last PT_LOAD segment of an ELF64 library end: cutting the
// file before that leaves code or data the loader must map unbacked (a debug build's
// section headers and debug info after it are not needed to load).
size_t end_of_loaded_segments(const std::string& elf) {
    const auto program_headers = read_at<uint64_t>(elf, 32);  // e_phoff
    const auto entry_size = read_at<uint16_t>(elf, 54);       // e_phentsize
    const auto count = read_at<uint16_t>(elf, 56);            // e_phnum
    size_t end = 0;
    for (uint16_t i = 0; i < count; ++i) {
        const size_t header = program_headers + size_t{i} * entry_size;
        if (read_at<uint32_t>(elf, header) != 1) continue;  // PT_LOAD
        end = std::max<size_t>(end, read_at<uint64_t>(elf, header + 8) + read_at<uint64_t>(elf, header + 32));
    }
    return end;
}

TEST_F(Faults, TruncatedLibraryIsRejected) {
    std::string library = read_bytes(function_library("hello"));
    const size_t loaded_end = end_of_loaded_segments(library);
    ASSERT_GT(loaded_end, 4096u);
    ASSERT_LE(loaded_end, library.size());
    for (size_t keep : {size_t{64}, size_t{1024}, loaded_end / 2, loaded_end - 1}) {
        SCOPED_TRACE("kept " + std::to_string(keep) + " of " + std::to_string(loaded_end) + " loaded bytes");
        expect_invalid_library(deploy_bytes("truncated", library.substr(0, keep)), "InvalidLibrary");
    }
}

TEST_F(Faults, LibraryForAnotherArchitectureIsRejected) {
    std::string library = read_bytes(function_library("hello"));
    ASSERT_GT(library.size(), 20u);
    ASSERT_EQ(library.substr(0, 4), "\x7f" "ELF");
    // e_machine: two little-endian bytes at offset 18; 183 is EM_AARCH64.
    library[18] = static_cast<char>(183);
    library[19] = 0;
    expect_invalid_library(deploy_bytes("aarch64", library), "InvalidLibrary");
}

TEST_F(Faults, LibraryWithoutHandlerOrAbiIsRejected) {
    expect_invalid_library(deploy_bytes("nohandler", read_bytes(fixture_library("no_handler"))), "HandlerNotFound");
    expect_invalid_library(deploy_bytes("wrongabi", read_bytes(fixture_library("wrong_abi"))), "InvalidAbi");
    // A valid library with the handler named wrongly is just as unusable.
    auto http = daemon().http();
    auto renamed = http.request("PUT", "/v1/functions/misnamed?handler=no_such_symbol",
                                read_bytes(function_library("hello")));
    expect_invalid_library(renamed, "HandlerNotFound");
}

}  // namespace
}  // namespace sofaas::testing
