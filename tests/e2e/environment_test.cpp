// Function code reads nothing of the data directory, and the loader variables a daemon
// may allow act only inside the sandbox: under a root daemon a worker runs as a uid of its
// own, and the data directory is the daemon's user's alone.
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "common/config.h"
#include "support/daemon_process.h"
#include "support/eventually.h"

namespace sofaas::testing {
namespace {

namespace fs = std::filesystem;

constexpr int eacces = 13;

HttpResponse invoke(const DaemonProcess& daemon, const std::string& function, const std::string& event) {
    return daemon.http().request("POST", "/v1/functions/" + function + "/invoke", event);
}

std::string errno_line(const std::string& command, const fs::path& path, int error) {
    return command + " " + path.string() + " errno=" + std::to_string(error) + "\n";
}

class ExecutionEnvironment : public ::testing::Test {
protected:
    void SetUp() override {
        if (::geteuid() != 0) GTEST_SKIP() << "workers run as uids of their own under a root daemon";
    }
};

// The ledger, another function's logs and library, the admin token: a function opens
// none of them. A data directory an older sofaasd left readable is tightened at start.
TEST_F(ExecutionEnvironment, FunctionsCannotReadTheDataDirectory) {
    // Where function code sees it: not under /tmp (an environment's /tmp is its own), and
    // with every directory above it open, so that only the data directory's own modes
    // stand in the way.
    const fs::path visible = fs::path(SOFAAS_BIN_DIR).parent_path() / "e2e-data-dirs";
    fs::create_directories(visible);
    ::setenv("TMPDIR", visible.c_str(), 1);
    DaemonProcess daemon;
    daemon.use_generated_token();
    const fs::path data = daemon.data_dir();
    fs::permissions(data.parent_path(), fs::perms(0755));
    fs::create_directories(data / "logs" / "old");
    std::ofstream(data / "logs" / "old" / "2020-01-01.jsonl") << "{}\n";
    fs::permissions(data, fs::perms(0755));
    fs::permissions(data / "logs" / "old" / "2020-01-01.jsonl", fs::perms(0644));
    daemon.start();
    EXPECT_EQ(fs::status(data).permissions(), fs::perms(0700));
    EXPECT_EQ(fs::status(data / "logs" / "old").permissions(), fs::perms(0700));
    EXPECT_EQ(fs::status(data / "logs" / "old" / "2020-01-01.jsonl").permissions(), fs::perms(0600));

    ASSERT_EQ(daemon.deploy("hello", function_library("hello")).exit_code, 0);
    ASSERT_EQ(invoke(daemon, "hello", "ledger").status, 200);
    ASSERT_EQ(daemon.deploy("reader", fixture_library("files")).exit_code, 0);
    std::vector<fs::path> secrets = {data / "admin.token", data / "functions/hello/versions/1/function.so",
                                     data / "functions/hello/versions/1/spec.json"};
    ASSERT_TRUE(eventually([&] {
        std::error_code ignored;
        return !fs::is_empty(data / "billing", ignored) && fs::exists(data / "logs" / "hello", ignored) &&
               !fs::is_empty(data / "logs" / "hello", ignored);
    }));
    for (const auto& directory : {data / "billing", data / "logs" / "hello"})
        for (const auto& file : fs::directory_iterator(directory)) secrets.push_back(file.path());

    std::string event, expected;
    for (const fs::path& secret : secrets) {
        ASSERT_TRUE(fs::exists(secret)) << secret;
        event += "read " + secret.string() + "\n";
        expected += errno_line("read", secret, eacces);
        const auto mode = fs::status(secret).permissions();
        if (secret.filename() != "function.so") {
            EXPECT_EQ(mode & (fs::perms::group_all | fs::perms::others_all), fs::perms::none) << secret;
        }
    }
    EXPECT_EQ(invoke(daemon, "reader", event).body, expected);
    EXPECT_EQ(daemon.stop(), 0);
}

TEST(LoaderVariables, AreRefusedAtDeploy) {
    DaemonProcess daemon;
    daemon.start();
    for (const std::string variable : {"LD_PRELOAD", "LD_LIBRARY_PATH", "GLIBC_TUNABLES", "MALLOC_ARENA_MAX"}) {
        const auto deployed =
            daemon.deploy("preloaded", fixture_library("environment"), {"--env", variable + "=/tmp/anything"});
        EXPECT_EQ(deployed.exit_code, 1) << deployed;
        EXPECT_NE(deployed.err.find("InvalidParameterValueException"), std::string::npos) << deployed;
        EXPECT_NE(deployed.err.find("\"" + variable + "\""), std::string::npos) << deployed;
    }
    EXPECT_EQ(daemon.http().request("GET", "/v1/functions/preloaded").status, 404);
    EXPECT_EQ(daemon.stop(), 0);
}

// Allowed, LD_PRELOAD acts, but its library runs as the worker's user: the worker execs
// itself again once it is inside its sandbox (worker/loader_exec.h).
TEST(LoaderVariables, AllowedOnesActOnlyInsideTheSandbox) {
#if defined(__SANITIZE_ADDRESS__)
    GTEST_SKIP() << "ASan's runtime refuses to start after an LD_PRELOADed library that is not itself";
#endif
    if (::geteuid() != 0) GTEST_SKIP() << "workers switch users only under a root daemon";
    DaemonProcess daemon(nlohmann::json{{"allow_loader_environment", true}});
    daemon.start();
    const std::string preload = "LD_PRELOAD=" + fixture_library("preload_uid").string();
    ASSERT_EQ(daemon.deploy("preloaded", fixture_library("environment"), {"--env", preload}).exit_code, 0);
    const auto seen = invoke(daemon, "preloaded", "PRELOAD_UID");
    ASSERT_EQ(seen.status, 200) << seen.body;
    const size_t at = seen.body.find("PRELOAD_UID=");
    ASSERT_NE(at, std::string::npos) << "the preloaded library did not run: " << seen.body;
    const long uid = std::stol(seen.body.substr(at + 12));
    EXPECT_GE(uid, static_cast<long>(default_worker_uids.first)) << seen.body;
    EXPECT_LE(uid, static_cast<long>(default_worker_uids.last)) << seen.body;
    EXPECT_EQ(daemon.stop(), 0);
}

}  // namespace
}  // namespace sofaas::testing
