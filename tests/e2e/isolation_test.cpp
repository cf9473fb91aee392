// Functions are kept apart from each other, not only from the host. Under a root daemon
// each worker runs as a uid of its own, so what a function may do to "its user's"
// processes (kill(-1), RLIMIT_NPROC) reaches no other worker, and no uid is held by two
// live workers, across daemons and restarts. (Its pid namespace keeps kill(-1) inside the
// environment besides: environment_test.cpp.)
#include <signal.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "common/config.h"
#include "support/daemon_process.h"
#include "support/eventually.h"
#include "support/proc_inspect.h"

namespace sofaas::testing {
namespace {

using namespace std::chrono_literals;

// The live workers of `function` (version 1).
std::vector<pid_t> workers_of(const DaemonProcess& daemon, const std::string& function) {
    std::vector<pid_t> workers;
    for (const auto& process : worker_processes(daemon)) {
        if (process.state != 'Z' && process.cmdline.find(" --function " + function + " --version 1 ") != std::string::npos) {
            workers.push_back(process.pid);
        }
    }
    return workers;
}

// Deploys `victim` (hello, two warm workers) and `attacker` (kill(-1, SIGKILL)); returns
// the victim's workers once both are up.
std::vector<pid_t> deploy_victim_and_attacker(const DaemonProcess& daemon) {
    EXPECT_EQ(daemon.deploy("victim", function_library("hello"), {"--min-warm", "2"}).exit_code, 0);
    EXPECT_EQ(daemon.deploy("attacker", fixture_library("kill_everyone")).exit_code, 0);
    std::vector<pid_t> victims;
    EXPECT_TRUE(eventually([&] {
        victims = workers_of(daemon, "victim");
        return victims.size() == 2;
    }));
    return victims;
}

class FunctionIsolation : public ::testing::Test {
protected:
    void SetUp() override {
        if (::geteuid() != 0) GTEST_SKIP() << "workers switch users only under a root daemon";
    }
};

TEST_F(FunctionIsolation, EveryWorkerRunsAsAUidOfItsOwn) {
    DaemonProcess daemon;
    daemon.start();
    ASSERT_EQ(daemon.deploy("hello", function_library("hello"), {"--min-warm", "3"}).exit_code, 0);
    ASSERT_EQ(daemon.deploy("echo", function_library("echo"), {"--min-warm", "2"}).exit_code, 0);
    std::vector<pid_t> workers;
    ASSERT_TRUE(eventually([&] {
        workers = workers_of(daemon, "hello");
        const auto echoes = workers_of(daemon, "echo");
        workers.insert(workers.end(), echoes.begin(), echoes.end());
        // A worker forked a moment ago may not have left the zygote's root yet.
        return workers.size() == 5 &&
               std::none_of(workers.begin(), workers.end(), [](pid_t worker) { return process_uid(worker) == 0; });
    }));
    std::set<long> uids;
    for (const pid_t worker : workers) {
        const long uid = process_uid(worker);
        EXPECT_GE(uid, static_cast<long>(default_worker_uids.first)) << worker;
        EXPECT_LE(uid, static_cast<long>(default_worker_uids.last)) << worker;
        uids.insert(uid);
    }
    EXPECT_EQ(uids.size(), workers.size()) << "two workers share a uid";
    EXPECT_EQ(daemon.stop(), 0);
}

TEST_F(FunctionIsolation, KillingEveryoneItMaySignalReachesNoOtherWorker) {
    DaemonProcess daemon;
    daemon.start();
    const std::vector<pid_t> victims = deploy_victim_and_attacker(daemon);
    ASSERT_EQ(victims.size(), 2u);

    const auto attack = daemon.http().request("POST", "/v1/functions/attacker/invoke", "");
    EXPECT_EQ(attack.body, "errno=3") << "ESRCH: in its pid namespace there was no one to signal";
    std::this_thread::sleep_for(300ms);  // a SIGKILL would have landed by now
    for (const pid_t victim : victims) EXPECT_TRUE(is_running(victim)) << victim;
    const auto call = daemon.http().request("POST", "/v1/functions/victim/invoke", "still here");
    EXPECT_EQ(call.body, "Hello, still here!");
    EXPECT_EQ(call.header("X-Sofaas-Init-Ms"), "") << "the call needed a cold start";
    EXPECT_EQ(daemon.stop(), 0);
}

// The uids of two daemons on one host (or of a daemon and the one before it) never meet
// in two live workers: a daemon holds a host-wide lock on each uid it hands out.
TEST_F(FunctionIsolation, TwoDaemonsNeverHandOutTheSameUid) {
    const nlohmann::json range = {{"worker_uids", "1901100000-1901100009"}};
    DaemonProcess first(range);
    DaemonProcess second(range);
    first.start();
    second.start();
    ASSERT_EQ(first.deploy("hello", function_library("hello"), {"--min-warm", "3"}).exit_code, 0);
    ASSERT_EQ(second.deploy("hello", function_library("hello"), {"--min-warm", "3"}).exit_code, 0);
    std::set<long> uids;
    ASSERT_TRUE(eventually([&] {
        uids.clear();
        size_t workers = 0;
        for (const DaemonProcess* daemon : {&first, &second}) {
            for (const pid_t worker : workers_of(*daemon, "hello")) {
                ++workers;
                uids.insert(process_uid(worker));
            }
        }
        return workers == 6 && !uids.contains(0);  // each past its privilege drop
    }));
    EXPECT_EQ(uids.size(), 6u) << "two live workers share a uid";
    EXPECT_EQ(first.stop(), 0);
    EXPECT_EQ(second.stop(), 0);
}

// What runs as a uid when a daemon hands it to a worker (left behind by a worker of a
// daemon that was SIGKILLed, say) is killed first: here a process that kills everything
// of its uid every millisecond, as a function's leftover could.
TEST_F(FunctionIsolation, WhatStillRunsAsAUidIsKilledBeforeAWorkerGetsIt) {
    const uid_t uid = 1901100100;
    const auto run_as_uid = [uid](bool killer) {
        const pid_t pid = ::fork();
        if (pid == 0) {
            if (::setresgid(uid, uid, uid) != 0 || ::setresuid(uid, uid, uid) != 0) ::_exit(1);
            for (;;) {
                if (killer) ::kill(-1, SIGKILL);
                ::usleep(1000);
            }
        }
        return pid;
    };
    const auto killed = [](pid_t pid) {
        int status = 0;
        const bool ended = eventually([&] { return ::waitpid(pid, &status, WNOHANG) == pid; });
        if (!ended) {
            ::kill(pid, SIGKILL);
            ::waitpid(pid, nullptr, 0);
        }
        return ended && WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
    };
    // First, what it would do to a worker of that uid: it kills a process of it.
    const pid_t leftover = run_as_uid(true);
    EXPECT_TRUE(killed(run_as_uid(false)));

    DaemonProcess daemon(nlohmann::json{{"worker_uids", std::to_string(uid) + "-" + std::to_string(uid)}});
    daemon.start();
    const auto deployed = daemon.deploy("hello", function_library("hello"));
    EXPECT_EQ(deployed.exit_code, 0) << deployed;
    EXPECT_TRUE(killed(leftover)) << "the leftover was not killed";
    // The range holds one uid: the deploy's trial environment may still hold it for a
    // moment after the deploy answers, and a call meanwhile finds no uid to start a worker as.
    std::string body;
    EXPECT_TRUE(eventually([&] {
        body = daemon.http().request("POST", "/v1/functions/hello/invoke", "uid").body;
        return body == "Hello, uid!";
    })) << body;
    EXPECT_EQ(daemon.stop(), 0);
}

// A root daemon that may not make namespaces (a container without CAP_SYS_ADMIN) still
// runs functions, as uids of their own, and says in its log what it gives up.
TEST(RootWithoutSysAdmin, RunsFunctionsWithoutNamespaces) {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root, to start sofaasd with CAP_SYS_ADMIN dropped";
    DaemonProcess daemon;
    daemon.start_through({"setpriv", "--bounding-set", "-sys_admin"});
    daemon.start();
    EXPECT_NE(daemon.log().find("no namespaces"), std::string::npos) << daemon.log();
    ASSERT_EQ(daemon.deploy("probe", fixture_library("sandbox_probe")).exit_code, 0);
    auto response = daemon.http().request("POST", "/v1/functions/probe/invoke");
    ASSERT_EQ(response.status, 200) << response.body << daemon.log();
    EXPECT_EQ(response.body.find("uid=0\n"), std::string::npos) << response.body;
    EXPECT_EQ(response.body.find("\npid=2\n"), std::string::npos) << "a pid namespace after all? " << response.body;
}

}  // namespace
}  // namespace sofaas::testing
