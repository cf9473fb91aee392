// The scheduler over a real pool, ledger and log store: admission control (concurrency
// limit, FIFO queue, 429), and the record written before the caller hears back.
#include "scheduler/scheduler.h"

#include <chrono>
#include <filesystem>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <gtest/gtest.h>

#include "billing/ledger.h"
#include "gateway/responses.h"
#include "logs/function_logs.h"
#include "metrics/metrics.h"
#include "pool/pool.h"
#include "scheduler/invocation_record.h"
#include "support/daemon_process.h"
#include "support/eventually.h"
#include "support/temp_dir.h"

namespace sofaas {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using testing::eventually;
using testing::function_library;

constexpr auto scheduler_answer_limit = 60s;

FunctionVersionPtr sleep_function(uint32_t max_concurrency, uint32_t timeout_s = 3) {
    auto version = std::make_shared<FunctionVersion>();
    version->spec.name = "sleep";
    version->spec.version = 1;
    version->spec.timeout_s = timeout_s;
    version->spec.max_concurrency = max_concurrency;
    version->library = function_library("sleep");
    return version;
}

class SchedulerTest : public ::testing::Test {
protected:
    // Ledger and logs live in a temp directory; the queue holds `max_queue` invocations.
    void start(uint32_t max_queue) {
        config_.limits.max_queue = max_queue;
        PoolOptions options;
        options.worker_binary = std::filesystem::path(SOFAAS_BIN_DIR) / "sofaas-worker";
        pool_ = std::make_unique<Pool>(io_, options);
        scheduler_ = std::make_unique<Scheduler>(*pool_, ledger_, logs_, metrics_, config_);
        threads_.emplace_back([this] { io_.run(); });  // one thread per io_context, as the daemon runs it
    }
    ~SchedulerTest() override {
        scheduler_.reset();
        pool_.reset();
        work_.reset();
        io_.stop();
        for (auto& thread : threads_) thread.join();
    }

    // Starts an invocation; the future is its result.
    std::future<InvocationReport> invoke(const FunctionVersionPtr& version, std::string payload,
                                         std::function<void(const InvocationReport&)> on_done = {},
                                         std::shared_ptr<OutputReader> output_reader = nullptr) {
        auto answer = std::make_shared<std::promise<InvocationReport>>();
        auto future = answer->get_future();
        InvocationRequest request{version, std::move(payload), Trigger::invoke, "req-" + std::to_string(++requests_),
                                  std::move(output_reader)};
        scheduler_->invoke(std::move(request), [answer, on_done](InvocationReport result) {
            if (on_done) on_done(result);
            answer->set_value(std::move(result));
        });
        return future;
    }

    static InvocationReport wait(std::future<InvocationReport>& future) {
        if (future.wait_for(scheduler_answer_limit) != std::future_status::ready) {
            ADD_FAILURE() << "the scheduler did not answer";
            return {};
        }
        return future.get();
    }

    std::vector<InvocationReport> records(const std::string& function) const {
        return ledger_.query(LedgerQuery{function, std::nullopt, std::nullopt});
    }

    testing::TempDir dir_{"scheduler-test"};
    Ledger ledger_{dir_ / "billing", LedgerOptions{0ms}};
    FunctionLogStore logs_{dir_ / "logs", ledger_};
    Metrics metrics_;
    Config config_;
    asio::io_context io_;
    asio::executor_work_guard<asio::io_context::executor_type> work_ = asio::make_work_guard(io_);
    std::unique_ptr<Pool> pool_;
    std::unique_ptr<Scheduler> scheduler_;
    std::vector<std::thread> threads_;
    int requests_ = 0;
};

TEST_F(SchedulerTest, RejectsWith429WhenQueueFull) {
    start(/*max_queue=*/0);
    const auto sleep = sleep_function(/*max_concurrency=*/1);
    auto running = invoke(sleep, "300");
    auto rejected = invoke(sleep, "10");

    const InvocationReport throttled = wait(rejected);
    EXPECT_EQ(throttled.status, InvocationStatus::throttled);
    EXPECT_EQ(throttled.request_id, "req-2");
    EXPECT_EQ(http_status(throttled.status), 429);
    EXPECT_EQ(throttled.error_type, "TooManyRequestsException");
    EXPECT_EQ(throttled.error_message, "Rate Exceeded.");
    EXPECT_EQ(throttled.billed_ms, 0u);

    const InvocationReport ran = wait(running);
    EXPECT_EQ(ran.status, InvocationStatus::ok);
    EXPECT_EQ(ran.output, "slept 300 ms");

    const auto billed = records("sleep");
    ASSERT_EQ(billed.size(), 1u) << "a throttled invocation is never billed";
    EXPECT_EQ(billed[0].request_id, "req-1");
    EXPECT_TRUE(eventually([&] { return scheduler_->in_flight() == 0; }));
}

// What the caller is answered is what /metrics counts: the run and its cold start, the
// throttle apart, and the bill the ledger holds.
TEST_F(SchedulerTest, CountsAnsweredInvocationsAndThrottlesInMetrics) {
    start(/*max_queue=*/0);
    const auto sleep = sleep_function(/*max_concurrency=*/1);
    auto running = invoke(sleep, "200");
    auto rejected = invoke(sleep, "10");
    EXPECT_EQ(wait(rejected).status, InvocationStatus::throttled);
    const InvocationReport ran = wait(running);
    ASSERT_EQ(ran.status, InvocationStatus::ok);

    Exposition out;
    metrics_.write(out);
    const std::string& text = out.text();
    EXPECT_NE(text.find("sofaas_invocations_total{function=\"sleep\",version=\"1\",trigger=\"invoke\",status=\"ok\"} 1\n"),
              std::string::npos)
        << text;
    EXPECT_EQ(text.find("status=\"throttled\""), std::string::npos) << "a throttle is no invocation";
    EXPECT_NE(text.find("sofaas_throttles_total{function=\"sleep\"} 1\n"), std::string::npos) << text;
    EXPECT_NE(text.find("sofaas_cold_starts_total{function=\"sleep\"} 1\n"), std::string::npos) << text;
    EXPECT_NE(text.find("sofaas_invocation_duration_seconds_count{function=\"sleep\"} 1\n"), std::string::npos) << text;
    EXPECT_NE(text.find("sofaas_init_duration_seconds_count{function=\"sleep\"} 1\n"), std::string::npos) << text;
    const std::string cost = "sofaas_cost_usd_total{function=\"sleep\"} " + format_sample_value(ran.cost_usd) + "\n";
    EXPECT_NE(text.find(cost), std::string::npos) << cost << " in " << text;
}

TEST_F(SchedulerTest, QueuedInvocationsRunInOrderWhenASlotFrees) {
    start(/*max_queue=*/10);
    const auto sleep = sleep_function(/*max_concurrency=*/1);
    std::mutex mutex;
    std::vector<std::string> finished;
    std::vector<std::future<InvocationReport>> answers;
    for (int i = 0; i < 4; ++i) {
        answers.push_back(invoke(sleep, "50", [&](const InvocationReport& result) {
            std::lock_guard lock(mutex);
            finished.push_back(result.request_id);
        }));
    }
    EXPECT_EQ(scheduler_->in_flight(), 4u);
    for (auto& answer : answers) {
        EXPECT_EQ(wait(answer).status, InvocationStatus::ok);
    }
    EXPECT_EQ(finished, (std::vector<std::string>{"req-1", "req-2", "req-3", "req-4"}));
    EXPECT_EQ(pool_->worker_count(), 1u) << "one slot means one execution environment";

    const auto billed = records("sleep");
    ASSERT_EQ(billed.size(), 4u);
    for (size_t i = 1; i < billed.size(); ++i) {
        EXPECT_GE(billed[i].start, billed[i - 1].start + std::chrono::milliseconds(50))
            << "an invocation started before the one ahead of it finished";
    }
    EXPECT_TRUE(eventually([&] { return scheduler_->in_flight() == 0; }));
}

TEST_F(SchedulerTest, RecordIsWrittenBeforeDoneRuns) {
    start(/*max_queue=*/10);
    bool billed_before_done = false;
    bool logged_before_done = false;
    auto answer = invoke(sleep_function(1), "5", [&](const InvocationReport& result) {
        for (const InvocationReport& record : records("sleep")) {
            billed_before_done = billed_before_done || record.request_id == result.request_id;
        }
        for (const LogLine& line : logs_.tail("sleep", {.count = 100})) {
            logged_before_done = logged_before_done || (line.request_id == result.request_id &&
                                                        line.message.rfind("REPORT", 0) == 0);
        }
    });
    const InvocationReport result = wait(answer);
    EXPECT_EQ(result.status, InvocationStatus::ok);
    EXPECT_TRUE(billed_before_done);
    EXPECT_TRUE(logged_before_done);

    const auto billed = records("sleep");
    ASSERT_EQ(billed.size(), 1u);
    EXPECT_EQ(billed[0].status, InvocationStatus::ok);
    EXPECT_TRUE(billed[0].init_ms.has_value()) << "the first invocation paid the cold start";
    EXPECT_EQ(billed[0].billed_ms, result.billed_ms);
    EXPECT_GE(result.billed_ms, 5u);
    EXPECT_GT(billed[0].cost_usd, 0.0);
    EXPECT_EQ(billed[0].memory_mb, 128u);
}

// Invocations that finish together share one ledger write: each caller still hears back
// only once its own record is in the ledger, and every record is there exactly once.
TEST_F(SchedulerTest, RecordsOfInvocationsThatFinishTogetherAreWrittenBeforeAnyAnswer) {
    start(/*max_queue=*/10);
    constexpr int invocations = 12;
    std::mutex mutex;
    int billed_before_done = 0;
    std::vector<std::future<InvocationReport>> answers;
    for (int i = 0; i < invocations; ++i) {
        answers.push_back(invoke(sleep_function(invocations), "20", [&](const InvocationReport& result) {
            bool billed = false;
            for (const InvocationReport& record : records("sleep")) billed = billed || record.request_id == result.request_id;
            std::lock_guard lock(mutex);
            billed_before_done += billed ? 1 : 0;
        }));
    }
    for (auto& answer : answers) EXPECT_EQ(wait(answer).status, InvocationStatus::ok);
    EXPECT_EQ(billed_before_done, invocations);
    const auto billed = records("sleep");
    EXPECT_EQ(billed.size(), static_cast<size_t>(invocations));
    std::set<std::string> request_ids;
    for (const InvocationReport& record : billed) request_ids.insert(record.request_id);
    EXPECT_EQ(request_ids.size(), static_cast<size_t>(invocations));
}

TEST_F(SchedulerTest, InvocationThatWaitsLongerThanTheTimeoutIsThrottled) {
    start(/*max_queue=*/10);
    const auto sleep = sleep_function(/*max_concurrency=*/1, /*timeout_s=*/1);
    auto first = invoke(sleep, "5000");   // holds the slot until its 1 s deadline
    auto second = invoke(sleep, "5000");  // then holds it for another second
    auto third = invoke(sleep, "10");     // cannot start within 1 s

    EXPECT_EQ(wait(third).status, InvocationStatus::throttled);
    EXPECT_EQ(wait(first).status, InvocationStatus::timeout);
    wait(second);
    for (const InvocationReport& record : records("sleep")) {
        EXPECT_NE(record.request_id, "req-3") << "a throttled invocation is never billed";
    }
}

TEST_F(SchedulerTest, FailuresAreBilledWithTheirStatus) {
    start(/*max_queue=*/10);
    auto crash = std::make_shared<FunctionVersion>();
    crash->spec.name = "crash";
    crash->spec.version = 1;
    crash->library = function_library("crash");
    auto answer = invoke(crash, "");
    const InvocationReport result = wait(answer);
    EXPECT_EQ(result.status, InvocationStatus::crash);
    EXPECT_EQ(http_status(result.status), 502);

    const auto billed = records("crash");
    ASSERT_EQ(billed.size(), 1u);
    EXPECT_EQ(billed[0].status, InvocationStatus::crash);
}

// Reads outputs as a trigger would, refusing those that are not `wanted`.
class ExpectingReader : public OutputReader {
public:
    explicit ExpectingReader(std::string wanted) : wanted_(std::move(wanted)) {}
    std::optional<std::string> read(std::string& output) override {
        ++reads;
        if (output == wanted_) return std::nullopt;
        return "expected \"" + wanted_ + "\", got \"" + output + "\"";
    }
    int reads = 0;

private:
    std::string wanted_;
};

// The outcome is decided before the record is written: an output its trigger cannot use is
// the function's error in the ledger too, not an `ok` answered as a failure.
TEST_F(SchedulerTest, AnOutputItsTriggerCannotUseIsRecordedAsTheFunctionsError) {
    start(/*max_queue=*/10);
    const auto sleep = sleep_function(/*max_concurrency=*/1);
    auto refusing = std::make_shared<ExpectingReader>("slept 1 ms");
    auto refused = invoke(sleep, "2", {}, refusing);
    const InvocationReport failed = wait(refused);
    EXPECT_EQ(failed.status, InvocationStatus::error);
    EXPECT_EQ(failed.error_type, "Runtime.InvalidResponse");
    EXPECT_EQ(failed.error_message, "expected \"slept 1 ms\", got \"slept 2 ms\"");
    EXPECT_EQ(http_status(failed.status), 502);
    EXPECT_EQ(refusing->reads, 1);

    auto accepting = std::make_shared<ExpectingReader>("slept 1 ms");
    auto accepted = invoke(sleep, "1", {}, accepting);
    EXPECT_EQ(wait(accepted).status, InvocationStatus::ok);
    EXPECT_EQ(accepting->reads, 1);

    auto not_asked = std::make_shared<ExpectingReader>("never");
    auto failing = invoke(sleep, "not a number", {}, not_asked);
    EXPECT_EQ(wait(failing).status, InvocationStatus::error);
    EXPECT_EQ(not_asked->reads, 0) << "only a successful output is read";

    const auto billed = records("sleep");
    ASSERT_EQ(billed.size(), 3u);
    EXPECT_EQ(billed[0].status, InvocationStatus::error);
    EXPECT_GT(billed[0].cost_usd, 0.0) << "the function's error is billed";
    EXPECT_EQ(billed[1].status, InvocationStatus::ok);
}

TEST_F(SchedulerTest, ActivateKeepsTheNewVersionWarmAndRetiresThePrevious) {
    start(/*max_queue=*/10);
    auto first = std::make_shared<FunctionVersion>(*sleep_function(10));
    first->spec.min_warm = 1;
    auto second = std::make_shared<FunctionVersion>(*first);
    second->spec.version = 2;

    scheduler_->activate(first, 0);
    EXPECT_TRUE(eventually([&] { return pool_->stats("sleep", 1).idle == 1; }));
    scheduler_->activate(second, 1);
    EXPECT_EQ(pool_->stats("sleep", 1).idle, 0u);
    EXPECT_TRUE(eventually([&] { return pool_->stats("sleep", 2).idle == 1 && pool_->worker_count() == 1; }));

    scheduler_->remove("sleep");
    EXPECT_TRUE(eventually([&] { return pool_->worker_count() == 0; }));
}

// Refusals cost nothing to make: a function's log gets a few lines of them a second, and
// the next line after a burst counts the ones left out.
TEST(RefusalLogBudget, AFunctionGetsItsLinesPerSecondAndTheNextSaysHowManyWereLeftOut) {
    int64_t now = 100;
    RefusalLogBudget budget(3, [&] { return now; });
    InvocationReport hello;
    hello.function = "hello";
    InvocationReport other;
    other.function = "other";
    for (int i = 0; i < 3; ++i) EXPECT_EQ(budget.admit(hello), std::optional<uint64_t>(0)) << i;
    for (int i = 0; i < 1000; ++i) EXPECT_EQ(budget.admit(hello), std::nullopt);
    EXPECT_EQ(budget.admit(other), std::optional<uint64_t>(0)) << "each function has its own budget";
    now = 101;
    EXPECT_EQ(budget.admit(hello), std::optional<uint64_t>(1000));
    EXPECT_EQ(budget.admit(hello), std::optional<uint64_t>(0));
    budget.forget("hello");
    now = 102;
    EXPECT_EQ(budget.admit(hello), std::optional<uint64_t>(0));
}

}  // namespace
}  // namespace sofaas
