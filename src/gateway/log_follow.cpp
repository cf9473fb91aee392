#include "gateway/log_follow.h"

#include <atomic>
#include <chrono>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <spdlog/spdlog.h>

#include "common/json_writer.h"

namespace sofaas {
namespace asio = boost::asio;

namespace {

// A blank line now and then while the log is quiet: a reader that went away is noticed by
// the failing write, and its slot freed, instead of being held until the next line.
constexpr auto follow_heartbeat = std::chrono::seconds(10);

// The platform's own line in the stream: the same shape as a stored one.
std::string stream_line(std::string_view request_id, std::string_view message) {
    LogLine line{format_rfc3339(wall_now()), std::string(request_id), 0, "platform", std::string(message)};
    return to_json(line) + "\n";
}

}  // namespace

std::shared_ptr<LogStream> LogFollowers::open(const asio::any_io_executor& executor, std::string function,
                                              std::string request_id) {
    std::lock_guard lock(mutex_);
    if (ended_ || streams_.size() >= max_followers_) return nullptr;
    auto stream = std::make_shared<LogStream>(*this, executor, std::move(function), std::move(request_id));
    streams_.insert(stream.get());
    return stream;
}

void LogFollowers::end_all(std::string_view why) {
    std::lock_guard lock(mutex_);
    ended_ = true;
    for (LogStream* stream : streams_) stream->on_end(why);
}

size_t LogFollowers::open_count() const {
    std::lock_guard lock(mutex_);
    return streams_.size();
}

void LogFollowers::closed(LogStream* stream) {
    std::lock_guard lock(mutex_);
    streams_.erase(stream);
}

// Filled by the log writer's thread (and end_all's), emptied by the connection's.
struct LogStream::Shared {
    std::mutex mutex;
    std::string waiting;         // JSON lines not yet sent
    size_t dropped = 0;          // lines dropped since the last send: the reader was too slow
    std::optional<std::string> end;  // why no more lines come
    bool end_told = false;           // the line saying why was sent
    std::atomic<bool> wake_posted{false};
};

LogStream::LogStream(LogFollowers& registry, const asio::any_io_executor& executor, std::string function,
                     std::string request_id)
    : registry_(registry),
      executor_(executor),
      function_(std::move(function)),
      request_id_(std::move(request_id)),
      shared_(std::make_unique<Shared>()),
      timer_(executor) {}

LogStream::~LogStream() {
    registry_.closed(this);
    spdlog::debug("[{}] log stream of {} closed", request_id_, function_);
}

void LogStream::start_with(const std::vector<LogLine>& lines) {
    std::string text;
    for (const LogLine& line : lines) {
        text += to_json(line);
        text += '\n';
    }
    // The writer may have handed over newer lines already: these go before them. Not
    // bounded: a tail is at most max_log_tail_lines.
    std::lock_guard lock(shared_->mutex);
    shared_->waiting.insert(0, text);
}

void LogStream::on_lines(std::string_view jsonl, size_t count) {
    {
        std::lock_guard lock(shared_->mutex);
        if (shared_->end) return;
        if (shared_->waiting.size() + jsonl.size() > max_waiting_bytes) {
            shared_->dropped += count;
        } else {
            shared_->waiting += jsonl;
        }
    }
    wake();
}

void LogStream::on_end(std::string_view why) {
    {
        std::lock_guard lock(shared_->mutex);
        if (shared_->end) return;
        shared_->end = std::string(why);
    }
    wake();
}

// From any thread: the connection's coroutine, if it sleeps, wakes on its own executor.
void LogStream::wake() {
    if (shared_->wake_posted.exchange(true)) return;
    asio::post(executor_, [weak = weak_from_this()] {
        auto self = weak.lock();
        if (!self) return;
        self->shared_->wake_posted = false;
        self->timer_.cancel();
    });
}

void LogStream::abandon() {
    {
        std::lock_guard lock(shared_->mutex);
        shared_->end = std::string("the reader hung up");
        shared_->end_told = true;  // to nobody
        shared_->waiting.clear();
    }
    timer_.cancel();
}

asio::awaitable<std::optional<std::string>> LogStream::next() {
    for (;;) {
        std::string chunk;
        bool finished = false;
        {
            std::lock_guard lock(shared_->mutex);
            if (shared_->dropped > 0) {
                chunk = stream_line(request_id_, std::to_string(shared_->dropped) +
                                                     " log lines dropped here: the reader was too slow");
                shared_->dropped = 0;
            }
            chunk += std::exchange(shared_->waiting, std::string());
            if (chunk.empty() && shared_->end) {
                // One last line says why; the call after it ends the body.
                finished = shared_->end_told;
                if (!finished) chunk = stream_line(request_id_, "Log stream ended: " + *shared_->end);
                shared_->end_told = true;
            }
        }
        if (finished) co_return std::nullopt;
        if (!chunk.empty()) co_return chunk;
        // Sleeps until wake() cancels the timer, or the heartbeat is due. wake() runs on this
        // executor too, so it cannot slip between the check above and the wait.
        timer_.expires_after(follow_heartbeat);
        auto [error] = co_await timer_.async_wait(asio::as_tuple(asio::use_awaitable));
        if (!error) co_return std::string("\n");
    }
}

}  // namespace sofaas
