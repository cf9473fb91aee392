// InvocationReplay (gateway/invocation_replay.h): a retried Invoke waits for the first
// one or gets its answer replayed, within the window and the bounds; it never runs twice.
#include "gateway/invocation_replay.h"

#include <chrono>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <gtest/gtest.h>

#include "gateway/awaitable_calls.h"

namespace sofaas {
namespace {

using namespace std::chrono_literals;

class FakeClock {
public:
    std::chrono::steady_clock::time_point now() const { return now_; }
    void advance(std::chrono::steady_clock::duration by) { now_ += by; }
    InvocationReplay::Clock clock() {
        return [this] { return now(); };
    }

private:
    std::chrono::steady_clock::time_point now_{std::chrono::hours(1000)};
};

InvocationKey key(std::string id, std::string function = "hello", std::string caller = "SOFAKEY") {
    return {std::move(caller), std::move(function), std::move(id)};
}

HttpResponseParts answer(std::string body, int status = 200) {
    return HttpResponseParts{status, {{"X-Amz-Executed-Version", "3"}}, std::move(body)};
}

// What a retry gets, when it gets it.
struct Retry {
    std::optional<HttpResponseParts> answer;
    InvocationReplay::AnswerCallback callback() {
        return [this](HttpResponseParts given) {
            EXPECT_FALSE(answer) << "answered twice";
            answer = std::move(given);
        };
    }
};

InvocationReplay::AnswerCallback never_called() {
    return [](HttpResponseParts) { ADD_FAILURE() << "the first call gets no answer"; };
}

std::string error_type(const HttpResponseParts& response) {
    for (const auto& [name, value] : response.headers) {
        if (name == "x-amzn-ErrorType") return value;
    }
    return "";
}

TEST(InvocationReplay, TheFirstCallRunsAndARetryWaitsForItsAnswer) {
    FakeClock clock;
    InvocationReplay replay({}, clock.clock());
    auto first = replay.begin(key("a"), never_called());
    ASSERT_TRUE(first);
    Retry retry, another;
    EXPECT_FALSE(replay.begin(key("a"), retry.callback()));
    EXPECT_FALSE(replay.begin(key("a"), another.callback()));
    EXPECT_FALSE(retry.answer) << "answered before the first one finished";

    first->finish(answer("out"), 3s);
    ASSERT_TRUE(retry.answer);
    EXPECT_EQ(retry.answer->status, 200);
    EXPECT_EQ(retry.answer->body, "out");
    EXPECT_EQ(retry.answer->headers, answer("out").headers);
    ASSERT_TRUE(another.answer);
    EXPECT_EQ(another.answer->body, "out");
}

TEST(InvocationReplay, OtherIdsFunctionsAndCallersAreOtherInvocations) {
    FakeClock clock;
    InvocationReplay replay({}, clock.clock());
    auto first = replay.begin(key("a"), never_called());
    EXPECT_TRUE(replay.begin(key("b"), never_called()));
    EXPECT_TRUE(replay.begin(key("a", "other"), never_called()));
    EXPECT_TRUE(replay.begin(key("a", "hello", "admin"), never_called()));
    EXPECT_EQ(replay.remembered(), 1u) << "the unfinished claims above were released when dropped";
}

TEST(InvocationReplay, AFinishedAnswerIsReplayedWithinTheWindowAndForgottenAfter) {
    FakeClock clock;
    InvocationReplay replay({}, clock.clock());
    replay.begin(key("a"), never_called())->finish(answer("out"), 3s);

    // The window is the function's timeout, but at least a minute.
    clock.advance(59s);
    Retry late;
    EXPECT_FALSE(replay.begin(key("a"), late.callback()));
    ASSERT_TRUE(late.answer) << "a finished answer is given at once";
    EXPECT_EQ(late.answer->body, "out");

    clock.advance(1s);
    EXPECT_TRUE(replay.begin(key("a"), never_called())) << "past the window the id is new again";
}

TEST(InvocationReplay, ALongFunctionsAnswerIsKeptForItsTimeout) {
    FakeClock clock;
    InvocationReplay replay({}, clock.clock());
    replay.begin(key("a"), never_called())->finish(answer("out"), 300s);
    clock.advance(299s);
    Retry retry;
    EXPECT_FALSE(replay.begin(key("a"), retry.callback()));
    ASSERT_TRUE(retry.answer);
    clock.advance(1s);
    EXPECT_TRUE(replay.begin(key("a"), never_called()));
}

TEST(InvocationReplay, AReleasedKeyAnswersTheWaitersAndRunsAgainOnTheNextRetry) {
    FakeClock clock;
    InvocationReplay replay({}, clock.clock());
    auto first = replay.begin(key("a"), never_called());
    Retry retry;
    replay.begin(key("a"), retry.callback());
    first->release(answer("throttled", 429));
    ASSERT_TRUE(retry.answer);
    EXPECT_EQ(retry.answer->status, 429);
    EXPECT_TRUE(replay.begin(key("a"), never_called())) << "a throttled invocation did not run: its retry runs it";
}

TEST(InvocationReplay, AnAbandonedClaimAnswersItsWaitersWithAServiceException) {
    FakeClock clock;
    InvocationReplay replay({}, clock.clock());
    Retry retry;
    {
        auto first = replay.begin(key("a"), never_called());
        replay.begin(key("a"), retry.callback());
    }
    ASSERT_TRUE(retry.answer);
    EXPECT_EQ(retry.answer->status, 500);
    EXPECT_EQ(error_type(*retry.answer), "ServiceException");
    EXPECT_EQ(replay.remembered(), 0u);
}

TEST(InvocationReplay, ABigAnswerReachesTheWaitersButItsLaterRetriesGetA409) {
    FakeClock clock;
    InvocationReplay replay({}, clock.clock());
    const std::string big((1 << 20) + 1, 'x');
    auto first = replay.begin(key("a"), never_called());
    Retry waiting;
    replay.begin(key("a"), waiting.callback());
    first->finish(answer(big), 3s);
    ASSERT_TRUE(waiting.answer);
    EXPECT_EQ(waiting.answer->body.size(), big.size());

    Retry late;
    EXPECT_FALSE(replay.begin(key("a"), late.callback())) << "it ran: a retry must not run it again";
    ASSERT_TRUE(late.answer);
    EXPECT_EQ(late.answer->status, 409);
    EXPECT_EQ(error_type(*late.answer), "ResourceConflictException");
    EXPECT_NE(late.answer->body.find("this invocation already ran; its answer is no longer kept"), std::string::npos);

    // A body of exactly 1 MiB is kept.
    replay.begin(key("b"), never_called())->finish(answer(std::string(1 << 20, 'y')), 3s);
    Retry kept;
    replay.begin(key("b"), kept.callback());
    ASSERT_TRUE(kept.answer);
    EXPECT_EQ(kept.answer->status, 200);
}

TEST(InvocationReplay, PastTheCountTheIdDueFirstIsForgotten) {
    FakeClock clock;
    InvocationReplay::Bounds bounds;
    bounds.max_remembered = 3;
    InvocationReplay replay(bounds, clock.clock());
    for (const char* id : {"1", "2", "3", "4"}) {
        replay.begin(key(id), never_called())->finish(answer(id), 3s);
        clock.advance(1s);
    }
    EXPECT_EQ(replay.remembered(), 3u);
    EXPECT_TRUE(replay.begin(key("1"), never_called())) << "the oldest went";
    for (const char* id : {"2", "3", "4"}) {
        Retry retry;
        EXPECT_FALSE(replay.begin(key(id), retry.callback()));
        ASSERT_TRUE(retry.answer);
        EXPECT_EQ(retry.answer->body, id);
    }
}

TEST(InvocationReplay, RunningInvocationsAreNeverDroppedForTheCount) {
    FakeClock clock;
    InvocationReplay::Bounds bounds;
    bounds.max_remembered = 1;
    InvocationReplay replay(bounds, clock.clock());
    auto running = replay.begin(key("running"), never_called());
    replay.begin(key("1"), never_called())->finish(answer("1"), 3s);
    replay.begin(key("2"), never_called())->finish(answer("2"), 3s);
    Retry retry;
    EXPECT_FALSE(replay.begin(key("running"), retry.callback()));
    running->finish(answer("done"), 3s);
    ASSERT_TRUE(retry.answer);
    EXPECT_EQ(retry.answer->body, "done");
}

TEST(InvocationReplay, PastTheBytesTheBodiesDueFirstGoAndTheirRetriesGetA409) {
    FakeClock clock;
    InvocationReplay::Bounds bounds;
    bounds.max_kept_bytes = 10;
    InvocationReplay replay(bounds, clock.clock());
    replay.begin(key("1"), never_called())->finish(answer("123456"), 3s);
    clock.advance(1s);
    replay.begin(key("2"), never_called())->finish(answer("123456"), 3s);
    Retry first, second;
    replay.begin(key("1"), first.callback());
    replay.begin(key("2"), second.callback());
    ASSERT_TRUE(first.answer && second.answer);
    EXPECT_EQ(first.answer->status, 409);
    EXPECT_EQ(second.answer->status, 200);
}

TEST(InvocationReplay, InvocationIdsAreOneTo128PrintableCharacters) {
    EXPECT_TRUE(is_valid_invocation_id("9b2c3a4e-1f0d-4c1a-8f5e-2d3c4b5a6f70"));
    EXPECT_TRUE(is_valid_invocation_id(std::string(128, 'a')));
    EXPECT_FALSE(is_valid_invocation_id(""));
    EXPECT_FALSE(is_valid_invocation_id(std::string(129, 'a')));
    EXPECT_FALSE(is_valid_invocation_id("a\nb"));
    EXPECT_FALSE(is_valid_invocation_id("caf\xc3\xa9"));
}

// The retry's coroutine resumes on its own connection's thread, though the first call
// finishes on another.
TEST(InvocationReplay, AWaitingRetryResumesOnItsOwnExecutor) {
    InvocationReplay replay;
    boost::asio::io_context first_io, retry_io;
    std::optional<InvocationReplay::Claim> claim;
    std::thread::id retry_thread, resumed_on;
    std::optional<HttpResponseParts> got;

    boost::asio::co_spawn(
        first_io,
        [&]() -> boost::asio::awaitable<void> {
            JoinedInvocation joined = co_await async_join_invocation(replay, key("a"));
            EXPECT_TRUE(joined.claim);
            EXPECT_FALSE(joined.answer);
            if (joined.claim) claim.emplace(std::move(*joined.claim));
        },
        boost::asio::detached);
    first_io.run();
    ASSERT_TRUE(claim);

    boost::asio::co_spawn(
        retry_io,
        [&]() -> boost::asio::awaitable<void> {
            JoinedInvocation joined = co_await async_join_invocation(replay, key("a"));
            EXPECT_FALSE(joined.claim);
            got = std::move(joined.answer);
            resumed_on = std::this_thread::get_id();
        },
        boost::asio::detached);
    retry_io.poll();  // the retry starts, and waits
    EXPECT_FALSE(got);

    std::thread finisher([&] { claim->finish(answer("out"), 3s); });
    finisher.join();
    retry_thread = std::this_thread::get_id();
    retry_io.restart();
    retry_io.poll();
    ASSERT_TRUE(got);
    EXPECT_EQ(got->body, "out");
    EXPECT_EQ(resumed_on, retry_thread);
}

}  // namespace
}  // namespace sofaas
