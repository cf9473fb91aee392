// One execution environment against a stand-in worker that this test drives frame by
// frame: the cases a real sofaas-worker never produces on its own, but function code
// sharing the worker's socket can.
#include "pool/execution_environment.h"

#include <spawn.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <chrono>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <gtest/gtest.h>

#include "pool/captured_output.h"
#include "pool/worker_spawn.h"
#include "worker/protocol.h"

extern char** environ;

namespace sofaas {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

constexpr auto answer_limit = 30s;

template <typename T>
std::optional<T> within_limit(std::future<T>& future) {
    if (future.wait_for(answer_limit) != std::future_status::ready) return std::nullopt;
    return future.get();
}

// An environment whose "worker" is a sleeping process in a group of its own, and whose
// protocol socket's other end belongs to the test.
class ExecutionEnvironmentTest : public ::testing::Test {
protected:
    ExecutionEnvironmentTest() {
        int pair[2];
        EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair), 0);
        worker_end_ = UniqueFd(pair[1]);

        posix_spawnattr_t attributes;
        posix_spawnattr_init(&attributes);
        posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETPGROUP);
        posix_spawnattr_setpgroup(&attributes, 0);
        char sleep_command[] = "sleep";
        char seconds[] = "120";
        char* arguments[] = {sleep_command, seconds, nullptr};
        pid_t pid = -1;
        EXPECT_EQ(posix_spawnp(&pid, "sleep", nullptr, &attributes, arguments, environ), 0);
        posix_spawnattr_destroy(&attributes);

        WorkerProcess process;
        process.pid = pid;
        process.pidfd = UniqueFd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
        process.socket = UniqueFd(pair[0]);
        process.stdout_capture = create_capture("test-stdout");
        process.stderr_capture = create_capture("test-stderr");

        auto version = std::make_shared<FunctionVersion>();
        version->spec.name = "stand-in";
        version->spec.version = 1;
        version->spec.timeout_s = 60;  // never the reason an invocation ends here
        const ExecutionEnvironment::Settings settings{std::chrono::milliseconds(60'000), 4096};
        environment_ = std::make_shared<ExecutionEnvironment>(
            io_, std::move(process), settings, version,
            [exited = exited_](const ExecutionEnvironment&) { exited->set_value(); });
        io_thread_ = std::thread([this] { io_.run(); });
    }

    ~ExecutionEnvironmentTest() override {
        environment_->kill();
        environment_.reset();
        work_.reset();
        io_thread_.join();
    }

    void send_frame(const std::string& frame) {
        ASSERT_EQ(::write(worker_end_.get(), frame.data(), frame.size()), static_cast<ssize_t>(frame.size()));
    }

    std::future<std::optional<InvocationReport>> invoke(const std::string& request_id, std::string event) {
        auto answer = std::make_shared<std::promise<std::optional<InvocationReport>>>();
        auto future = answer->get_future();
        environment_->invoke(request_id, std::make_shared<const EventToRun>(EventToRun{std::move(event), {}}),
                             [answer](std::optional<InvocationReport> execution) { answer->set_value(std::move(execution)); });
        return future;
    }

    bool started() {
        auto answer = std::make_shared<std::promise<bool>>();
        auto future = answer->get_future();
        environment_->start([answer](Startup startup) { answer->set_value(startup.ok); });
        std::string ready;
        protocol::encode(protocol::Ready{}, ready);
        send_frame(ready);
        return within_limit(future).value_or(false);
    }

    asio::io_context io_;
    asio::executor_work_guard<asio::io_context::executor_type> work_ = asio::make_work_guard(io_);
    UniqueFd worker_end_;
    std::shared_ptr<std::promise<void>> exited_ = std::make_shared<std::promise<void>>();
    ExecutionEnvironment::Ptr environment_;
    std::thread io_thread_;
};

TEST_F(ExecutionEnvironmentTest, AResultBeforeItsEventWasReadEndsTheEnvironment) {
    ASSERT_TRUE(started());

    // A 6 MiB event cannot fit in the socket's buffer: with the stand-in reading none of
    // it, the daemon's write of it stays in flight.
    auto first = invoke("req-1", std::string(6 * 1024 * 1024, 'x'));
    protocol::Result early;
    early.output = "answered before reading";
    std::string frame;
    protocol::encode(early, frame);
    send_frame(frame);
    const auto first_execution = within_limit(first);
    ASSERT_TRUE(first_execution.has_value()) << "no answer to the first invocation";
    ASSERT_TRUE(first_execution->has_value());
    EXPECT_EQ((*first_execution)->output, "answered before reading");

    // The next event must not be written beside the unfinished one: the environment is
    // dropped as a protocol violation, and nothing runs in it.
    auto second = invoke("req-2", "{}");
    const auto second_execution = within_limit(second);
    ASSERT_TRUE(second_execution.has_value()) << "no answer to the second invocation";
    EXPECT_FALSE(second_execution->has_value());
    auto exited = exited_->get_future();
    EXPECT_EQ(exited.wait_for(answer_limit), std::future_status::ready) << "the stand-in worker was not killed";
}

TEST_F(ExecutionEnvironmentTest, AResultThatNobodyAskedForEndsTheEnvironment) {
    ASSERT_TRUE(started());
    std::string frame;
    protocol::encode(protocol::Result{}, frame);
    send_frame(frame);
    auto exited = exited_->get_future();
    EXPECT_EQ(exited.wait_for(answer_limit), std::future_status::ready) << "the stand-in worker was not killed";
    auto after = invoke("req-1", "{}");
    const auto execution = within_limit(after);
    ASSERT_TRUE(execution.has_value()) << "no answer to an invocation of a dead environment";
    EXPECT_FALSE(execution->has_value());
}

}  // namespace
}  // namespace sofaas
