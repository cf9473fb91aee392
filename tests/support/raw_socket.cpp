#include "support/raw_socket.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <stdexcept>
#include <strings.h>
#include <system_error>

namespace sofaas::testing {

namespace {

int port_of(const std::string& endpoint) {
    auto colon = endpoint.rfind(':');
    if (colon == std::string::npos) throw std::invalid_argument("no port in endpoint " + endpoint);
    return std::stoi(endpoint.substr(colon + 1));
}

std::string lowercase(std::string_view text) {
    std::string out(text);
    for (char& c : out) c = static_cast<char>(::tolower(static_cast<unsigned char>(c)));
    return out;
}

// Parses the head of one answer at the start of `buffer`; nullopt until it is complete.
// `head_size` receives the bytes up to and including the blank line.
std::optional<RawResponse> parse_head(const std::string& buffer, size_t& head_size) {
    auto end = buffer.find("\r\n\r\n");
    if (end == std::string::npos) return std::nullopt;
    head_size = end + 4;
    RawResponse response;
    auto line_end = buffer.find("\r\n");
    std::string status_line = buffer.substr(0, line_end);
    auto space = status_line.find(' ');
    if (space == std::string::npos) throw std::runtime_error("bad status line: " + status_line);
    response.status = std::stoi(status_line.substr(space + 1, 3));
    size_t pos = line_end + 2;
    while (pos < end) {
        auto next = buffer.find("\r\n", pos);
        std::string line = buffer.substr(pos, next - pos);
        auto colon = line.find(':');
        if (colon != std::string::npos) {
            auto value_start = line.find_first_not_of(' ', colon + 1);
            response.headers.emplace_back(line.substr(0, colon),
                                          value_start == std::string::npos ? "" : line.substr(value_start));
        }
        pos = next + 2;
    }
    return response;
}

}  // namespace

std::string RawResponse::header(std::string_view name) const {
    for (const auto& [key, value] : headers)
        if (lowercase(key) == lowercase(name)) return value;
    return "";
}

RawConnection::RawConnection(const std::string& endpoint) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) throw std::system_error(errno, std::generic_category(), "socket");
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<uint16_t>(port_of(endpoint)));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
        int error = errno;
        ::close(fd_);
        throw std::system_error(error, std::generic_category(), "connect " + endpoint);
    }
}

RawConnection::~RawConnection() {
    if (fd_ >= 0) ::close(fd_);
}

RawConnection::RawConnection(RawConnection&& other) noexcept
    : fd_(other.fd_), buffer_(std::move(other.buffer_)) {
    other.fd_ = -1;
}

bool RawConnection::send(std::string_view bytes) {
    while (!bytes.empty()) {
        ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        bytes.remove_prefix(static_cast<size_t>(n));
    }
    return true;
}

void RawConnection::shutdown_write() { ::shutdown(fd_, SHUT_WR); }

bool RawConnection::receive_more(std::chrono::steady_clock::time_point deadline) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd ready{fd_, POLLIN, 0};
    int polled = ::poll(&ready, 1, static_cast<int>(left.count()));
    if (polled <= 0) return false;
    char chunk[16384];
    ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
    if (n <= 0) return false;
    buffer_.append(chunk, static_cast<size_t>(n));
    return true;
}

std::optional<RawResponse> RawConnection::read_response(std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    size_t head_size = 0;
    std::optional<RawResponse> response;
    while (!(response = parse_head(buffer_, head_size))) {
        if (!receive_more(deadline)) return std::nullopt;
    }
    auto length_text = response->header("Content-Length");
    size_t length = length_text.empty() ? 0 : std::stoul(length_text);
    while (buffer_.size() < head_size + length) {
        if (!receive_more(deadline)) return std::nullopt;
    }
    response->body = buffer_.substr(head_size, length);
    buffer_.erase(0, head_size + length);
    return response;
}

bool RawConnection::wait_closed(std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) return false;
        pollfd ready{fd_, POLLIN, 0};
        if (::poll(&ready, 1, static_cast<int>(left.count())) <= 0) return false;
        char chunk[16384];
        ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
        if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN)) return true;
    }
}

}  // namespace sofaas::testing
