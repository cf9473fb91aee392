#include "worker/frame_channel.h"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace sofaas::worker {
namespace {
constexpr size_t chunk_size = 64 * 1024;
}

FrameChannel::ReadStatus FrameChannel::read(protocol::FrameHeader& header,
                                            std::string_view& body) {
    // A big event's buffer is given back once consumed: it counts against the memory limit.
    if (buffered() == 0 && buffer_.size() > chunk_size) std::vector<char>().swap(buffer_);

    switch (fill(protocol::header_size)) {
    case Fill::ok: break;
    case Fill::end_of_stream: return buffered() == 0 ? ReadStatus::closed : ReadStatus::broken;
    case Fill::error: return ReadStatus::broken;
    }
    header = protocol::read_header(buffer_.data() + begin_);
    if (header.body_size > protocol::max_body_size) return ReadStatus::broken;
    if (fill(protocol::header_size + header.body_size) != Fill::ok) return ReadStatus::broken;

    body = std::string_view(buffer_.data() + begin_ + protocol::header_size, header.body_size);
    begin_ += protocol::header_size + header.body_size;
    return ReadStatus::frame;
}

FrameChannel::Fill FrameChannel::fill(size_t wanted) {
    if (buffered() >= wanted) return Fill::ok;
    if (begin_ > 0) {
        std::memmove(buffer_.data(), buffer_.data() + begin_, buffered());
        end_ -= begin_;
        begin_ = 0;
    }
    if (buffer_.size() < wanted) buffer_.resize(std::max(wanted, chunk_size));
    while (end_ < wanted) {
        // Sleep in poll(), not in read(): a task blocked in a unix-socket read is woken by
        // every wake-up of the socket's wait queue, including the one the daemon causes each
        // time it reads our Result (freeing send space). poll() waits for input only, which
        // saves a context switch per invocation on both sides.
        pollfd readable{fd_, POLLIN, 0};
        if (::poll(&readable, 1, -1) < 0) {
            if (errno == EINTR) continue;
            return Fill::error;
        }
        const ssize_t got = ::read(fd_, buffer_.data() + end_, buffer_.size() - end_);
        if (got > 0) {
            end_ += static_cast<size_t>(got);
        } else if (got == 0) {
            return Fill::end_of_stream;
        } else if (errno != EINTR) {
            return Fill::error;
        }
    }
    return Fill::ok;
}

bool FrameChannel::write(std::string_view frame) {
    while (!frame.empty()) {
        // MSG_NOSIGNAL: a daemon that went away is an error to handle, not a SIGPIPE.
        const ssize_t sent = ::send(fd_, frame.data(), frame.size(), MSG_NOSIGNAL);
        if (sent < 0) {
            if (errno == EINTR) continue;
            return false;
        }
        frame.remove_prefix(static_cast<size_t>(sent));
    }
    return true;
}

}  // namespace sofaas::worker
