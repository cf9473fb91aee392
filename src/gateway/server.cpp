// One connection = one coroutine that reads top to bottom, after Beast's
// example/http/server/awaitable: set a deadline, read, handle, write, loop while keep-alive.
// The limits are enforced here, before a handler sees anything: the whole request must
// arrive within read_timeout_s (a slowloris client is cut off), headers within
// max_header_bytes (431) and the body within its limit (413, checked against
// Content-Length before a byte of the body is read).
#include "gateway/server.h"

#include <algorithm>
#include <array>
#include <chrono>
#include <iterator>
#include <optional>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "common/request_id.h"
#include "gateway/http_message.h"
#include "gateway/response_head.h"
#include "gateway/responses.h"
#include "gateway/site_serving.h"
#include "sites/site_archive.h"

namespace sofaas {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

using BeastRequest = http::request<http::string_body>;

IncomingRequest to_incoming(BeastRequest&& request, const std::string& source_ip, std::string request_id) {
    IncomingRequest incoming;
    incoming.method = std::string(request.method_string());
    incoming.target = std::string(request.target());
    for (const auto& field : request) incoming.headers.emplace_back(field.name_string(), field.value());
    incoming.body = std::move(request.body());
    incoming.source_ip = source_ip;
    incoming.request_id = std::move(request_id);
    return incoming;
}

std::string remote_ip(const tcp::socket& socket) {
    beast::error_code ec;
    const auto endpoint = socket.remote_endpoint(ec);
    return ec ? std::string("unknown") : endpoint.address().to_string();
}

// A request that a proxy in front could read otherwise than sofaasd does is refused (and the
// connection closed), never guessed at. Returns why, or nullopt when it has one reading.
//
// RFC 9112 6.1 and 6.3: where a body ends. Beast reads a Transfer-Encoding that does not end
// in "chunked" (xchunked, identity, "chunked, chunked") as no body at all, and what follows
// as the next request; a proxy may read it as the body (request smuggling). So any framing
// but one Content-Length of digits or, in HTTP/1.1, exactly "Transfer-Encoding: chunked" is
// refused. RFC 9112 3.2: a second Host, which one the request is for.
std::optional<std::string_view> ambiguous_request(const BeastRequest& header) {
    if (header.count(http::field::host) > 1) return "Host repeated";
    const auto encodings = header.equal_range(http::field::transfer_encoding);
    const auto lengths = header.equal_range(http::field::content_length);
    const bool has_encoding = encodings.first != encodings.second;
    const bool has_length = lengths.first != lengths.second;
    if (has_encoding) {
        if (has_length) return "Transfer-Encoding and Content-Length together";
        if (header.version() < 11) return "Transfer-Encoding in an HTTP/1.0 request";
        if (std::next(encodings.first) != encodings.second || !iequals(encodings.first->value(), "chunked")) {
            return "Transfer-Encoding other than chunked";
        }
    }
    if (has_length) {
        const std::string_view length = lengths.first->value();
        if (std::next(lengths.first) != lengths.second) return "Content-Length repeated";
        if (length.empty() || length.find_first_not_of("0123456789") != std::string_view::npos) {
            return "Content-Length is not one decimal number";
        }
    }
    return std::nullopt;
}

// The client went away or was too slow: nothing useful can be written back.
bool is_disconnect(const beast::error_code& ec) {
    return ec == http::error::end_of_stream || ec == asio::error::eof ||
           ec == asio::error::connection_reset || ec == beast::error::timeout ||
           ec == asio::error::operation_aborted || ec == http::error::partial_message;
}

// Bytes read but not yet parsed: a header block, a chunk's size line, trailers. The parser
// moves body bytes out as they come, and limits the header block; nothing limits a chunk
// extension or a trailer, which it keeps in the buffer until their line ends. So the buffer
// has a ceiling: a line longer than that is a 400, not a gigabyte of the daemon's memory.
constexpr size_t largest_read = 64 * 1024;  // Beast reads at most this much at once
size_t read_buffer_limit(const Limits& limits) { return limits.max_header_bytes + largest_read; }

class Connection {
public:
    Connection(tcp::socket socket, std::shared_ptr<Router> router)
        : stream_(std::move(socket)),
          buffer_(read_buffer_limit(router->limits())),
          router_(std::move(router)),
          source_ip_(remote_ip(stream_.socket())) {}

    asio::awaitable<void> run() {
        try {
            for (;;) {
                const bool keep_open = co_await serve_one_request();
                if (!keep_open) break;
            }
        } catch (const std::exception& error) {
            spdlog::error("connection from {} dropped: {}", source_ip_, error.what());
        }
        beast::error_code ignored;
        stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    }

private:
    // Returns whether the connection stays open for another request. (Every co_await
    // below is a statement of its own, its arguments named: GCC 12 mishandles temporaries
    // inside co_await expressions.)
    asio::awaitable<bool> serve_one_request() {
        const Limits& limits = router_->limits();
        http::request_parser<http::string_body> parser;
        parser.header_limit(static_cast<std::uint32_t>(std::min<size_t>(limits.max_header_bytes, UINT32_MAX)));
        // No limit while the headers are read: the one that applies depends on the target,
        // and a Content-Length over it is refused below, naming that limit.
        parser.body_limit(boost::none);
        stream_.expires_after(std::chrono::seconds(limits.read_timeout_s));

        auto [header_error, header_bytes] = co_await http::async_read_header(stream_, buffer_, parser, use_tuple);
        if (header_error) {
            std::optional<HttpResponseParts> refusal = refusal_for(header_error, "reading headers", limits.max_payload_bytes);
            if (refusal) co_await send_refusal(std::move(*refusal));
            co_return false;
        }

        const BeastRequest& header = parser.get();
        if (const std::optional<std::string_view> why = ambiguous_request(header)) {
            HttpResponseParts refusal = malformed_request(fmt::format("Malformed HTTP request: {}", *why));
            co_await send_refusal(std::move(refusal));
            co_return false;
        }
        const size_t body_limit = body_limit_for(header.method(), header.target(), router_->config());
        if (parser.content_length() && *parser.content_length() > body_limit) {
            HttpResponseParts refusal = payload_too_large(body_limit);
            co_await send_refusal(std::move(refusal));
            co_return false;
        }
        parser.body_limit(body_limit);
        // HTTP/1.0 clients do not know interim responses (RFC 9110, 10.1.1).
        if (header.version() >= 11 && iequals(header[http::field::expect], "100-continue")) {
            const auto authorization = header.find(http::field::authorization);
            std::optional<HttpResponseParts> refusal = router_->refusal_before_body(
                std::string_view(header.method_string()), std::string_view(header.target()),
                authorization == header.end() ? std::nullopt : std::optional<std::string_view>(authorization->value()));
            if (refusal) {
                co_await send_refusal(std::move(*refusal));
                co_return false;
            }
            response_head_.clear();
            append_continue_head(response_head_, header.version());
            const std::string_view no_body;
            const bool continued = co_await write_head_and_body(no_body);
            if (!continued) co_return false;
        }

        auto [body_error, body_bytes] = co_await http::async_read(stream_, buffer_, parser, use_tuple);
        if (body_error) {
            std::optional<HttpResponseParts> refusal = refusal_for(body_error, "reading the body", body_limit);
            if (refusal) co_await send_refusal(std::move(*refusal));
            co_return false;
        }

        const auto in_progress = router_->track_request();
        BeastRequest request = parser.release();
        const bool head = request.method() == http::verb::head;
        const unsigned version = request.version();  // 10 or 11: Beast's parser refuses others
        const bool keep_alive = request.keep_alive() && !router_->draining();
        std::string request_id = new_request_id();
        IncomingRequest incoming = to_incoming(std::move(request), source_ip_, request_id);

        // A handler may wait for an invocation far longer than any read deadline.
        stream_.expires_never();
        HttpResponseParts handled = co_await router_->handle(std::move(incoming));

        if (handled.stream && handled.stream_length && !head) {
            const bool sent = co_await send_sized_stream(handled, request_id, version, keep_alive);
            co_return sent && keep_alive;
        }
        if (handled.stream && !head) {
            const bool streamed = co_await send_streamed(handled, request_id, version);
            co_return streamed;
        }
        const ResponseFraming framing{
            .http_version = version, .keep_alive = keep_alive, .content_length = handled.stream_length};
        response_head_.clear();
        append_response_head(response_head_, handled, request_id, framing);
        const bool send_body = !head && has_body(handled.status);
        const std::string_view body = send_body ? handled.body_bytes() : std::string_view();
        stream_.expires_after(std::chrono::seconds(limits.read_timeout_s));
        const bool written = co_await write_head_and_body(body);
        co_return written && keep_alive;
    }

    // A body made as it is sent (a followed log): each piece a chunk, written before the
    // next is asked for, so what waits for a slow reader waits in the producer, which
    // bounds it. The connection closes after it: the stream ends only when its source does
    // or the client goes. Returns false (close) always.
    asio::awaitable<bool> send_streamed(const HttpResponseParts& response, const std::string& request_id,
                                        unsigned version) {
        const bool chunked = version >= 11;
        const ResponseFraming framing{.http_version = version, .keep_alive = false, .streamed = true};
        response_head_.clear();
        append_response_head(response_head_, response, request_id, framing);
        const auto write_timeout = std::chrono::seconds(router_->limits().read_timeout_s);
        // A reader that hangs up makes the socket readable (EOF): the stream ends then, and
        // frees its follower's slot, instead of at the next write that fails.
        stream_.socket().async_wait(tcp::socket::wait_read, [body = response.stream](const beast::error_code& ec) {
            if (ec != asio::error::operation_aborted) body->abandon();
        });
        std::string piece = response.body;
        for (;;) {
            // The head goes at once, with what there is: the client knows it is answered.
            if (!piece.empty() || !response_head_.empty()) {
                std::string framed;
                if (chunked && !piece.empty()) framed = fmt::format("{:x}\r\n", piece.size());
                framed += piece;
                if (chunked && !piece.empty()) framed += "\r\n";
                stream_.expires_after(write_timeout);
                const bool written = co_await write_head_and_body(framed);
                stream_.expires_never();
                if (!written) {
                    beast::error_code ignored;
                    stream_.socket().cancel(ignored);
                    co_return false;
                }
                response_head_.clear();
            }
            std::optional<std::string> next = co_await response.stream->next();
            if (!next) break;
            piece = std::move(*next);
        }
        beast::error_code ignored;
        stream_.socket().cancel(ignored);  // the wait for a hang-up
        const std::string_view last_chunk = chunked ? "0\r\n\r\n" : "";
        stream_.expires_after(write_timeout);
        co_await write_head_and_body(last_chunk);
        co_return false;
    }

    // A body of known length made in pieces (a file read from the disk): the head says its
    // Content-Length, each piece is written before the next is read, so a slow reader holds
    // one piece of memory, not the file. Returns false when the client is gone, or when the
    // source ended short of its length, which the client can only learn from a close.
    asio::awaitable<bool> send_sized_stream(const HttpResponseParts& response, const std::string& request_id,
                                            unsigned version, bool keep_alive) {
        const ResponseFraming framing{
            .http_version = version, .keep_alive = keep_alive, .content_length = response.stream_length};
        response_head_.clear();
        append_response_head(response_head_, response, request_id, framing);
        const auto write_timeout = std::chrono::seconds(router_->limits().read_timeout_s);
        uint64_t remaining = *response.stream_length;
        bool head_sent = false;
        while (remaining > 0) {
            std::optional<std::string> piece = co_await response.stream->next();
            if (!piece || piece->empty() || piece->size() > remaining) {
                spdlog::error("[{}] a streamed body ended {} bytes short of its length", request_id, remaining);
                co_return false;
            }
            remaining -= piece->size();
            stream_.expires_after(write_timeout);
            const bool written = co_await write_head_and_body(*piece);
            if (!written) co_return false;
            response_head_.clear();
            head_sent = true;
        }
        if (!head_sent) {
            stream_.expires_after(write_timeout);
            const std::string_view no_body;
            const bool written = co_await write_head_and_body(no_body);
            if (!written) co_return false;
        }
        co_return true;
    }

    // response_head_ and `body` in one gathered write (one sendmsg when the socket takes it
    // all): the body is not copied. False when the client is gone or too slow.
    asio::awaitable<bool> write_head_and_body(std::string_view body) {
        const std::array<asio::const_buffer, 2> buffers{asio::buffer(response_head_), asio::buffer(body)};
        auto [write_error, written] = co_await asio::async_write(stream_, buffers, use_tuple);
        co_return !write_error;
    }

    static size_t body_limit_for(http::verb method, std::string_view target, const Config& config) {
        const Limits& limits = config.limits;
        if (method == http::verb::put && target.starts_with("/v1/functions/")) {
            return std::max(max_library_bytes, limits.max_payload_bytes);
        }
        if (method == http::verb::put && target.starts_with("/v1/sites/")) {
            const uint64_t archive = max_archive_bytes(site_upload_limits(config.sites));
            return std::max<size_t>(archive, limits.max_payload_bytes);
        }
        // The Lambda API's CreateFunction and UpdateFunctionCode: the zip, base64 in JSON.
        const std::string_view path = target.substr(0, target.find('?'));
        const bool lambda_code = (method == http::verb::post && path == "/2015-03-31/functions") ||
                                 (method == http::verb::put && path.starts_with("/2015-03-31/functions/") &&
                                  path.ends_with("/code"));
        if (lambda_code) return std::max(max_library_bytes / 3 * 4 + 64 * 1024, limits.max_payload_bytes);
        return limits.max_payload_bytes;
    }

    // A request that cannot be read: what to tell the client, nullopt when it is gone.
    std::optional<HttpResponseParts> refusal_for(const beast::error_code& ec, std::string_view while_doing,
                                                 size_t body_limit) const {
        if (is_disconnect(ec)) {
            if (ec == beast::error::timeout) spdlog::info("connection from {} timed out {}", source_ip_, while_doing);
            return std::nullopt;
        }
        const Limits& limits = router_->limits();
        if (ec == http::error::header_limit) return header_too_large(limits.max_header_bytes);
        if (ec == http::error::body_limit) return payload_too_large(body_limit);
        if (ec == http::error::buffer_overflow) {
            return malformed_request(fmt::format(
                "Malformed HTTP request: a chunk size line or trailer is longer than {} bytes", read_buffer_limit(limits)));
        }
        return malformed_request("Malformed HTTP request: " + ec.message());
    }

    // Writes the refusal, then closes gracefully: closing a socket with unread input makes
    // the kernel answer with a reset, which can destroy the refusal before the client reads
    // it (a client still uploading would see EPIPE instead of 413). So stop writing, then
    // drop what it still sends (never parsed), bounded in bytes and in time.
    asio::awaitable<void> send_refusal(HttpResponseParts refusal) {
        const std::string request_id = new_request_id();
        spdlog::info("[{}] refused request from {}: {} {}", request_id, source_ip_, refusal.status, refusal.body);
        const ResponseFraming framing{.http_version = 11, .keep_alive = false};
        response_head_.clear();
        append_response_head(response_head_, refusal, request_id, framing);
        const std::string_view body = refusal.body;
        stream_.expires_after(std::chrono::seconds(router_->limits().read_timeout_s));
        const bool written = co_await write_head_and_body(body);
        if (!written) co_return;

        beast::error_code ignored;
        stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
        std::vector<char> sink(64 * 1024);
        for (size_t discarded = 0; discarded < max_library_bytes;) {
            const asio::mutable_buffer into = asio::buffer(sink);
            auto [read_error, bytes] = co_await stream_.async_read_some(into, use_tuple);
            if (read_error) break;
            discarded += bytes;
        }
    }

    beast::tcp_stream stream_;
    beast::flat_buffer buffer_;
    std::string response_head_;  // the response head being written, reused: no allocation per response
    std::shared_ptr<Router> router_;
    std::string source_ip_;
};

}  // namespace

asio::awaitable<void> accept_connections(std::vector<asio::io_context*> contexts, tcp::acceptor& acceptor,
                                         std::shared_ptr<Router> router) {
    for (size_t accepted = 0; acceptor.is_open(); ++accepted) {
        asio::io_context& io = *contexts[accepted % contexts.size()];
        auto [ec, socket] = co_await acceptor.async_accept(io, use_tuple);
        if (ec == asio::error::operation_aborted || !acceptor.is_open()) break;
        if (ec) {
            // Out of descriptors, usually: back off rather than spin on the error.
            spdlog::warn("accept failed: {}", ec.message());
            asio::steady_timer pause(io, std::chrono::milliseconds(100));
            co_await pause.async_wait(asio::use_awaitable);
            continue;
        }
        const auto executor = socket.get_executor();
        auto connection = std::make_shared<Connection>(tcp::socket(std::move(socket)), router);
        // The lambda (and so the Connection) lives as long as the coroutine.
        asio::co_spawn(executor, [connection]() { return connection->run(); }, asio::detached);
    }
}

}  // namespace sofaas
