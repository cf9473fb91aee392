// Crash safety: sofaasd killed with SIGKILL under load comes back on the same data
// directory with its registry intact, one ledger record per answered invocation, and no
// worker (nor the zygote) of the dead daemon left running; a torn ledger line is skipped. Concurrent
// deploys of one name get distinct, increasing versions and never fail traffic.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/daemon_process.h"
#include "support/eventually.h"
#include "support/fault_suite.h"
#include "support/proc_inspect.h"

namespace sofaas::testing {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

// The daemon's zygote (sofaas-worker --zygote): the one process its workers fork from.
std::optional<ProcessStatus> zygote_of(pid_t daemon_pid) {
    for (const auto& process : all_processes())
        if (process.ppid == daemon_pid && process.comm == "sofaas-worker" &&
            process.cmdline.find(" --zygote ") != std::string::npos)
            return process;
    return std::nullopt;
}

bool still_runs(const ProcessStatus& process) {
    const auto now = process_status(process.pid);
    return now && now->state != 'Z' && now->comm == process.comm && now->cmdline == process.cmdline;
}

// Every ledger record, by request id (`sofaas billing --records` without a filter).
std::map<std::string, int> ledger_request_ids(const DaemonProcess& daemon) {
    auto result = daemon.cli({"billing", "--records"});
    EXPECT_EQ(result.exit_code, 0) << result;
    std::map<std::string, int> counts;
    std::istringstream lines(result.out);
    for (std::string line; std::getline(lines, line);) ++counts[json::parse(line)["request_id"].get<std::string>()];
    return counts;
}

// The open segment written last (the test's records are within a minute: one hour, or two).
std::filesystem::path last_open_segment(const DaemonProcess& daemon) {
    std::vector<std::filesystem::path> files;
    for (const auto& entry : std::filesystem::directory_iterator(daemon.data_dir() / "billing"))
        if (entry.path().extension() == ".tsv") files.push_back(entry.path());
    EXPECT_GE(files.size(), 1u);
    std::sort(files.begin(), files.end());
    return files.empty() ? std::filesystem::path() : files.back();
}

TEST(CrashSafety, KillNineUnderLoadLosesNoAnsweredInvocation) {
    DaemonProcess daemon;
    daemon.start();
    ASSERT_EQ(daemon.deploy("hello", function_library("hello")).exit_code, 0);
    ASSERT_EQ(daemon.deploy("echo", function_library("echo")).exit_code, 0);
    ASSERT_EQ(daemon.deploy("segv", function_library("crash")).exit_code, 0);

    // Callers keep the ids of every invocation they got an answer for (2xx or 5xx).
    std::mutex mutex;
    std::vector<std::string> answered;
    std::atomic<bool> killed{false};
    std::vector<std::thread> callers;
    const std::vector<std::string> functions = {"hello", "echo", "hello", "segv"};
    for (const auto& function : functions) {
        callers.emplace_back([&, function] {
            auto http = daemon.http();
            http.set_timeout(10s);
            while (!killed) {
                try {
                    auto response = http.request("POST", "/v1/functions/" + function + "/invoke", "load");
                    if (response.status >= 200 && response.status < 600 && response.status != 429) {
                        std::lock_guard lock(mutex);
                        answered.push_back(response.header("X-Sofaas-Request-Id"));
                    }
                } catch (const std::exception&) {
                    std::this_thread::sleep_for(10ms);  // the daemon is gone; until told to stop
                }
            }
        });
    }
    std::this_thread::sleep_for(1500ms);
    ASSERT_FALSE(worker_processes(daemon).empty()) << "load started no worker";
    const auto daemon_pid = find_process("sofaasd", daemon.data_dir().string());
    ASSERT_TRUE(daemon_pid);
    const auto zygote = zygote_of(*daemon_pid);
    ASSERT_TRUE(zygote) << "the daemon runs no zygote";
    daemon.kill9();
    killed = true;
    for (auto& caller : callers) caller.join();
    ASSERT_GT(answered.size(), 10u);

    // Workers and the zygote die with their daemon (PR_SET_PDEATHSIG): none may outlive it
    // for long.
    auto deadline = std::chrono::steady_clock::now() + 3s;
    while ((!worker_processes(daemon).empty() || still_runs(*zygote)) && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(50ms);
    auto orphans = worker_processes(daemon);
    EXPECT_TRUE(orphans.empty()) << orphans.size() << " workers outlived the killed daemon, e.g. pid "
                                 << orphans.front().pid << " " << orphans.front().cmdline;
    EXPECT_FALSE(still_runs(*zygote)) << "the zygote " << zygote->pid << " outlived the killed daemon";

    daemon.start();
    auto listed = json::parse(daemon.http().request("GET", "/v1/functions").body);
    std::set<std::string> names;
    for (const auto& spec : listed["functions"]) names.insert(spec["name"].get<std::string>());
    EXPECT_EQ(names, (std::set<std::string>{"echo", "hello", "segv"}));
    auto hello = daemon.http().request("POST", "/v1/functions/hello/invoke", "again");
    EXPECT_EQ(hello.status, 200);
    EXPECT_EQ(hello.body, "Hello, again!");
    EXPECT_EQ(daemon.http().request("POST", "/v1/functions/echo/invoke", "again").body, "again");

    auto ledger = ledger_request_ids(daemon);
    int missing = 0, duplicated = 0;
    for (const auto& id : answered) {
        auto found = ledger.find(id);
        if (found == ledger.end()) ++missing;
        else if (found->second != 1) ++duplicated;
    }
    EXPECT_EQ(missing, 0) << "of " << answered.size() << " answered invocations";
    EXPECT_EQ(duplicated, 0) << "of " << answered.size() << " answered invocations";
    EXPECT_EQ(daemon.stop(), 0);
}

// Killed while a deploy's trial load runs: the staged copy never becomes a function, its
// trial worker dies too, and the name deploys afresh after the restart.
TEST(CrashSafety, KillNineDuringDeployLeavesNoHalfFunction) {
    DaemonProcess daemon;
    daemon.start();
    std::thread deployer([&] { daemon.deploy("halfway", fixture_library("init_hangs")); });
    const auto function_dir = daemon.data_dir() / "functions" / "halfway";
    auto staged = [&] {
        std::error_code ignored;
        for (const auto& entry : std::filesystem::directory_iterator(function_dir, ignored))
            if (entry.path().filename().string().rfind(".staging", 0) == 0) return true;
        return false;
    };
    auto deadline = std::chrono::steady_clock::now() + 5s;
    while (!(staged() && !worker_processes(daemon).empty()) && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(20ms);
    ASSERT_TRUE(staged()) << "the deploy never staged its library";
    daemon.kill9();
    deployer.join();

    daemon.start();
    EXPECT_EQ(daemon.http().request("GET", "/v1/functions/halfway").status, 404);
    EXPECT_FALSE(staged()) << "the staged copy outlived the restart";
    EXPECT_TRUE(worker_processes(daemon).empty()) << "the trial worker outlived its daemon";
    auto redeployed = daemon.deploy("halfway", function_library("hello"));
    EXPECT_EQ(redeployed.exit_code, 0) << redeployed;
    EXPECT_EQ(redeployed.out, "halfway version 1\n");
    EXPECT_EQ(daemon.http().request("POST", "/v1/functions/halfway/invoke", "x").body, "Hello, x!");
    EXPECT_EQ(daemon.stop(), 0);
}

TEST(CrashSafety, TornLastLedgerLineIsSkippedWithAWarning) {
    DaemonProcess daemon;
    daemon.start();
    ASSERT_EQ(daemon.deploy("hello", function_library("hello")).exit_code, 0);
    for (int i = 0; i < 3; ++i) ASSERT_EQ(daemon.cli({"invoke", "hello", "--data", "x"}).exit_code, 0);
    daemon.kill9();

    auto ledger_file = last_open_segment(daemon);
    ASSERT_FALSE(ledger_file.empty());
    std::ofstream(ledger_file, std::ios::app) << "torn-record\thello\t1\tinvoke\t0\t17";

    daemon.start();
    auto summary = daemon.cli({"billing"});
    EXPECT_EQ(summary.exit_code, 0) << summary;
    EXPECT_NE(summary.out.find("hello"), std::string::npos) << summary;
    EXPECT_EQ(daemon.billing_records("hello").size(), 3u);
    EXPECT_NE(daemon.log().find("torn"), std::string::npos) << "no warning about the torn line";

    // Records written after the restart start on a line of their own.
    ASSERT_EQ(daemon.cli({"invoke", "hello", "--data", "y"}).exit_code, 0);
    auto records = daemon.billing_records("hello");
    ASSERT_EQ(records.size(), 4u);
    EXPECT_EQ(ledger_request_ids(daemon).count("torn-record"), 0u);
    EXPECT_EQ(daemon.stop(), 0);
}

// The summary answers from the rollups: a record in the open segment when the daemon is
// killed counts once after the restart, and still once when that segment is sealed (its
// rows move from memory to the database) and after a clean restart.
TEST(CrashSafety, ARecordWrittenJustBeforeKillNineIsSummarizedOnce) {
    DaemonProcess daemon;
    daemon.start();
    ASSERT_EQ(daemon.deploy("counted", function_library("hello")).exit_code, 0);
    auto http = daemon.http();
    for (int i = 0; i < 3; ++i) ASSERT_EQ(http.request("POST", "/v1/functions/counted/invoke", "x").status, 200);
    daemon.kill9();

    daemon.start();
    const auto invocations = [&] {
        auto summary = daemon.cli({"billing", "--json", "--function", "counted"});
        EXPECT_EQ(summary.exit_code, 0) << summary;
        return json::parse(summary.out)["total"]["invocations"].get<int>();
    };
    EXPECT_EQ(invocations(), 3);
    // The killed daemon's segment is written no more: the restarted one seals it.
    const auto sealed = [&] {
        for (const auto& entry : std::filesystem::directory_iterator(daemon.data_dir() / "billing"))
            if (entry.path().string().ends_with(".tsv.zst")) return true;
        return false;
    };
    ASSERT_TRUE(eventually(sealed, std::chrono::seconds(20))) << daemon.log();
    EXPECT_EQ(invocations(), 3);
    ASSERT_EQ(daemon.http().request("POST", "/v1/functions/counted/invoke", "x").status, 200);
    EXPECT_EQ(invocations(), 4);
    EXPECT_EQ(daemon.stop(), 0);
    daemon.start();
    EXPECT_EQ(invocations(), 4);
    EXPECT_EQ(daemon.stop(), 0);
}

TEST(CrashSafety, ConcurrentDeploysOfOneNameGetDistinctIncreasingVersions) {
    DaemonProcess daemon;
    daemon.start();
    constexpr int deployers = 8;
    std::mutex mutex;
    std::vector<int> versions;
    std::vector<std::string> failures;
    std::vector<std::thread> threads;
    for (int i = 0; i < deployers; ++i) {
        threads.emplace_back([&] {
            auto result = daemon.deploy("contended", function_library("hello"));
            std::lock_guard lock(mutex);
            if (result.exit_code != 0) {
                failures.push_back(result.err);
                return;
            }
            // "contended version N"
            versions.push_back(std::stoi(result.out.substr(result.out.rfind(' ') + 1)));
        });
    }
    for (auto& thread : threads) thread.join();
    EXPECT_TRUE(failures.empty()) << failures.size() << " deploys failed, e.g. " << failures.front();
    std::set<int> distinct(versions.begin(), versions.end());
    EXPECT_EQ(distinct.size(), versions.size());
    EXPECT_EQ(distinct, (std::set<int>{1, 2, 3, 4, 5, 6, 7, 8}));

    auto info = json::parse(daemon.http().request("GET", "/v1/functions/contended").body);
    EXPECT_EQ(info["function"]["version"], deployers);
    EXPECT_EQ(info["versions"], json(std::vector<int>{1, 2, 3, 4, 5, 6, 7, 8}));
    EXPECT_EQ(daemon.stop(), 0);
}

TEST(CrashSafety, DeploysDuringTrafficFailNoRequest) {
    DaemonProcess daemon;
    daemon.start();
    ASSERT_EQ(daemon.deploy("live", function_library("hello")).exit_code, 0);
    {
        HealthyTraffic first(daemon, "live"), second(daemon, "live");
        for (int i = 0; i < fault_suite_size(6, 30); ++i) {
            auto result = daemon.deploy("live", function_library(i % 2 ? "hello" : "c-hello"));
            EXPECT_EQ(result.exit_code, 0) << result;
        }
        first.stop();
        second.stop();
        EXPECT_GT(first.succeeded() + second.succeeded(), 0);
        EXPECT_EQ(first.failed(), 0) << first.first_failure();
        EXPECT_EQ(second.failed(), 0) << second.first_failure();
    }
    EXPECT_EQ(daemon.stop(), 0);
}

}  // namespace
}  // namespace sofaas::testing
