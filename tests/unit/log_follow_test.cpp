// The gateway's side of `logs?follow=1`: how many streams, what waits for a slow reader,
// and how a stream ends.
#include <gtest/gtest.h>

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <nlohmann/json.hpp>

#include "gateway/log_follow.h"

using namespace sofaas;
namespace asio = boost::asio;

namespace {

// The pieces next() gives until it ends, or `limit` of them.
std::vector<std::string> pieces_of(asio::io_context& io, LogStream& stream, size_t limit) {
    std::vector<std::string> pieces;
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
            while (pieces.size() < limit) {
                std::optional<std::string> piece = co_await stream.next();
                if (!piece) break;
                pieces.push_back(std::move(*piece));
            }
        },
        asio::detached);
    io.run();
    io.restart();
    return pieces;
}

std::string line_text(const std::string& message) {
    return to_json(LogLine{"2026-12-06T12:00:00.000000Z", "req", 1, "stdout", message}) + "\n";
}

}  // namespace

TEST(LogFollowers, RefusesPastTheLimitAndFreesTheSlotOfAClosedStream) {
    asio::io_context io;
    LogFollowers followers(2);
    auto first = followers.open(io.get_executor(), "fn", "a");
    auto second = followers.open(io.get_executor(), "fn", "b");
    ASSERT_TRUE(first && second);
    EXPECT_EQ(followers.open(io.get_executor(), "fn", "c"), nullptr);
    EXPECT_EQ(followers.open_count(), 2u);
    first.reset();
    EXPECT_EQ(followers.open_count(), 1u);
    EXPECT_NE(followers.open(io.get_executor(), "fn", "d"), nullptr);
}

TEST(LogFollowers, EndingAllEndsEachStreamWithALineSayingWhy) {
    asio::io_context io;
    LogFollowers followers(4);
    auto stream = followers.open(io.get_executor(), "fn", "req-1");
    stream->on_lines(line_text("last words"), 1);
    followers.end_all("the daemon is stopping");
    const auto pieces = pieces_of(io, *stream, 10);
    ASSERT_EQ(pieces.size(), 2u);
    EXPECT_EQ(pieces[0], line_text("last words"));
    EXPECT_EQ(nlohmann::json::parse(pieces[1])["message"], "Log stream ended: the daemon is stopping");
    EXPECT_EQ(followers.open(io.get_executor(), "fn", "late"), nullptr);
}

// A reader that does not keep up loses lines, and is told how many, instead of the daemon
// keeping them all.
TEST(LogStream, DropsPastItsBoundWithAMarker) {
    asio::io_context io;
    LogFollowers followers(1);
    auto stream = followers.open(io.get_executor(), "fn", "req-1");
    const std::string line = line_text(std::string(1000, 'x'));
    const size_t fits = LogStream::max_waiting_bytes / line.size();
    for (size_t i = 0; i < fits + 25; ++i) stream->on_lines(line, 1);
    stream->on_end("the function was deleted");
    const auto pieces = pieces_of(io, *stream, 10);
    ASSERT_EQ(pieces.size(), 2u);
    const std::string& first = pieces[0];
    EXPECT_LE(first.size(), LogStream::max_waiting_bytes + 1000);
    const auto marker = nlohmann::json::parse(first.substr(0, first.find('\n')));
    EXPECT_EQ(marker["stream"], "platform");
    EXPECT_EQ(marker["message"], "25 log lines dropped here: the reader was too slow");
    EXPECT_EQ(std::count(first.begin(), first.end(), '\n'), static_cast<long>(fits + 1));
}

// Lines handed over while the stream sleeps wake it.
TEST(LogStream, WakesForNewLines) {
    asio::io_context io;
    LogFollowers followers(1);
    auto stream = followers.open(io.get_executor(), "fn", "req-1");
    std::vector<std::string> pieces;
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
            for (;;) {
                std::optional<std::string> piece = co_await stream->next();
                if (!piece) break;
                pieces.push_back(std::move(*piece));
            }
        },
        asio::detached);
    io.poll();  // now asleep
    EXPECT_TRUE(pieces.empty());
    stream->on_lines(line_text("hello"), 1);
    io.poll();
    ASSERT_EQ(pieces.size(), 1u);
    EXPECT_EQ(pieces[0], line_text("hello"));
    stream->on_end("done");
    io.run();
    EXPECT_EQ(pieces.size(), 2u);
}
