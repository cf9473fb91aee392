// Processes a function detaches from its worker (setsid, a double fork) live at most as
// long as that worker: they die after a deadline, a delete, a new version and the
// daemon's shutdown. Under a root daemon each environment has a pid namespace of its own,
// whose init takes them all when the worker dies; without one, one that is orphaned into
// a session of its own dies at once, even while its worker stays warm. (tests/fixtures/
// escape.c leaves them behind. The pids it reports are its namespace's.)
#include <sys/types.h>

#include <unistd.h>

#include <chrono>
#include <future>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/daemon_test.h"
#include "support/eventually.h"
#include "support/proc_inspect.h"

namespace sofaas::testing {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

// Longer than the pool's sweep period (1 s): what survives this was not taken for an escapee.
constexpr auto longer_than_a_sweep = 2500ms;
constexpr auto death_limit = 5s;

// Dead and reaped: no zombie left behind either.
bool gone(pid_t pid) {
    return !process_status(pid).has_value();
}

bool gone_soon(pid_t pid) {
    return eventually([pid] { return gone(pid); }, death_limit);
}

class EscapedProcesses : public DaemonTest {
protected:
    static HttpResponse invoke(const std::string& function, const std::string& event) {
        return daemon().http().request("POST", "/v1/functions/" + function + "/invoke", event);
    }

    // What `function` reported as `pid` (its pid namespace's), as this process sees it;
    // asked while the environment lives. -1 when no environment of it has such a process.
    static pid_t seen_from_here(const std::string& function, pid_t pid) {
        for (const auto& worker : worker_processes(daemon()))
            if (worker.cmdline.find(" --function " + function + " ") != std::string::npos)
                if (const auto found = host_pid(worker.pid, pid)) return *found;
        return -1;
    }

    static pid_t invoke_and_escape(const std::string& function, const std::string& how) {
        const auto response = invoke(function, how);
        EXPECT_EQ(response.status, 200) << response.body;
        return response.status == 200 ? seen_from_here(function, static_cast<pid_t>(std::stol(response.body))) : -1;
    }

    // The processes `function`'s environments started, as this process sees them: the
    // members of their pid namespaces that are neither the worker nor the namespace's
    // init. Empty without pid namespaces.
    static std::vector<pid_t> started_inside(const std::string& function) {
        std::vector<pid_t> started;
        for (const auto& worker : worker_processes(daemon())) {
            if (worker.cmdline.find(" --function " + function + " ") == std::string::npos) continue;
            if (pid_namespace(worker.pid) == pid_namespace(::getpid())) continue;
            for (const pid_t member : pid_namespace_members(worker.pid)) {
                const auto status = process_status(member);
                if (member != worker.pid && status && status->comm != "sofaas-init") started.push_back(member);
            }
        }
        return started;
    }

    // The "escaped PID" line the fixture printed, from the function's log.
    static pid_t escaped_pid_in_log(const std::string& function) {
        pid_t pid = -1;
        eventually([&] {
            const auto logs = daemon().http().request("GET", "/v1/functions/" + function + "/logs?tail=100");
            if (logs.status != 200) return false;
            const json document = json::parse(logs.body);
            for (const auto& line : document["lines"]) {
                const auto message = line["message"].get<std::string>();
                if (message.starts_with("escaped ")) pid = static_cast<pid_t>(std::stol(message.substr(8)));
            }
            return pid > 0;
        });
        return pid;
    }
};

TEST_F(EscapedProcesses, DeadlineKillsAChildThatLeftTheWorkersSession) {
    ASSERT_EQ(daemon().deploy("deadline-escape", fixture_library("escape"), {"--timeout", "2"}).exit_code, 0);
    auto response = std::async(std::launch::async, [] { return invoke("deadline-escape", "child spin"); });
    // In a pid namespace the child is found while its worker spins; without one, its pid
    // in the log is this process's too.
    std::vector<pid_t> escaped;
    if (::geteuid() == 0) {
        EXPECT_TRUE(eventually([&] {
            escaped = started_inside("deadline-escape");
            return !escaped.empty();
        }));
    }
    ASSERT_EQ(response.get().status, 504);
    if (::geteuid() != 0) escaped = {escaped_pid_in_log("deadline-escape")};
    ASSERT_FALSE(escaped.empty());
    ASSERT_GT(escaped.front(), 0) << "no 'escaped PID' line in the function's log";
    for (const pid_t pid : escaped) EXPECT_TRUE(gone_soon(pid)) << "process " << pid << " outlived its timed-out worker";
}

// A child in a session of its own stays the worker's child: it lives as long as the warm
// worker does, and dies when the function is deleted.
TEST_F(EscapedProcesses, DeleteKillsAChildThatLeftTheWorkersSession) {
    ASSERT_EQ(daemon().deploy("delete-escape", fixture_library("escape")).exit_code, 0);
    const pid_t escaped = invoke_and_escape("delete-escape", "child");
    ASSERT_GT(escaped, 0);
    std::this_thread::sleep_for(longer_than_a_sweep);
    EXPECT_TRUE(is_running(escaped)) << "the worker is warm: its child may live";

    ASSERT_EQ(daemon().http().request("DELETE", "/v1/functions/delete-escape").status, 200);
    EXPECT_TRUE(gone_soon(escaped)) << "process " << escaped << " outlived its deleted function";
}

// Without a pid namespace, a process orphaned by a double fork into a session of its own
// is the daemon's child at once and belongs to no worker: it is killed within a sweep, and
// the worker stays warm.
TEST_F(EscapedProcesses, AnOrphanInASessionOfItsOwnDiesWhileTheWorkerStaysWarm) {
    if (::geteuid() == 0) GTEST_SKIP() << "a root daemon's environments have pid namespaces (the next test)";
    ASSERT_EQ(daemon().deploy("orphan-escape", fixture_library("escape")).exit_code, 0);
    const pid_t escaped = invoke_and_escape("orphan-escape", "orphan");
    ASSERT_GT(escaped, 0);
    EXPECT_TRUE(gone_soon(escaped)) << "orphan " << escaped << " was not killed";

    const auto again = invoke("orphan-escape", "orphan");
    EXPECT_EQ(again.status, 200) << again.body;
    EXPECT_EQ(again.header("X-Sofaas-Init-Ms"), "") << "the worker did not stay warm";
}

// In a pid namespace of its own, the orphan is its init's: it lives as long as the
// environment does, and dies with it.
TEST_F(EscapedProcesses, AnOrphanInASessionOfItsOwnLivesAsLongAsItsEnvironment) {
    if (::geteuid() != 0) GTEST_SKIP() << "environments have pid namespaces under a root daemon";
    ASSERT_EQ(daemon().deploy("orphan-lives", fixture_library("escape")).exit_code, 0);
    const pid_t escaped = invoke_and_escape("orphan-lives", "orphan");
    ASSERT_GT(escaped, 0);
    std::this_thread::sleep_for(longer_than_a_sweep);
    EXPECT_TRUE(is_running(escaped)) << "its environment is warm: it may live";

    ASSERT_EQ(daemon().http().request("DELETE", "/v1/functions/orphan-lives").status, 200);
    EXPECT_TRUE(gone_soon(escaped)) << "process " << escaped << " outlived its environment";
}

// Orphaned but still in the worker's process group, a background process lives as long as
// the worker and dies with its group when a new version retires it.
TEST_F(EscapedProcesses, ABackgroundProcessDiesWhenANewVersionRetiresItsWorker) {
    ASSERT_EQ(daemon().deploy("background-escape", fixture_library("escape")).exit_code, 0);
    const pid_t background = invoke_and_escape("background-escape", "background");
    ASSERT_GT(background, 0);
    std::this_thread::sleep_for(longer_than_a_sweep);
    EXPECT_TRUE(is_running(background)) << "its worker is warm: it may live";

    ASSERT_EQ(daemon().deploy("background-escape", fixture_library("escape")).exit_code, 0);
    EXPECT_TRUE(gone_soon(background)) << "process " << background << " outlived its retired worker";
}

TEST(EscapedProcessesAtShutdown, StoppingTheDaemonKillsThemAll) {
    DaemonProcess daemon;
    daemon.start();
    ASSERT_EQ(daemon.deploy("shutdown-escape", fixture_library("escape")).exit_code, 0);
    auto http = daemon.http();
    std::vector<pid_t> escaped;
    for (const char* how : {"child", "background"}) {
        const auto response = http.request("POST", "/v1/functions/shutdown-escape/invoke", how);
        ASSERT_EQ(response.status, 200) << how << ": " << response.body;
        const auto workers = worker_processes(daemon);
        ASSERT_FALSE(workers.empty());
        const auto pid = host_pid(workers.front().pid, static_cast<pid_t>(std::stol(response.body)));
        ASSERT_TRUE(pid) << how;
        escaped.push_back(*pid);
    }
    ASSERT_EQ(daemon.stop(), 0);
    for (const pid_t pid : escaped) {
        EXPECT_TRUE(eventually([pid] { return !is_running(pid); }, death_limit))
            << "process " << pid << " outlived the daemon";
    }
}

}  // namespace
}  // namespace sofaas::testing
