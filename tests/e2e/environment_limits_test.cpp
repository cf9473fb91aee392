// An execution environment's limits hold for everything its function starts, not only for
// the worker process: memory counts shared memory and every child, a thread left running
// after the response gets no CPU until the next event, and the process limit belongs to
// the environment, not to a user that several environments may share. A root daemon
// enforces them with a cgroup per environment.
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <memory>
#include <optional>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/daemon_process.h"
#include "support/eventually.h"

namespace sofaas::testing {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

// CPU time (user + system, all threads) of a process, in milliseconds.
double cpu_ms(pid_t pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
    std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    // The fields after the command (which may hold spaces) start two past its ')'.
    std::istringstream fields(stat.substr(stat.rfind(')') + 2));
    std::string field;
    for (int i = 3; i < 14; ++i) fields >> field;  // state ... cmajflt
    unsigned long long user = 0, system = 0;
    fields >> user >> system;
    return 1000.0 * static_cast<double>(user + system) / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

// The live worker of `function` (version 1), once there is exactly one. Its pid as the
// host sees it: in a pid namespace of its own, a function's getpid() is another.
pid_t only_worker_of(const DaemonProcess& daemon, const std::string& function) {
    std::vector<pid_t> workers;
    eventually([&] {
        workers.clear();
        for (const auto& process : worker_processes(daemon))
            if (process.state != 'Z' && process.cmdline.find(" --function " + function + " --version 1 ") != std::string::npos)
                workers.push_back(process.pid);
        return workers.size() == 1;
    });
    return workers.size() == 1 ? workers.front() : -1;
}

// CPU time of a process's main thread, to the nanosecond (/proc/PID/schedstat), in ms.
double thread_cpu_ms(pid_t pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/schedstat");
    unsigned long long on_cpu_ns = 0;
    in >> on_cpu_ns;
    return static_cast<double>(on_cpu_ns) / 1e6;
}

// Whether the cgroup of process `pid` is frozen: cgroup v1's freezer.state, else v2's
// cgroup.freeze. nullopt when neither can be read.
std::optional<bool> is_frozen(pid_t pid) {
    std::ifstream cgroups("/proc/" + std::to_string(pid) + "/cgroup");
    for (std::string line; std::getline(cgroups, line);) {
        const auto path = line.substr(line.find(':', line.find(':') + 1) + 1);
        std::string state;
        if (line.find(":freezer:") != std::string::npos) {
            std::ifstream("/sys/fs/cgroup/freezer" + path + "/freezer.state") >> state;
            if (!state.empty()) return state != "THAWED";
        } else if (line.rfind("0::", 0) == 0) {
            std::ifstream("/sys/fs/cgroup" + path + "/cgroup.freeze") >> state;
            if (!state.empty()) return state != "0";
        }
    }
    return std::nullopt;
}

class EnvironmentLimits : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        if (::geteuid() != 0) return;
        daemon_ = std::make_unique<DaemonProcess>();
        daemon_->start();
    }
    static void TearDownTestSuite() {
        if (daemon_) daemon_->stop();
        daemon_.reset();
    }
    void SetUp() override {
        if (::geteuid() != 0) GTEST_SKIP() << "an environment gets a cgroup only under a root daemon";
        ASSERT_TRUE(daemon_ && daemon_->running()) << "sofaasd is not running";
        if (daemon_->log().find("without cgroups") != std::string::npos)
            GTEST_SKIP() << "this host offers sofaasd no cgroup: " << daemon_->log();
    }
    static DaemonProcess& daemon() { return *daemon_; }

private:
    static inline std::unique_ptr<DaemonProcess> daemon_;
};

// 2 GB of memfds under --memory 128: shared memory is memory too.
TEST_F(EnvironmentLimits, SharedMemoryCountsAgainstTheLimit) {
    ASSERT_EQ(daemon().deploy("memfd", fixture_library("memfd_fill"), {"--memory", "128", "--timeout", "30"}).exit_code,
              0);
    auto http = daemon().http();
    auto response = http.request("POST", "/v1/functions/memfd/invoke", "2048");
    ASSERT_EQ(response.status, 502) << response.body;
    EXPECT_EQ(body_of(response)["errorType"], "Runtime.OutOfMemory");
    EXPECT_EQ(response.header("X-Sofaas-Status"), "oom");

    auto next = http.request("POST", "/v1/functions/memfd/invoke", "16");  // in a new environment
    EXPECT_EQ(next.status, 200) << next.body;
    EXPECT_EQ(next.body, "filled 16 MiB");

    auto records = daemon().billing_records("memfd");
    ASSERT_EQ(records.size(), 2u);
    EXPECT_EQ(records[0]["status"], "oom");
    EXPECT_EQ(records[1]["status"], "ok");
}

// Eight children of 100 MiB each under --memory 128: none is large, together they are.
TEST_F(EnvironmentLimits, ForkedChildrenShareTheLimit) {
    ASSERT_EQ(daemon().deploy("forkhog", fixture_library("fork_hog"), {"--memory", "128", "--timeout", "30"}).exit_code,
              0);
    auto http = daemon().http();
    auto fits = http.request("POST", "/v1/functions/forkhog/invoke", "2 16");
    ASSERT_EQ(fits.status, 200) << fits.body;
    EXPECT_EQ(fits.body, "children=2 ready=2");

    auto response = http.request("POST", "/v1/functions/forkhog/invoke", "8 100");
    ASSERT_EQ(response.status, 502) << response.body;
    EXPECT_EQ(body_of(response)["errorType"], "Runtime.OutOfMemory");
    auto records = daemon().billing_records("forkhog");
    ASSERT_EQ(records.size(), 2u);
    EXPECT_EQ(records[1]["status"], "oom");
}

// The ledger's max_memory_used_mb counts what the environment held, shared memory included.
TEST_F(EnvironmentLimits, MaxMemoryUsedCountsSharedMemory) {
    ASSERT_EQ(daemon().deploy("memfd-peak", fixture_library("memfd_fill"), {"--memory", "256"}).exit_code, 0);
    auto response = daemon().http().request("POST", "/v1/functions/memfd-peak/invoke", "100");
    ASSERT_EQ(response.status, 200) << response.body;
    auto records = daemon().billing_records("memfd-peak");
    ASSERT_EQ(records.size(), 1u);
    EXPECT_GE(records[0]["max_memory_used_mb"].get<int>(), 100) << records[0].dump();
    EXPECT_LE(records[0]["max_memory_used_mb"].get<int>(), 256) << records[0].dump();
}

// A thread the function leaves running computes while an event is handled (billed), and
// not between events: the environment is frozen until the next one, which thaws it.
TEST_F(EnvironmentLimits, ABackgroundThreadDoesNotRunBetweenInvocations) {
    ASSERT_EQ(daemon().deploy("background", fixture_library("background_spin"), {"--timeout", "10"}).exit_code, 0);
    auto http = daemon().http();
    auto first = http.request("POST", "/v1/functions/background/invoke", "1500");
    ASSERT_EQ(first.status, 200) << first.body;
    const pid_t worker = only_worker_of(daemon(), "background");
    ASSERT_GT(worker, 0);
    // The thread spun during the 1.5 s the handler slept: it does compute when let (at
    // nice +5, on a machine that may be busy: some of the 1.5 s).
    const double after_first = cpu_ms(worker);
    ASSERT_GE(after_first, 50) << "the background thread did not spin during the invocation";

    std::this_thread::sleep_for(1500ms);  // idle: what is measured is what happens meanwhile
    const double idle = cpu_ms(worker) - after_first;
    EXPECT_LT(idle, 30) << "the environment computed " << idle << " ms of CPU between invocations";

    auto second = http.request("POST", "/v1/functions/background/invoke", "1000");
    ASSERT_EQ(second.status, 200) << second.body;
    EXPECT_EQ(only_worker_of(daemon(), "background"), worker) << "the same environment";
    EXPECT_GE(cpu_ms(worker) - after_first - idle, 30) << "the next event thaws the thread";
}

// A signal handler runs in the worker's own thread, so an environment holding nothing but
// its worker could compute between events too: the pool, looking at its CPU time every
// 100 ms in the first second after an answer, freezes it within a look, and the handler
// (due 100 ms after the answer) then runs on only once the next event thaws it, which it
// spends, billed, until its deadline.
TEST_F(EnvironmentLimits, ASignalHandlerRunsOnlyInsideAnEvent) {
    ASSERT_EQ(daemon().deploy("alarm", fixture_library("alarm_spin"), {"--timeout", "1"}).exit_code, 0);
    auto http = daemon().http();
    auto response = http.request("POST", "/v1/functions/alarm/invoke", "");
    ASSERT_EQ(response.status, 200) << response.body;
    const pid_t worker = only_worker_of(daemon(), "alarm");
    ASSERT_GT(worker, 0);
    // Its only thread, to the nanosecond (/proc/PID/schedstat).
    const double answered = thread_cpu_ms(worker);
    std::this_thread::sleep_for(1500ms);
    const double idle = thread_cpu_ms(worker) - answered;
    EXPECT_LT(idle, 150) << "the environment computed between invocations";
    std::this_thread::sleep_for(500ms);
    EXPECT_LT(thread_cpu_ms(worker) - answered - idle, 1) << "the environment was not frozen";

    auto next = http.request("POST", "/v1/functions/alarm/invoke", "");
    EXPECT_EQ(next.status, 504) << next.body;
    auto records = daemon().billing_records("alarm");
    ASSERT_EQ(records.size(), 2u);
    EXPECT_EQ(records[1]["status"], "timeout");
    EXPECT_GE(records[1]["billed_ms"].get<double>(), 1000) << records[1].dump();
}

// Function code shares the worker's socket, so it can answer for itself and compute on.
// The forged answer is its output, but it does not end the window in which its code may
// run: the environment is frozen as soon as it is idle, and the next event, which the
// spinning worker never reads, ends at its deadline, billed.
TEST_F(EnvironmentLimits, AForgedAnswerDoesNotBuyComputeAfterIt) {
    ASSERT_EQ(daemon().deploy("forged-spin", fixture_library("forged_result"), {"--timeout", "2"}).exit_code, 0);
    auto http = daemon().http();
    auto first = http.request("POST", "/v1/functions/forged-spin/invoke", "spin");
    ASSERT_EQ(first.status, 200) << first.body;
    EXPECT_EQ(first.body, "forged");
    const pid_t worker = only_worker_of(daemon(), "forged-spin");
    ASSERT_GT(worker, 0);
    std::this_thread::sleep_for(200ms);  // more than the pool waits before it freezes
    const double settled = thread_cpu_ms(worker);
    std::this_thread::sleep_for(1500ms);
    const double idle = thread_cpu_ms(worker) - settled;
    EXPECT_LT(idle, 20) << "the function computed " << idle << " ms of CPU after its forged answer";

    auto second = http.request("POST", "/v1/functions/forged-spin/invoke", "spin");
    EXPECT_EQ(second.status, 504) << second.body;
    auto records = daemon().billing_records("forged-spin");
    ASSERT_EQ(records.size(), 2u);
    EXPECT_EQ(records[1]["status"], "timeout");
    EXPECT_GE(records[1]["billed_ms"].get<double>(), 2000) << records[1].dump();
}

// An environment that computes nothing while idle is not frozen: freezing and thawing
// cost CPU and latency that a well-behaved function need not pay.
TEST_F(EnvironmentLimits, AQuietEnvironmentIsNotFrozen) {
    ASSERT_EQ(daemon().deploy("quiet", function_library("hello"), {"--min-warm", "1"}).exit_code, 0);
    const pid_t warm = only_worker_of(daemon(), "quiet");
    ASSERT_GT(warm, 0);
    std::this_thread::sleep_for(300ms);  // past the looks at 1, 10 and 100 ms
    ASSERT_TRUE(is_frozen(warm).has_value()) << "cannot read the freezer of " << warm;
    EXPECT_FALSE(*is_frozen(warm)) << "frozen after its init";
    auto response = daemon().http().request("POST", "/v1/functions/quiet/invoke", "you");
    ASSERT_EQ(response.status, 200) << response.body;
    std::this_thread::sleep_for(300ms);
    EXPECT_FALSE(*is_frozen(warm)) << "frozen after an event";
}

// A frozen environment's worker still dies with the daemon, SIGKILLed or not: under
// cgroup v1 a frozen process acts on its parent-death signal only once thawed, and the
// zygote thaws it.
TEST(EnvironmentAfterTheDaemon, AFrozenWorkerDiesWithAKilledDaemon) {
    if (::geteuid() != 0) GTEST_SKIP() << "an environment gets a cgroup only under a root daemon";
    DaemonProcess daemon;
    daemon.start();
    if (daemon.log().find("without cgroups") != std::string::npos) GTEST_SKIP() << daemon.log();
    ASSERT_EQ(daemon.deploy("frozen", fixture_library("background_spin")).exit_code, 0);
    auto response = daemon.http().request("POST", "/v1/functions/frozen/invoke", "0");
    ASSERT_EQ(response.status, 200) << response.body;
    const pid_t worker = only_worker_of(daemon, "frozen");
    ASSERT_GT(worker, 0);
    ASSERT_TRUE(eventually([&] {
        const double before = cpu_ms(worker);
        std::this_thread::sleep_for(200ms);
        return cpu_ms(worker) == before;
    })) << "the idle environment was not frozen";
    daemon.kill9();
    EXPECT_TRUE(eventually([&] { return !is_running(worker); })) << "worker " << worker << " outlived the daemon";
}

// The process limit is the environment's: under one worker_user shared by all workers,
// a function holding 1023 processes leaves another function's forks alone.
TEST(EnvironmentProcessLimit, HoldsPerEnvironmentNotPerUser) {
    if (::geteuid() != 0) GTEST_SKIP() << "an environment gets a cgroup only under a root daemon";
    DaemonProcess daemon(json{{"worker_user", "nobody"}});
    daemon.start();
    if (daemon.log().find("without cgroups") != std::string::npos) GTEST_SKIP() << daemon.log();
    // 2 GB: under AddressSanitizer each of the 1023 holds some shadow memory of its own.
    ASSERT_EQ(daemon.deploy("holder", fixture_library("hold_processes"), {"--memory", "2048", "--timeout", "60"}).exit_code,
              0);
    ASSERT_EQ(daemon.deploy("forker", fixture_library("hold_processes"), {"--timeout", "60"}).exit_code, 0);
    auto http = daemon.http();
    http.set_timeout(90s);
    auto held = http.request("POST", "/v1/functions/holder/invoke", "2000");
    ASSERT_EQ(held.status, 200) << held.body;
    // 1024 tasks in the environment, the worker one of them.
    EXPECT_EQ(held.body, "held=1023 errno=" + std::to_string(EAGAIN));

    auto other = http.request("POST", "/v1/functions/forker/invoke", "100");
    ASSERT_EQ(other.status, 200) << other.body;
    EXPECT_EQ(other.body, "held=100 errno=0");
    EXPECT_EQ(daemon.stop(), 0);
}

}  // namespace
}  // namespace sofaas::testing
