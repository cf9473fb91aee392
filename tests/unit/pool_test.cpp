// The pool with the real sofaas-worker and the real example functions: cold and warm
// starts, deadlines, crashes, memory limits, concurrency, retirement, trial loads, and
// the worker's descriptors and environment. Every test runs twice: workers forked by the
// zygote that serves every cold start, and each by a zygote of its own ("zygote": false).
#include "pool/pool.h"

#include <dirent.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <future>
#include <iterator>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <variant>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <gtest/gtest.h>

#include "pool/uid_leftovers.h"
#include "pool/worker_exit.h"
#include "pool/worker_uids.h"
#include "support/daemon_process.h"
#include "support/eventually.h"
#include "support/proc_inspect.h"
#include "support/temp_dir.h"

namespace sofaas {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using testing::eventually;
using testing::fixture_library;
using testing::function_library;

constexpr auto answer_limit = 60s;  // a hung pool fails the test instead of hanging it

std::filesystem::path worker_binary() {
    return std::filesystem::path(SOFAAS_BIN_DIR) / "sofaas-worker";
}

FunctionVersionPtr make_version(const std::string& name, std::filesystem::path library, uint32_t timeout_s = 3,
                                uint32_t memory_mb = 128) {
    auto version = std::make_shared<FunctionVersion>();
    version->spec.name = name;
    version->spec.version = 1;
    version->spec.timeout_s = timeout_s;
    version->spec.memory_mb = memory_mb;
    version->library = std::move(library);
    return version;
}

// This process's open descriptors, each with what it refers to ("7 -> socket:[1234]"), so
// a failure names the leak. The listing's own descriptor is left out.
std::set<std::string> open_descriptors() {
    std::set<std::string> open;
    DIR* listing = ::opendir("/proc/self/fd");
    if (listing == nullptr) throw std::runtime_error("cannot list /proc/self/fd");
    while (const dirent* entry = ::readdir(listing)) {
        const std::string name = entry->d_name;
        if (name == "." || name == ".." || name == std::to_string(::dirfd(listing))) continue;
        std::error_code closed_meanwhile;
        const auto target = std::filesystem::read_symlink("/proc/self/fd/" + name, closed_meanwhile);
        if (!closed_meanwhile) open.insert(name + " -> " + target.string());
    }
    ::closedir(listing);
    return open;
}

std::string describe(const std::set<std::string>& descriptors) {
    std::string text;
    for (const auto& descriptor : descriptors) text += "  " + descriptor + "\n";
    return text;
}

// A stand-in for sofaas-worker, to see how the pool copes with a worker gone wrong.
std::filesystem::path write_script(const testing::TempDir& dir, const std::string& name, const std::string& body) {
    const auto path = dir / name;
    std::ofstream(path) << "#!/bin/sh\n" << body << "\n";
    std::filesystem::permissions(path, std::filesystem::perms::owner_all);
    return path;
}

// The zygote is a child of this test too, but never a worker.
bool is_zygote(const std::filesystem::path& proc) {
    std::ifstream cmdline(proc / "cmdline");
    std::string arguments((std::istreambuf_iterator<char>(cmdline)), std::istreambuf_iterator<char>());
    return arguments.find(std::string("--zygote\0", 9)) != std::string::npos;
}

// Processes whose parent is this test: the workers, running or not yet reaped.
std::vector<pid_t> child_processes() {
    std::vector<pid_t> children;
    for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
        const std::string name = entry.path().filename();
        if (name.find_first_not_of("0123456789") != std::string::npos) continue;
        std::ifstream stat(entry.path() / "stat");
        std::string line;
        if (!std::getline(stat, line)) continue;
        // pid (comm) state ppid ...: comm may hold spaces, so parse after the last ')'.
        std::istringstream rest(line.substr(line.rfind(')') + 1));
        char state = 0;
        pid_t parent = 0;
        rest >> state >> parent;
        if (parent == ::getpid() && !is_zygote(entry.path())) children.push_back(std::stoi(name));
    }
    return children;
}

// The parameter: whether cold starts fork from the zygote.
class PoolTest : public ::testing::TestWithParam<bool> {
protected:
    PoolTest() : PoolTest(PoolOptions{}) {}
    explicit PoolTest(PoolOptions options) {
        options.worker_binary = worker_binary();
        options.zygote = GetParam();
        pool_ = std::make_unique<Pool>(io_, options);
        threads_.emplace_back([this] { io_.run(); });  // one thread per io_context, as the daemon runs it
    }
    ~PoolTest() override {
        pool_.reset();
        work_.reset();
        io_.stop();
        for (auto& thread : threads_) thread.join();
    }

    std::future<InvocationReport> start(const FunctionVersionPtr& version, std::string payload = {}) {
        auto answer = std::make_shared<std::promise<InvocationReport>>();
        auto future = answer->get_future();
        pool_->execute(version, "req-" + std::to_string(++requests_), std::move(payload), {},
                       [answer](InvocationReport execution) { answer->set_value(std::move(execution)); });
        return future;
    }

    static InvocationReport wait(std::future<InvocationReport>& future) {
        if (future.wait_for(answer_limit) != std::future_status::ready) {
            ADD_FAILURE() << "the pool did not answer within " << answer_limit.count() << " s";
            return {};
        }
        return future.get();
    }

    InvocationReport run(const FunctionVersionPtr& version, std::string payload = {}) {
        auto future = start(version, std::move(payload));
        return wait(future);
    }

    std::optional<std::string> trial_load(const FunctionVersionPtr& version) { return trial_load(*pool_, version); }
    static std::optional<std::string> trial_load(Pool& pool, const FunctionVersionPtr& version) {
        auto answer = std::make_shared<std::promise<std::optional<std::string>>>();
        auto future = answer->get_future();
        pool.trial_load(version, [answer](std::optional<TrialLoadFailure> failure) {
            answer->set_value(failure ? std::optional(failure->error_type + ": " + failure->error_message)
                                      : std::nullopt);
        });
        if (future.wait_for(answer_limit) != std::future_status::ready) {
            ADD_FAILURE() << "trial_load did not answer";
            return "no answer";
        }
        return future.get();
    }

    asio::io_context io_;
    asio::executor_work_guard<asio::io_context::executor_type> work_ = asio::make_work_guard(io_);
    std::unique_ptr<Pool> pool_;
    std::vector<std::thread> threads_;
    std::atomic<int> requests_ = 0;
};

TEST_P(PoolTest, ColdStartReportsInitThenWarmStartReusesTheWorker) {
    const auto hello = make_version("hello", function_library("hello"));

    const InvocationReport cold = run(hello, "pool");
    EXPECT_EQ(cold.status, InvocationStatus::ok) << cold.error_type << ": " << cold.error_message;
    EXPECT_EQ(cold.output, "Hello, pool!");
    ASSERT_TRUE(cold.init_ms.has_value());
    EXPECT_GE(*cold.init_ms, 0.0);
    EXPECT_GT(cold.max_memory_used_mb, 0u);

    const InvocationReport warm = run(hello, "again");
    EXPECT_EQ(warm.status, InvocationStatus::ok);
    EXPECT_EQ(warm.output, "Hello, again!");
    EXPECT_FALSE(warm.init_ms.has_value());
    EXPECT_EQ(pool_->worker_count(), 1u);
    EXPECT_EQ(child_processes().size(), 1u);
    const PoolStats stats = pool_->stats("hello", 1);
    EXPECT_EQ(stats.idle, 1u);
    EXPECT_EQ(stats.busy, 0u);
}

TEST_P(PoolTest, FunctionErrorKeepsTheWorker) {
    const auto sleep = make_version("sleep", function_library("sleep"));
    const InvocationReport failed = run(sleep, "not a number");
    EXPECT_EQ(failed.status, InvocationStatus::error);
    EXPECT_EQ(failed.error_type, "InvalidInput");
    EXPECT_FALSE(failed.error_message.empty());

    const InvocationReport next = run(sleep, "1");
    EXPECT_EQ(next.status, InvocationStatus::ok);
    EXPECT_FALSE(next.init_ms.has_value()) << "a function error must not cost the environment";
    EXPECT_EQ(pool_->worker_count(), 1u);
}

TEST_P(PoolTest, DeadlineKillsTheWorkerAndTheNextInvocationGetsAFreshOne) {
    const auto sleep = make_version("sleep", function_library("sleep"), /*timeout_s=*/1);
    const auto started = std::chrono::steady_clock::now();
    const InvocationReport late = run(sleep, "5000");
    const auto waited = std::chrono::steady_clock::now() - started;

    EXPECT_EQ(late.status, InvocationStatus::timeout);
    EXPECT_EQ(late.error_type, "Sandbox.Timedout");
    EXPECT_EQ(late.error_message, "Task timed out after 1.00 seconds");
    EXPECT_GE(late.duration_ms, 1000.0) << "measured from the event's hand-off to the kill";
    EXPECT_LT(late.duration_ms, 1500.0);
    EXPECT_GT(late.max_memory_used_mb, 0u) << "measured before the kill";
    EXPECT_LT(waited, 4s) << "the deadline must not wait for the function";

    const InvocationReport next = run(sleep, "10");
    EXPECT_EQ(next.status, InvocationStatus::ok);
    EXPECT_TRUE(next.init_ms.has_value()) << "a timed-out worker must not be reused";
    EXPECT_TRUE(eventually([&] { return child_processes().size() == 1; }));
}

TEST_P(PoolTest, DeadlineStopsAFunctionThatNeverYields) {
    const auto spin = make_version("spin", fixture_library("spin"), /*timeout_s=*/1);
    const InvocationReport late = run(spin);
    EXPECT_EQ(late.status, InvocationStatus::timeout);
    EXPECT_EQ(late.error_type, "Sandbox.Timedout");
    EXPECT_TRUE(eventually([&] { return pool_->worker_count() == 0 && child_processes().empty(); }));
}

TEST_P(PoolTest, DeadlineKillsWhatTheFunctionForked) {
    const auto forker = make_version("fork_and_spin", fixture_library("fork_and_spin"), /*timeout_s=*/1);
    const InvocationReport late = run(forker);
    ASSERT_EQ(late.status, InvocationStatus::timeout);
    const pid_t child = static_cast<pid_t>(std::stol(late.captured_stdout));
    ASSERT_GT(child, 0) << late.captured_stdout;
    // Orphaned, the child belongs to init now, which may be slow to reap it: a zombie is dead.
    auto running = [child] {
        std::ifstream stat("/proc/" + std::to_string(child) + "/stat");
        std::string text((std::istreambuf_iterator<char>(stat)), {});
        auto close = text.rfind(')');
        return close != std::string::npos && close + 2 < text.size() && text[close + 2] != 'Z';
    };
    EXPECT_TRUE(eventually([&] { return !running(); }))
        << "child " << child << " outlived its worker";
}

TEST_P(PoolTest, CrashNamesTheSignalAndThePoolCarriesOn) {
    const InvocationReport crashed = run(make_version("crash", function_library("crash")));
    EXPECT_EQ(crashed.status, InvocationStatus::crash);
    EXPECT_EQ(crashed.error_type, "Runtime.ExitError");
    EXPECT_NE(crashed.error_message.find("SIGSEGV"), std::string::npos) << crashed.error_message;

    const InvocationReport next = run(make_version("hello", function_library("hello")));
    EXPECT_EQ(next.status, InvocationStatus::ok);
    EXPECT_TRUE(eventually([&] { return pool_->worker_count() == 1 && child_processes().size() == 1; }));
}

TEST_P(PoolTest, ExitStatusIsReported) {
    const InvocationReport exited = run(make_version("exit3", fixture_library("exit3")));
    EXPECT_EQ(exited.status, InvocationStatus::crash);
    EXPECT_EQ(exited.error_message, "Runtime exited with error: exit status 3");
}

TEST_P(PoolTest, MemoryHogRunsOutOfMemory) {
#if defined(__SANITIZE_ADDRESS__)
    GTEST_SKIP() << "ASan's operator new does not call the new_handler, so the hog runs into its deadline";
#endif
    const InvocationReport hog = run(make_version("hog", function_library("hog"), 10, /*memory_mb=*/64));
    EXPECT_EQ(hog.status, InvocationStatus::oom);
    EXPECT_EQ(hog.error_type, "Runtime.OutOfMemory");
    EXPECT_EQ(hog.error_message, "Runtime exited with error: out of memory (memory_mb 64)");
}

TEST_P(PoolTest, ConcurrentInvocationsRunInSeparateWorkers) {
    const auto sleep = make_version("sleep", function_library("sleep"));
    constexpr int invocations = 8;
    // execute() does not block, so all eight are issued before any can finish.
    std::vector<std::future<InvocationReport>> answers;
    const auto started = std::chrono::steady_clock::now();
    for (int i = 0; i < invocations; ++i) {
        answers.push_back(start(sleep, "200"));
    }
    for (auto& answer : answers) {
        EXPECT_EQ(wait(answer).status, InvocationStatus::ok);
    }
    const auto elapsed = std::chrono::steady_clock::now() - started;
    EXPECT_LT(elapsed, invocations * 200ms * 3 / 4) << "the invocations ran one after another";
    EXPECT_EQ(pool_->worker_count(), static_cast<size_t>(invocations));
    EXPECT_EQ(pool_->stats("sleep", 1).idle, static_cast<size_t>(invocations));
}

TEST_P(PoolTest, RetireKillsIdleWorkers) {
    const auto hello = make_version("hello", function_library("hello"));
    ASSERT_EQ(run(hello).status, InvocationStatus::ok);
    ASSERT_EQ(pool_->stats("hello", 1).idle, 1u);

    pool_->retire("hello", 1);
    EXPECT_EQ(pool_->stats("hello", 1).idle, 0u);
    EXPECT_TRUE(eventually([&] { return pool_->worker_count() == 0; }));
    EXPECT_TRUE(child_processes().empty()) << "retired workers must be reaped, not left as zombies";

    const InvocationReport again = run(hello);
    EXPECT_EQ(again.status, InvocationStatus::ok) << "an explicit invocation of a retired version still runs";
    EXPECT_TRUE(again.init_ms.has_value());
}

TEST_P(PoolTest, RetireAllKillsEveryVersion) {
    auto second = std::make_shared<FunctionVersion>(*make_version("hello", function_library("hello")));
    second->spec.version = 2;
    ASSERT_EQ(run(make_version("hello", function_library("hello"))).status, InvocationStatus::ok);
    ASSERT_EQ(run(second).status, InvocationStatus::ok);
    ASSERT_EQ(pool_->worker_count(), 2u);

    pool_->retire_all("hello");
    EXPECT_TRUE(eventually([&] { return pool_->worker_count() == 0 && child_processes().empty(); }));
}

TEST_P(PoolTest, TrialLoadAcceptsAFunctionAndNamesWhatIsWrongWithOthers) {
    EXPECT_EQ(trial_load(make_version("hello", function_library("hello"))), std::nullopt);

    const auto expect_rejected = [&](const std::filesystem::path& library, const std::string& error_type) {
        const auto error = trial_load(make_version("bad", library));
        ASSERT_TRUE(error.has_value()) << library;
        EXPECT_EQ(error->rfind(error_type + ": ", 0), 0u) << *error;
    };
    expect_rejected(fixture_library("no_handler"), "Runtime.HandlerNotFound");
    expect_rejected(fixture_library("wrong_abi"), "Runtime.InvalidAbi");
    expect_rejected(fixture_library("init_fails"), "Runtime.InitError");

    testing::TempDir dir("pool-test");
    std::ofstream(dir / "text.so") << "this is not an ELF file\n";
    expect_rejected(dir / "text.so", "Runtime.InvalidLibrary");

    EXPECT_TRUE(eventually([&] { return pool_->worker_count() == 0 && child_processes().empty(); }));
}

TEST_P(PoolTest, InitFailureFailsTheInvocation) {
    const InvocationReport failed = run(make_version("init_fails", fixture_library("init_fails")));
    EXPECT_EQ(failed.status, InvocationStatus::crash);
    EXPECT_EQ(failed.error_type, "Runtime.InitError");
    ASSERT_TRUE(failed.init_ms.has_value()) << "the init ran, and is billed";
    EXPECT_GT(*failed.init_ms, 0.0);
}

TEST_P(PoolTest, CapturesWhatEachInvocationWrites) {
    const auto logger = make_version("logger", function_library("logger"));
    const InvocationReport first = run(logger, "abc");
    EXPECT_EQ(first.status, InvocationStatus::ok);
    EXPECT_NE(first.captured_stdout.find("stdout line from printf (event 3 bytes)"), std::string::npos)
        << first.captured_stdout;
    EXPECT_NE(first.captured_stderr.find("stderr line from fprintf"), std::string::npos) << first.captured_stderr;

    const InvocationReport second = run(logger, "abcdef");
    EXPECT_EQ(second.captured_stdout.find("event 3 bytes"), std::string::npos)
        << "the first invocation's output must not be reported again";
    EXPECT_NE(second.captured_stdout.find("event 6 bytes"), std::string::npos) << second.captured_stdout;
}

TEST_P(PoolTest, WorkerHoldsOnlyItsDescriptorsAndEnvironment) {
    auto version = std::make_shared<FunctionVersion>(*make_version("hello", function_library("hello")));
    version->spec.env = {{"GREETING", "hi"}};
    ASSERT_EQ(run(version).status, InvocationStatus::ok);
    const auto children = child_processes();
    ASSERT_EQ(children.size(), 1u);
    const std::filesystem::path proc = "/proc/" + std::to_string(children.front());

    std::set<std::string> descriptors;
    for (const auto& entry : std::filesystem::directory_iterator(proc / "fd")) {
        descriptors.insert(entry.path().filename());
    }
    EXPECT_EQ(descriptors, (std::set<std::string>{"0", "1", "2", "3"}));
    EXPECT_EQ(std::filesystem::read_symlink(proc / "fd/0"), "/dev/null");
    EXPECT_EQ(std::filesystem::read_symlink(proc / "fd/1").string().rfind("/memfd:", 0), 0u);
    EXPECT_EQ(std::filesystem::read_symlink(proc / "fd/3").string().rfind("socket:", 0), 0u);

    std::ifstream environ(proc / "environ");
    std::set<std::string> variables;
    for (std::string variable; std::getline(environ, variable, '\0');) variables.insert(variable);
    EXPECT_EQ(variables, (std::set<std::string>{"GREETING=hi", "PATH=/usr/local/bin:/usr/bin:/bin", "LANG=C.UTF-8",
                                                "SOFAAS_FUNCTION_NAME=hello", "SOFAAS_FUNCTION_VERSION=1",
                                                "SOFAAS_FUNCTION_MEMORY_MB=128"}));
}

TEST_P(PoolTest, KeepWarmStartsMinWarmWorkersAhead) {
    auto version = std::make_shared<FunctionVersion>(*make_version("hello", function_library("hello")));
    version->spec.min_warm = 2;
    pool_->keep_warm(version);
    EXPECT_TRUE(eventually([&] { return pool_->stats("hello", 1).idle == 2; }));

    const InvocationReport first = run(version);
    EXPECT_EQ(first.status, InvocationStatus::ok);
    EXPECT_FALSE(first.init_ms.has_value()) << "min_warm workers have paid the cold start already";
    EXPECT_EQ(pool_->worker_count(), 2u);
}

// min_warm counts the environments that exist, busy ones too: under load the pool does
// not start spares beside them (the reaper tops up once a second).
TEST_P(PoolTest, MinWarmCountsBusyEnvironments) {
    auto version = std::make_shared<FunctionVersion>(*make_version("sleep", function_library("sleep")));
    version->spec.min_warm = 2;
    pool_->keep_warm(version);
    ASSERT_TRUE(eventually([&] { return pool_->stats("sleep", 1).idle == 2; }));
    auto first = start(version, "2500");
    auto second = start(version, "2500");
    std::this_thread::sleep_for(std::chrono::milliseconds(1800));  // past a reaper tick
    EXPECT_EQ(pool_->stats("sleep", 1).busy, 2u);
    EXPECT_EQ(pool_->worker_count(), 2u) << "spares were started beside the busy environments";
    EXPECT_EQ(wait(first).status, InvocationStatus::ok);
    EXPECT_EQ(wait(second).status, InvocationStatus::ok);
    EXPECT_EQ(pool_->stats("sleep", 1).idle, 2u);
}

TEST_P(PoolTest, ShutdownKillsAndReapsEveryWorker) {
    auto hello = std::make_shared<FunctionVersion>(*make_version("hello", function_library("hello")));
    hello->spec.min_warm = 3;
    pool_->keep_warm(hello);
    EXPECT_TRUE(eventually([&] { return pool_->stats("hello", 1).idle == 3; }));
    pool_->shutdown();
    EXPECT_TRUE(child_processes().empty());
    EXPECT_EQ(run(hello).status, InvocationStatus::host_fault) << "a shut-down pool runs nothing";
}

TEST_P(PoolTest, IdleWorkerThatDiesIsReplaced) {
    const auto hello = make_version("hello", function_library("hello"));
    ASSERT_EQ(run(hello).status, InvocationStatus::ok);
    const auto children = child_processes();
    ASSERT_EQ(children.size(), 1u);
    ::kill(children.front(), SIGKILL);
    EXPECT_TRUE(eventually([&] { return pool_->worker_count() == 0 && child_processes().empty(); }))
        << "the death of an idle worker must be noticed and reaped";

    const InvocationReport next = run(hello);
    EXPECT_EQ(next.status, InvocationStatus::ok);
    EXPECT_TRUE(next.init_ms.has_value());
}

TEST_P(PoolTest, DescriptorsAreClosedWhenWorkersDie) {
    const auto before = open_descriptors();
    run(make_version("hello", function_library("hello")));
    run(make_version("crash", function_library("crash")));
    run(make_version("spin", fixture_library("spin"), /*timeout_s=*/1));
    trial_load(make_version("no_handler", fixture_library("no_handler")));
    EXPECT_GT(open_descriptors().size(), before.size());
    pool_->retire_all("hello");
    // Every descriptor open at the end was open before. Not the reverse: a runtime thread
    // (a sanitizer's, for one) may have held a file open for a moment when `before` was taken.
    const auto leaked = [&] {
        std::set<std::string> leaked;
        std::ranges::set_difference(open_descriptors(), before, std::inserter(leaked, leaked.end()));
        return leaked;
    };
    EXPECT_TRUE(eventually([&] { return pool_->worker_count() == 0 && leaked().empty(); }))
        << "open now, and not before:\n" << describe(leaked()) << "open before:\n" << describe(before);
}

// A function that breaks the protocol (bytes that are no frame on the worker's socket) is
// rejected and blamed for it; a worker binary that cannot even serve as a zygote (a
// script, a missing file) is the host's fault. Either way no child is left behind.
TEST_P(PoolTest, WorkerThatBreaksTheProtocolIsRejected) {
    testing::TempDir dir("pool-test");
    const auto rejected_by = [&](const std::filesystem::path& binary, const FunctionVersionPtr& version) {
        PoolOptions options;
        options.worker_binary = binary;
        options.zygote = GetParam();  // a zygote that breaks the protocol is not used either
        Pool pool(io_, options);
        return trial_load(pool, version).value_or("accepted");
    };
    const auto hello = make_version("hello", function_library("hello"));
    EXPECT_EQ(rejected_by(worker_binary(), make_version("garbage", fixture_library("garbage_frame")))
                  .rfind("Runtime.ExitError: Runtime sent a malformed frame", 0),
              0u);
    const std::string host_fault = "ServiceException: The host could not start a worker: ";
    EXPECT_EQ(rejected_by(write_script(dir, "garbage", "printf 'this is not a frame' >&3; exec sleep 10"), hello)
                  .rfind(host_fault, 0),
              0u);
    EXPECT_EQ(rejected_by(write_script(dir, "exits", "exit 5"), hello).rfind(host_fault, 0), 0u);
    EXPECT_EQ(rejected_by(dir / "missing", hello).rfind(host_fault, 0), 0u);
    EXPECT_TRUE(eventually([&] { return child_processes().empty(); }));
}

class PoolIdleTest : public PoolTest {
protected:
    static PoolOptions short_idle_timeout() {
        PoolOptions options;
        options.idle_timeout = 1s;
        options.init_timeout = 500ms;
        return options;
    }
    PoolIdleTest() : PoolTest(short_idle_timeout()) {}
};

TEST_P(PoolIdleTest, IdleWorkersAreReapedAfterTheIdleTimeout) {
    ASSERT_EQ(run(make_version("hello", function_library("hello"))).status, InvocationStatus::ok);
    EXPECT_EQ(pool_->worker_count(), 1u);
    EXPECT_TRUE(eventually([&] { return pool_->worker_count() == 0 && child_processes().empty(); }));
}

TEST_P(PoolIdleTest, InitThatHangsTimesOut) {
    const auto hangs = make_version("init_hangs", fixture_library("init_hangs"));
    const auto error = trial_load(hangs);
    ASSERT_TRUE(error.has_value());
    EXPECT_EQ(error->rfind("Runtime.InitTimeout: ", 0), 0u) << *error;

    const InvocationReport execution = run(hangs);
    EXPECT_EQ(execution.status, InvocationStatus::timeout);
    EXPECT_EQ(execution.error_type, "Runtime.InitTimeout");
    EXPECT_TRUE(eventually([&] { return child_processes().empty(); }));
}

std::string launcher_name(const ::testing::TestParamInfo<bool>& info) {
    return info.param ? "Zygote" : "ZygotePerWorker";
}
INSTANTIATE_TEST_SUITE_P(Launchers, PoolTest, ::testing::Bool(), launcher_name);
INSTANTIATE_TEST_SUITE_P(Launchers, PoolIdleTest, ::testing::Bool(), launcher_name);

// A worker user that does not exist is the host's configuration at fault, not the
// library: the trial load and the invocation both say ServiceException, and an invocation's
// caller learns nothing about the host (that goes to the daemon log).
TEST(PoolHostFaults, ASandboxThatCannotBeSetUpIsNotBlamedOnTheLibrary) {
    asio::io_context io;
    auto work = asio::make_work_guard(io);
    std::thread thread([&io] { io.run(); });
    [&] {  // the ASSERTs return from here, so the thread is always joined
        PoolOptions options;
        options.worker_binary = worker_binary();
        options.worker_user = "sofaas-no-such-user";
        Pool pool(io, options);
        const auto hello = make_version("hello", function_library("hello"));

        auto loaded = std::make_shared<std::promise<std::optional<TrialLoadFailure>>>();
        pool.trial_load(hello, [loaded](std::optional<TrialLoadFailure> failure) { loaded->set_value(failure); });
        auto load = loaded->get_future();
        ASSERT_EQ(load.wait_for(answer_limit), std::future_status::ready);
        const auto failure = load.get();
        ASSERT_TRUE(failure.has_value());
        EXPECT_TRUE(failure->host_fault) << failure->error_type;
        EXPECT_EQ(failure->error_type, "ServiceException");
        EXPECT_NE(failure->error_message.find("sofaas-no-such-user"), std::string::npos) << failure->error_message;

        auto executed = std::make_shared<std::promise<InvocationReport>>();
        pool.execute(hello, "req-host-fault", "", {}, [executed](InvocationReport execution) {
            executed->set_value(std::move(execution));
        });
        auto execution_future = executed->get_future();
        ASSERT_EQ(execution_future.wait_for(answer_limit), std::future_status::ready);
        const InvocationReport execution = execution_future.get();
        EXPECT_EQ(execution.status, InvocationStatus::host_fault);
        EXPECT_EQ(execution.error_type, "ServiceException");
        EXPECT_EQ(execution.error_message, "The host could not start the function's sandbox; see the daemon log.");
    }();
    work.reset();
    thread.join();
}

TEST(PoolContexts, APoolWithoutAnIoContextIsRefused) {
    PoolOptions options;
    options.worker_binary = worker_binary();
    EXPECT_THROW(Pool(std::vector<asio::io_context*>{}, options), std::invalid_argument);
}

// With one io_context per io thread (the daemon's), an invocation runs in an environment
// of the calling thread's context when one is idle, and a cold start happens there; only
// when none is idle there does it take one from another thread.
TEST(PoolContexts, AnInvocationStaysOnTheCallersIoThread) {
    asio::io_context first_io(1), second_io(1);
    auto first_work = asio::make_work_guard(first_io);
    auto second_work = asio::make_work_guard(second_io);
    std::thread first_thread([&] { first_io.run(); });
    std::thread second_thread([&] { second_io.run(); });
    const auto first_id = first_thread.get_id();
    const auto second_id = second_thread.get_id();
    [&] {  // the ASSERTs return from here, so the threads are always joined
        PoolOptions options;
        options.worker_binary = worker_binary();
        Pool pool(std::vector<asio::io_context*>{&first_io, &second_io}, options);
        auto hello = std::make_shared<FunctionVersion>(*make_version("hello", function_library("hello")));

        struct Answer {
            InvocationReport execution;
            std::thread::id answered_on;
        };
        // Calls the pool from `from`'s thread; returns the answer and the thread it came on.
        const auto call_from = [&](asio::io_context& from) {
            auto answer = std::make_shared<std::promise<Answer>>();
            asio::post(from, [&pool, hello, answer] {
                pool.execute(hello, "req", "", {}, [answer](InvocationReport execution) {
                    answer->set_value(Answer{std::move(execution), std::this_thread::get_id()});
                });
            });
            auto future = answer->get_future();
            if (future.wait_for(answer_limit) != std::future_status::ready) {
                ADD_FAILURE() << "no answer";
                return Answer{};
            }
            return future.get();
        };

        const Answer cold = call_from(second_io);
        ASSERT_EQ(cold.execution.status, InvocationStatus::ok);
        EXPECT_TRUE(cold.execution.init_ms.has_value());
        EXPECT_EQ(cold.answered_on, second_id) << "the cold start did not happen on the caller's thread";

        const Answer borrowed = call_from(first_io);
        EXPECT_FALSE(borrowed.execution.init_ms.has_value()) << "an idle environment elsewhere beats a cold start";
        EXPECT_EQ(borrowed.answered_on, second_id);

        hello->spec.min_warm = 2;  // one more, on the first context (spread in turn)
        pool.keep_warm(hello);
        ASSERT_TRUE(eventually([&] { return pool.stats("hello", 1).idle == 2; }));
        for (int i = 0; i < 3; ++i) {
            const Answer local = call_from(first_io);
            EXPECT_FALSE(local.execution.init_ms.has_value());
            EXPECT_EQ(local.answered_on, first_id) << "call " << i << " left the caller's thread";
            const Answer other = call_from(second_io);
            EXPECT_EQ(other.answered_on, second_id) << "call " << i << " left the caller's thread";
        }
        EXPECT_EQ(pool.worker_count(), 2u);
    }();
    first_work.reset();
    second_work.reset();
    first_thread.join();
    second_thread.join();
}

// Kills nothing: uids 1000 and up may be real users of the machine running the tests.
std::optional<std::string> kill_nothing(uid_t) {
    return std::nullopt;
}

// What WorkerUids::acquire() handed out, or 0 when it said why it could not.
uid_t acquired(WorkerUids& uids) {
    const auto uid = uids.acquire();
    return std::holds_alternative<uid_t>(uid) ? std::get<uid_t>(uid) : 0;
}

// Each live worker a uid no other live worker has; one given back is taken again only
// after the rest of the range.
TEST(WorkerUidsTest, DistinctRoundRobinAndBoundedByTheRange) {
    testing::TempDir locks("uid-locks");
    WorkerUids uids(UidRange{1000, 1003}, locks.path(), kill_nothing);
    std::set<uid_t> taken;
    for (int i = 0; i < 4; ++i) {
        const uid_t uid = acquired(uids);
        EXPECT_GE(uid, 1000u);
        EXPECT_LE(uid, 1003u);
        taken.insert(uid);
    }
    EXPECT_EQ(taken.size(), 4u);
    EXPECT_EQ(acquired(uids), 0u) << "every uid is in use";

    uids.release(1001);
    EXPECT_EQ(acquired(uids), 1001u);  // the only free one
    uids.release(1000);
    uids.release(1002);
    EXPECT_EQ(acquired(uids), 1002u) << "1000 was given back first, but the turn is past it";
    EXPECT_EQ(acquired(uids), 1000u);
    EXPECT_EQ(acquired(uids), 0u);
}

TEST(WorkerUidsTest, ARangeOfOneAndTheTopOfTheIdSpace) {
    testing::TempDir locks("uid-locks");
    WorkerUids one(UidRange{4294967294u, 4294967294u}, locks.path(), kill_nothing);
    EXPECT_EQ(acquired(one), 4294967294u);
    EXPECT_EQ(acquired(one), 0u);
    one.release(4294967294u);
    EXPECT_EQ(acquired(one), 4294967294u);
}

// Two daemons on one host share the lock directory: a uid one holds, the other skips,
// until it is given back.
TEST(WorkerUidsTest, AUidHeldByAnotherDaemonIsSkipped) {
    testing::TempDir locks("uid-locks");
    WorkerUids first(UidRange{1000, 1002}, locks.path(), kill_nothing);
    WorkerUids second(UidRange{1000, 1002}, locks.path(), kill_nothing);
    EXPECT_EQ(acquired(first), 1000u);
    EXPECT_EQ(acquired(second), 1001u);
    EXPECT_EQ(acquired(first), 1002u);
    const auto none = second.acquire();
    ASSERT_TRUE(std::holds_alternative<std::string>(none));
    EXPECT_NE(std::get<std::string>(none).find("another sofaasd"), std::string::npos) << std::get<std::string>(none);

    first.release(1000);
    EXPECT_EQ(acquired(second), 1000u);
}

// The kernel drops a dead daemon's locks: its uids are free again, whatever it left.
TEST(WorkerUidsTest, ADeadDaemonsUidsAreFreeAgain) {
    testing::TempDir locks("uid-locks");
    int held[2];
    ASSERT_EQ(::pipe(held), 0);
    const pid_t holder = ::fork();
    if (holder == 0) {
        WorkerUids dying(UidRange{1000, 1000}, locks.path(), kill_nothing);
        const uid_t uid = acquired(dying);
        (void)!::write(held[1], &uid, sizeof uid);
        ::_exit(0);  // without releasing it
    }
    uid_t uid = 0;
    ASSERT_EQ(::read(held[0], &uid, sizeof uid), static_cast<ssize_t>(sizeof uid));
    ASSERT_EQ(uid, 1000u);
    ASSERT_EQ(::waitpid(holder, nullptr, 0), holder);
    ::close(held[0]);
    ::close(held[1]);
    EXPECT_TRUE(std::filesystem::exists(locks / "1000.lock"));

    WorkerUids next(UidRange{1000, 1000}, locks.path(), kill_nothing);
    EXPECT_EQ(acquired(next), 1000u);
    next.release(1000);
    EXPECT_FALSE(std::filesystem::exists(locks / "1000.lock")) << "a uid given back leaves no lock file";
}

// Before a uid is handed out, whatever runs as it is killed: once per uid, ahead of time
// when prepare() was called. A uid whose processes cannot be killed is not handed out.
TEST(WorkerUidsTest, WhatRunsAsAUidIsKilledBeforeItIsHandedOut) {
    testing::TempDir locks("uid-locks");
    std::vector<uid_t> cleared;
    bool refuse = false;
    WorkerUids uids(UidRange{1000, 1003}, locks.path(), [&](uid_t uid) -> std::optional<std::string> {
        if (refuse) return "no helper";
        cleared.push_back(uid);
        return std::nullopt;
    });
    EXPECT_EQ(acquired(uids), 1000u);
    EXPECT_EQ(cleared, std::vector<uid_t>{1000});
    uids.prepare();
    EXPECT_EQ(cleared, (std::vector<uid_t>{1000, 1001})) << "made ready ahead";
    uids.prepare();
    EXPECT_EQ(cleared.size(), 2u) << "one ready uid is enough";
    EXPECT_EQ(acquired(uids), 1001u);
    EXPECT_EQ(cleared.size(), 2u) << "the ready one is not cleared again";

    refuse = true;
    const auto refused = uids.acquire();
    ASSERT_TRUE(std::holds_alternative<std::string>(refused));
    EXPECT_EQ(std::get<std::string>(refused), "no helper");
    EXPECT_FALSE(std::filesystem::exists(locks / "1002.lock")) << "a uid not handed out is not kept";
}

// The real thing, with uids no one else uses: every process of the uid dies, and nothing
// else, even one that kills everything of its uid (the probe that runs as it, too) without
// pause.
TEST(UidLeftovers, KillsEveryProcessOfTheUidAndNoOther) {
    if (::geteuid() != 0) GTEST_SKIP() << "only root can run as another uid";
    const auto run_as = [](uid_t uid, bool killer = false) {
        const pid_t pid = ::fork();
        if (pid == 0) {
            if (::setresgid(uid, uid, uid) != 0 || ::setresuid(uid, uid, uid) != 0) ::_exit(1);
            for (;;) {
                if (!killer) ::pause();
                ::kill(-1, SIGKILL);
            }
        }
        return pid;
    };
    const uid_t leftover_uid = 1901100200;
    const pid_t leftovers[] = {run_as(leftover_uid), run_as(leftover_uid, true)};
    const pid_t bystander = run_as(leftover_uid + 1);
    ASSERT_TRUE(eventually([&] { return testing::process_uid(leftovers[1]) == leftover_uid; }));

    EXPECT_EQ(kill_processes_of(leftover_uid), std::nullopt);
    for (const pid_t pid : leftovers) {
        int status = 0;
        ASSERT_EQ(::waitpid(pid, &status, 0), pid);
        EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    }
    EXPECT_TRUE(testing::is_running(bystander));
    EXPECT_EQ(kill_processes_of(leftover_uid), std::nullopt) << "none left is no error";
    ::kill(bystander, SIGKILL);
    ::waitpid(bystander, nullptr, 0);
}

// Memory is reported as Lambda reports it: whole megabytes, rounded up, so a function is
// never shown below what it used.
TEST(WorkerExit, MemoryIsReportedInMegabytesRoundedUp) {
    EXPECT_EQ(kb_to_mb_rounded_up(0), 0u);
    EXPECT_EQ(kb_to_mb_rounded_up(1), 1u);
    EXPECT_EQ(kb_to_mb_rounded_up(1024), 1u);
    EXPECT_EQ(kb_to_mb_rounded_up(1025), 2u);
    EXPECT_EQ(kb_to_mb_rounded_up(1536), 2u);
}

TEST(WorkerExit, ACleanExitIsACrashAndTheAllocationExitIsOutOfMemory) {
    const ExitDiagnosis clean = diagnose_exit(WorkerExit{0, 4096}, 128);
    EXPECT_EQ(clean.status, InvocationStatus::crash);
    EXPECT_EQ(clean.error_type, "Runtime.ExitError");
    const ExitDiagnosis allocation = diagnose_exit(WorkerExit{87 << 8, 4096}, 128);
    EXPECT_EQ(allocation.status, InvocationStatus::oom);
    EXPECT_EQ(allocation.error_type, "Runtime.OutOfMemory");
}

}  // namespace
}  // namespace sofaas
