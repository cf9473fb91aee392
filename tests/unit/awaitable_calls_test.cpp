// run_blocking (gateway/awaitable_calls.h): what a deploy does on the disk runs off the io
// thread, and the handler resumes on that thread with the result or the exception.
#include "gateway/awaitable_calls.h"

#include <stdexcept>
#include <string>
#include <thread>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>
#include <gtest/gtest.h>

namespace sofaas {
namespace {

namespace asio = boost::asio;

// Runs `body` as a coroutine on a fresh io_context, on this thread, until it finishes.
template <typename Body>
void run_coroutine(Body body) {
    asio::io_context io;
    auto keep_running = asio::make_work_guard(io);
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
            co_await body();
            keep_running.reset();
        },
        asio::detached);
    io.run();
}

TEST(RunBlocking, TheWorkRunsOffTheIoThreadAndTheCallerResumesOnIt) {
    asio::thread_pool disk_work(1);
    const std::thread::id io_thread = std::this_thread::get_id();
    std::thread::id work_thread, resumed_on;
    int result = 0;
    run_coroutine([&]() -> asio::awaitable<void> {
        co_await run_blocking(disk_work, [&] {
            work_thread = std::this_thread::get_id();
            result = 42;
        });
        resumed_on = std::this_thread::get_id();
    });
    EXPECT_NE(work_thread, io_thread);
    EXPECT_NE(work_thread, std::thread::id());
    EXPECT_EQ(resumed_on, io_thread);
    EXPECT_EQ(result, 42);
}

TEST(RunBlocking, WhatTheWorkThrowsReachesTheCaller) {
    asio::thread_pool disk_work(1);
    std::string caught;
    run_coroutine([&]() -> asio::awaitable<void> {
        try {
            co_await run_blocking(disk_work, [] { throw std::runtime_error("disk full"); });
        } catch (const std::runtime_error& error) {
            caught = error.what();
        }
    });
    EXPECT_EQ(caught, "disk full");
}

}  // namespace
}  // namespace sofaas
