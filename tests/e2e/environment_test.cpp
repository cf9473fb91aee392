// An execution environment is a boundary. Under a root daemon each one has pid, mount and
// IPC namespaces of its own: its own /tmp of --ephemeral-storage MB, gone with it; the
// host's file systems read-only; /proc and kill(-1) that reach its own processes only;
// nothing started inside outliving it. Function code reads nothing of the data directory,
// and the loader variables a daemon may allow act only inside the sandbox.
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
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
#include "support/proc_inspect.h"
#include "support/programs.h"

namespace sofaas::testing {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

constexpr int no_error = 0;
constexpr int enoent = 2;
constexpr int esrch = 3;
constexpr int eacces = 13;
constexpr int enospc = 28;
constexpr int erofs = 30;

HttpResponse invoke(const DaemonProcess& daemon, const std::string& function, const std::string& event) {
    return daemon.http().request("POST", "/v1/functions/" + function + "/invoke", event);
}

std::string errno_line(const std::string& command, const fs::path& path, int error) {
    return command + " " + path.string() + " errno=" + std::to_string(error) + "\n";
}

// A name no other test (or run) uses, in a directory of the host.
fs::path unique_path(const fs::path& directory, const std::string& what) {
    return directory / ("sofaas-e2e-" + what + "-" + std::to_string(::getpid()));
}

// The live workers of `function` (version 1): the daemon's children, not what they forked
// (which shows the same command line).
std::vector<pid_t> workers_of(const DaemonProcess& daemon, const std::string& function) {
    std::vector<pid_t> workers;
    for (const auto& process : worker_processes(daemon)) {
        const auto parent = process_status(process.ppid);
        if (process.state != 'Z' && parent && parent->comm == "sofaasd" &&
            process.cmdline.find(" --function " + function + " --version 1 ") != std::string::npos)
            workers.push_back(process.pid);
    }
    return workers;
}

class ExecutionEnvironment : public ::testing::Test {
protected:
    void SetUp() override {
        if (::geteuid() != 0) GTEST_SKIP() << "environments get namespaces and uids of their own under a root daemon";
    }
};

TEST_F(ExecutionEnvironment, TmpIsItsOwnAndGoneWithIt) {
    DaemonProcess daemon;
    daemon.start();
    ASSERT_EQ(daemon.deploy("tmp-writer", fixture_library("files")).exit_code, 0);
    const fs::path marker = unique_path("/tmp", "marker");
    ASSERT_FALSE(fs::exists(marker));

    const auto written = invoke(daemon, "tmp-writer", "write " + marker.string() + "\nexists " + marker.string());
    EXPECT_EQ(written.body, errno_line("write", marker, no_error) + errno_line("exists", marker, no_error));
    EXPECT_FALSE(fs::exists(marker)) << "the function wrote into the host's /tmp";
    std::error_code ignored;
    fs::remove(marker, ignored);

    // The warm environment keeps it; the next environment (a new version's) has a /tmp of
    // its own without it.
    EXPECT_EQ(invoke(daemon, "tmp-writer", "exists " + marker.string()).body, errno_line("exists", marker, no_error));
    ASSERT_EQ(daemon.deploy("tmp-writer", fixture_library("files")).exit_code, 0);
    EXPECT_EQ(invoke(daemon, "tmp-writer", "exists " + marker.string()).body, errno_line("exists", marker, enoent));
    EXPECT_EQ(daemon.stop(), 0);
}

// /tmp, /var/tmp and /dev/shm are one tmpfs of --ephemeral-storage MB: a write past it
// fails with ENOSPC, in any of them. (fill stops at 600 MB, so on a host /tmp nothing
// would fail.)
TEST_F(ExecutionEnvironment, WritingPastTheEphemeralStorageFailsWithEnospc) {
    DaemonProcess daemon;
    daemon.start();
    ASSERT_EQ(daemon.deploy("filler", fixture_library("files"),
                            {"--ephemeral-storage", "512", "--memory", "1024", "--timeout", "120"})
                  .exit_code,
              0);
    const auto filled = invoke(daemon, "filler", "fill /tmp 600\nfill /dev/shm 64\nwrite /var/tmp/one-more\nclean /tmp");
    ASSERT_EQ(filled.status, 200) << filled.body;
    std::istringstream lines(filled.body);
    std::string tmp, shm, var_tmp;
    std::getline(lines, tmp);
    std::getline(lines, shm);
    std::getline(lines, var_tmp);
    const long long mib = 1024 * 1024;
    long long bytes = 0;
    int error = 0;
    ASSERT_EQ(std::sscanf(tmp.c_str(), "fill /tmp bytes=%lld errno=%d", &bytes, &error), 2) << tmp;
    EXPECT_EQ(error, enospc) << tmp;
    EXPECT_GE(bytes, 500 * mib) << tmp;
    EXPECT_LE(bytes, 512 * mib) << tmp;
    EXPECT_EQ(shm, "fill /dev/shm bytes=0 errno=" + std::to_string(enospc)) << "/dev/shm is part of the same 512 MB";
    EXPECT_EQ(var_tmp + "\n", errno_line("write", "/var/tmp/one-more", enospc));

    // The space is the environment's: freed, it is there again.
    EXPECT_EQ(invoke(daemon, "filler", "fill /tmp 64").body, "fill /tmp bytes=" + std::to_string(64 * mib) + " errno=0\n");
    EXPECT_EQ(daemon.stop(), 0);
}

// A single file may fill it: the file size limit follows the ephemeral storage.
TEST_F(ExecutionEnvironment, AFileMayBeAsLargeAsTheEphemeralStorage) {
    DaemonProcess daemon;
    daemon.start();
    ASSERT_EQ(daemon.deploy("big-tmp", fixture_library("sandbox_probe"), {"--ephemeral-storage", "10240"}).exit_code, 0);
    const auto probed = invoke(daemon, "big-tmp", "");
    EXPECT_NE(probed.body.find("\nfsize=" + std::to_string(10240ll * 1024 * 1024) + "\n"), std::string::npos)
        << probed.body;
    EXPECT_EQ(daemon.stop(), 0);
}

TEST_F(ExecutionEnvironment, TheHostsFileSystemsAreReadOnly) {
    DaemonProcess daemon;
    daemon.start();
    ASSERT_EQ(daemon.deploy("host-writer", fixture_library("files")).exit_code, 0);
    // /run/lock is writable by every user of the host.
    const fs::path lock = unique_path("/run/lock", "lock");
    const auto written = invoke(daemon, "host-writer", "write " + lock.string() + "\nwrite /var/tmp/own");
    std::error_code ignored;
    fs::remove(lock, ignored);
    EXPECT_EQ(written.body, errno_line("write", lock, erofs) + errno_line("write", "/var/tmp/own", no_error));
    EXPECT_EQ(daemon.stop(), 0);
}

// The worker is the second process of its pid namespace; the first is its init.
TEST_F(ExecutionEnvironment, ProcListsOnlyTheEnvironmentsOwnProcesses) {
    DaemonProcess daemon;
    daemon.start();
    ASSERT_EQ(daemon.deploy("probe", fixture_library("sandbox_probe")).exit_code, 0);
    const auto probed = invoke(daemon, "probe", "");
    EXPECT_NE(probed.body.find("\npid=2\n"), std::string::npos) << probed.body;
    EXPECT_NE(probed.body.find("\nproc=1,2\n"), std::string::npos) << probed.body;
    EXPECT_EQ(daemon.stop(), 0);
}

// A setsid + double fork leaves a process in a session of its own, which no process group
// kill reaches and which a SIGKILLed daemon can no longer sweep: it still dies, with its
// environment's init.
TEST_F(ExecutionEnvironment, NothingStartedInsideOutlivesIt) {
    DaemonProcess daemon;
    daemon.start();
    ASSERT_EQ(daemon.deploy("escaper", fixture_library("escape")).exit_code, 0);
    const auto escaped = invoke(daemon, "escaper", "orphan");
    ASSERT_EQ(escaped.status, 200) << escaped.body;
    const std::vector<pid_t> workers = workers_of(daemon, "escaper");
    ASSERT_EQ(workers.size(), 1u);
    const auto orphan = host_pid(workers.front(), static_cast<pid_t>(std::stol(escaped.body)));
    ASSERT_TRUE(orphan) << "no process " << escaped.body << " in the environment";
    ASSERT_TRUE(is_running(*orphan));

    daemon.kill9();
    EXPECT_TRUE(eventually([&] { return !is_running(*orphan); }))
        << "process " << *orphan << " outlived its environment and the daemon";
}

// kill(-1, SIGKILL) from a function reaches only its own environment's processes, even
// when every worker shares one user: neither another function's workers nor a process of
// that user outside. Sent from outside as that user, the same signal reaches them all:
// only the pid namespace stood in its way. (The user is one no other test uses: the kill
// from outside reaches every process of it.)
TEST_F(ExecutionEnvironment, KillingEveryoneReachesNothingOutsideEvenUnderOneSharedUser) {
    const uid_t shared = default_worker_uids.last + 42;
    DaemonProcess daemon(nlohmann::json{{"worker_user", "#" + std::to_string(shared)}});
    daemon.start();
    ASSERT_EQ(daemon.deploy("victim", function_library("hello"), {"--min-warm", "2"}).exit_code, 0);
    ASSERT_EQ(daemon.deploy("attacker", fixture_library("kill_everyone")).exit_code, 0);
    std::vector<pid_t> victims;
    ASSERT_TRUE(eventually([&] {
        victims = workers_of(daemon, "victim");
        return victims.size() == 2 && process_uid(victims[0]) == shared && process_uid(victims[1]) == shared;
    }));
    const pid_t bystander = ::fork();
    if (bystander == 0) {
        if (::setresgid(shared, shared, shared) != 0 || ::setresuid(shared, shared, shared) != 0) ::_exit(1);
        for (;;) ::pause();
    }
    ASSERT_TRUE(eventually([&] { return process_uid(bystander) == shared; }));

    EXPECT_EQ(invoke(daemon, "attacker", "").body, "errno=" + std::to_string(esrch)) << "it found no one to signal";
    const auto call = invoke(daemon, "victim", "still here");
    EXPECT_EQ(call.body, "Hello, still here!");
    EXPECT_EQ(call.header("X-Sofaas-Init-Ms"), "") << "a victim's worker was killed";
    for (const pid_t victim : victims) EXPECT_TRUE(is_running(victim)) << victim;
    EXPECT_TRUE(is_running(bystander));

    // The same kill from the host's pid namespace, as that user.
    const pid_t attacker = ::fork();
    if (attacker == 0) {
        if (::setresuid(shared, shared, shared) != 0) ::_exit(1);
        ::_exit(::kill(-1, SIGKILL) == 0 ? 0 : 1);
    }
    int status = 0;
    ASSERT_EQ(::waitpid(attacker, &status, 0), attacker);
    for (const pid_t victim : victims) EXPECT_TRUE(eventually([&] { return !is_running(victim); })) << victim;
    ASSERT_EQ(::waitpid(bystander, &status, 0), bystander);
    EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    EXPECT_EQ(daemon.stop(), 0);
}

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
    std::ofstream(data / "logs" / "old" / "notes.txt") << "{}\n";
    fs::permissions(data, fs::perms(0755));
    fs::permissions(data / "logs" / "old" / "notes.txt", fs::perms(0644));
    daemon.start();
    EXPECT_EQ(fs::status(data).permissions(), fs::perms(0700));
    EXPECT_EQ(fs::status(data / "logs" / "old").permissions(), fs::perms(0700));
    EXPECT_EQ(fs::status(data / "logs" / "old" / "notes.txt").permissions(), fs::perms(0600));

    // A function that prints: its log stores only what it printed.
    ASSERT_EQ(daemon.deploy("hello", function_library("logger")).exit_code, 0);
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
    if (programs_are_sanitized()) {
        GTEST_SKIP() << "ASan's runtime refuses to start after an LD_PRELOADed library that is not itself";
    }
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
