// `GET /v1/functions/NAME/logs?follow=1`: a function's log as it is written, streamed to the
// caller (application/x-ndjson, chunked) by its connection's coroutine: no thread per
// follower. What waits for a slow reader is bounded (lines past it are dropped, and a line
// says how many); the stream ends when the function is deleted or the daemon stops.
#pragma once

#include <cstddef>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

#include "gateway/http_event.h"
#include "logs/function_logs.h"

namespace sofaas {

class LogStream;

// Every open follow stream, so that their number is bounded and a stopping daemon can end
// them (its shutdown waits for every open request).
class LogFollowers {
public:
    explicit LogFollowers(size_t max_followers) : max_followers_(max_followers) {}

    // A new stream that answers on `executor` (the connection's), or nullptr when
    // max_followers are open already.
    std::shared_ptr<LogStream> open(const boost::asio::any_io_executor& executor, std::string function,
                                    std::string request_id);
    // Ends every stream (the daemon is draining); none opens after.
    void end_all(std::string_view why);
    size_t open_count() const;

private:
    friend class LogStream;
    void closed(LogStream* stream);

    const size_t max_followers_;
    mutable std::mutex mutex_;
    std::set<LogStream*> streams_;
    bool ended_ = false;
};

// One follower: the lines the log writer hands over wait here for the connection to send
// them.
class LogStream : public LogFollower, public StreamedBody, public std::enable_shared_from_this<LogStream> {
public:
    // The most bytes waiting for a reader; past it, lines are dropped and counted.
    static constexpr size_t max_waiting_bytes = 1024 * 1024;

    LogStream(LogFollowers& registry, const boost::asio::any_io_executor& executor, std::string function,
              std::string request_id);
    ~LogStream() override;

    // The lines that were there when it opened (FunctionLogStore::follow), sent first.
    void start_with(const std::vector<LogLine>& lines);

    void on_lines(std::string_view jsonl, size_t count) override;
    void on_end(std::string_view why) override;
    boost::asio::awaitable<std::optional<std::string>> next() override;
    void abandon() override;

private:
    void wake();

    LogFollowers& registry_;
    boost::asio::any_io_executor executor_;
    const std::string function_;
    const std::string request_id_;
    struct Shared;
    std::unique_ptr<Shared> shared_;
    boost::asio::steady_timer timer_;  // next() sleeps on it; touched on executor_ only
};

}  // namespace sofaas
