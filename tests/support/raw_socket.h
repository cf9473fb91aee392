// A raw TCP connection to sofaasd for tests that must send what no HTTP client would:
// malformed request lines, trickled headers, lying Content-Lengths, pipelined requests.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "cli/http_client.h"

namespace sofaas::testing {

// One parsed answer: the status line's code, the headers, and a Content-Length body.
struct RawResponse {
    int status = 0;
    HttpHeaders headers;
    std::string body;
    std::string header(std::string_view name) const;  // case-insensitive; "" when absent
};

class RawConnection {
public:
    // Connects to "http://127.0.0.1:PORT" (a DaemonProcess endpoint); throws on failure.
    explicit RawConnection(const std::string& endpoint);
    ~RawConnection();
    RawConnection(RawConnection&& other) noexcept;
    RawConnection& operator=(RawConnection&&) = delete;
    RawConnection(const RawConnection&) = delete;

    // False when the server has closed or reset the connection.
    bool send(std::string_view bytes);
    void shutdown_write();

    // The next answer on this connection (answers to pipelined requests come one by one);
    // nullopt if the connection closes or `timeout` passes first.
    std::optional<RawResponse> read_response(std::chrono::milliseconds timeout = std::chrono::seconds(10));
    // True if the server closes (or resets) the connection within `timeout`; whatever it
    // sent first is discarded.
    bool wait_closed(std::chrono::milliseconds timeout);

private:
    // Appends what arrives within `timeout` to buffer_; false on close, error or timeout.
    bool receive_more(std::chrono::steady_clock::time_point deadline);

    int fd_ = -1;
    std::string buffer_;
};

}  // namespace sofaas::testing
