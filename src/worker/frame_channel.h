// The worker's end of the daemon socket (fd 3): whole protocol frames in and out.
#pragma once

#include <cstddef>
#include <string_view>
#include <vector>

#include "worker/protocol.h"

namespace sofaas::worker {

class FrameChannel {
public:
    explicit FrameChannel(int fd) : fd_(fd) {}

    enum class ReadStatus { frame, closed, broken };

    // Reads the next whole frame. `body` stays valid until the next call. `closed`: the
    // daemon closed the socket between frames; `broken`: a truncated or oversized frame
    // or a read error.
    ReadStatus read(protocol::FrameHeader& header, std::string_view& body);

    // Sends one encoded frame; false when the daemon is gone.
    bool write(std::string_view frame);

private:
    enum class Fill { ok, end_of_stream, error };
    Fill fill(size_t wanted);
    size_t buffered() const { return end_ - begin_; }

    int fd_;
    // Reads go straight into this buffer in large chunks, so an Invoke usually costs a
    // single read(2) for its header and body together.
    std::vector<char> buffer_;
    size_t begin_ = 0;
    size_t end_ = 0;
};

}  // namespace sofaas::worker
