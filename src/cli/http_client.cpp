#include "cli/http_client.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <optional>

namespace sofaas {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

// Responses carry function output (6 MiB by default) and billing records: allow plenty.
constexpr uint64_t max_response_body = 256ull * 1024 * 1024;

bool iequals(std::string_view a, std::string_view b) {
    return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
        return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
    });
}

struct Endpoint {
    std::string host;
    std::string port;
};

Endpoint parse_endpoint(std::string_view endpoint) {
    auto bad = [&](std::string_view why) {
        return HttpClientError("invalid endpoint '" + std::string(endpoint) + "': " + std::string(why) +
                               " (expected http://HOST:PORT)");
    };
    constexpr std::string_view scheme = "http://";
    if (endpoint.substr(0, scheme.size()) != scheme) {
        throw bad(endpoint.find("://") == std::string_view::npos ? "missing http://" : "only http:// is supported");
    }
    std::string_view rest = endpoint.substr(scheme.size());
    while (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
    if (rest.find('/') != std::string_view::npos) throw bad("a path is not allowed");
    std::string_view host = rest;
    std::string_view port = "80";
    if (!rest.empty() && rest.front() == '[') {  // [::1]:8080
        auto close = rest.find(']');
        if (close == std::string_view::npos) throw bad("unterminated IPv6 address");
        host = rest.substr(1, close - 1);
        std::string_view after = rest.substr(close + 1);
        if (!after.empty()) {
            if (after.front() != ':') throw bad("junk after the address");
            port = after.substr(1);
        }
    } else if (auto colon = rest.rfind(':'); colon != std::string_view::npos) {
        host = rest.substr(0, colon);
        port = rest.substr(colon + 1);
    }
    if (host.empty()) throw bad("missing host");
    unsigned value = 0;
    auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (port.empty() || ec != std::errc() || end != port.data() + port.size() || value == 0 || value > 65535) {
        throw bad("port must be a number from 1 to 65535");
    }
    return {std::string(host), std::string(port)};
}

}  // namespace

std::string HttpResponse::header(std::string_view name) const {
    for (const auto& [key, value] : headers) {
        if (iequals(key, name)) return value;
    }
    return {};
}

// Sync calls cannot time out in Asio; each step runs asynchronously under the
// tcp_stream's expiry and the io_context is driven until it completes.
struct HttpClient::Connection {
    asio::io_context io;
    beast::tcp_stream stream{io};
    beast::flat_buffer buffer;
    bool open = false;

    template <typename Operation>
    beast::error_code run(Operation&& start) {
        beast::error_code result = asio::error::would_block;
        start([&result](beast::error_code ec, auto&&...) { result = ec; });
        io.restart();
        io.run();
        return result;
    }

    void close() {
        beast::error_code ignored;
        stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
        stream.close();
        buffer.clear();
        open = false;
    }

    // Closes the connection and says which step failed, with whom, and why.
    HttpClientError failure(std::string_view step, const std::string& host, const std::string& port,
                            const beast::error_code& ec) {
        close();
        const std::string why = ec == beast::error::timeout ? "timed out" : ec.message();
        return HttpClientError(std::string(step) + " " + host + ":" + port + ": " + why);
    }

    void connect(const std::string& host, const std::string& port, std::chrono::milliseconds timeout) {
        tcp::resolver resolver(io);
        beast::error_code ec;
        auto addresses = resolver.resolve(host, port, ec);
        if (ec) throw failure("resolve", host, port, ec);
        stream.expires_after(timeout);
        ec = run([&](auto handler) { stream.async_connect(addresses, handler); });
        if (ec) throw failure("connect to", host, port, ec);
        open = true;
    }
};

HttpClient::HttpClient(std::string endpoint, std::string token)
    : connection_(std::make_unique<Connection>()), endpoint_(std::move(endpoint)), token_(std::move(token)) {
    Endpoint parsed = parse_endpoint(endpoint_);
    host_ = std::move(parsed.host);
    port_ = std::move(parsed.port);
}

HttpClient::~HttpClient() = default;
HttpClient::HttpClient(HttpClient&&) noexcept = default;
HttpClient& HttpClient::operator=(HttpClient&&) noexcept = default;

namespace {

http::request<http::string_body> make_request(std::string_view method, std::string_view target, std::string_view body,
                                              const HttpHeaders& headers, const std::string& host,
                                              const std::string& token) {
    http::request<http::string_body> req;
    req.method_string(method);
    req.target(target);
    req.version(11);
    req.set(http::field::host, host);
    req.set(http::field::user_agent, "sofaas-cli");
    if (!token.empty()) req.set(http::field::authorization, "Bearer " + token);
    for (const auto& [name, value] : headers) req.insert(name, value);
    req.body() = std::string(body);
    req.prepare_payload();
    return req;
}

template <typename Message>
void copy_head(const Message& message, HttpResponse& result) {
    result.status = static_cast<int>(message.result_int());
    for (const auto& field : message) {
        result.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
    }
}

}  // namespace

HttpResponse HttpClient::stream(std::string_view method, std::string_view target,
                                const std::function<void(std::string_view)>& on_body) {
    const auto req = make_request(method, target, {}, {}, host_ + ":" + port_, token_);
    Connection& c = *connection_;
    auto fail = [&](std::string_view step, const beast::error_code& ec) { return c.failure(step, host_, port_, ec); };
    // A stream has a connection of its own: it ends with the connection.
    c.close();
    c.connect(host_, port_, timeout_);
    beast::error_code ec = c.run([&](auto handler) { http::async_write(c.stream, req, handler); });
    if (ec) throw fail("request to", ec);

    http::response_parser<http::buffer_body> parser;
    parser.body_limit(boost::none);
    ec = c.run([&](auto handler) { http::async_read_header(c.stream, c.buffer, parser, handler); });
    if (ec) throw fail("request to", ec);
    HttpResponse result;
    copy_head(parser.get(), result);
    const bool success = result.status >= 200 && result.status < 300;
    char piece[64 * 1024];
    while (!parser.is_done()) {
        parser.get().body().data = piece;
        parser.get().body().size = sizeof piece;
        c.stream.expires_after(timeout_);
        // read_some: back with whatever arrived, not once the piece is full.
        ec = c.run([&](auto handler) { http::async_read_some(c.stream, c.buffer, parser, handler); });
        if (ec == http::error::need_buffer) ec = {};
        if (ec) throw fail("stream from", ec);
        const std::string_view got(piece, sizeof piece - parser.get().body().size);
        if (success) {
            on_body(got);
        } else if (result.body.size() < max_response_body) {
            result.body.append(got);
        }
    }
    c.close();
    return result;
}

HttpResponse HttpClient::request(std::string_view method, std::string_view target, std::string_view body,
                                 const HttpHeaders& headers) {
    const auto req = make_request(method, target, body, headers, host_ + ":" + port_, token_);

    Connection& c = *connection_;
    auto fail = [&](std::string_view step, const beast::error_code& ec) { return c.failure(step, host_, port_, ec); };

    // A reused keep-alive connection may have been closed by the server while idle: that
    // shows as an error before any byte of the answer, and deserves one fresh attempt.
    for (int attempt = 0;; ++attempt) {
        bool reused = c.open;
        if (!c.open) c.connect(host_, port_, timeout_);
        c.stream.expires_after(timeout_);
        beast::error_code write_error = c.run([&](auto handler) { http::async_write(c.stream, req, handler); });
        // A server may answer before it has read the whole body (413 for a body over its
        // limit) and close: the write then fails, but its answer is still worth reading.
        http::response_parser<http::string_body> parser;
        parser.body_limit(max_response_body);
        beast::error_code ec = c.run([&](auto handler) { http::async_read(c.stream, c.buffer, parser, handler); });
        if (ec && write_error) ec = write_error;
        if (ec) {
            bool nothing_received = !parser.got_some();
            bool server_closed = ec == http::error::end_of_stream || ec == asio::error::connection_reset ||
                                 ec == asio::error::broken_pipe || ec == asio::error::eof;
            if (reused && attempt == 0 && nothing_received && server_closed) {
                c.close();
                continue;
            }
            throw fail("request to", ec);
        }
        auto response = parser.release();
        HttpResponse result;
        copy_head(response, result);
        result.body = std::move(response.body());
        if (!response.keep_alive()) c.close();
        return result;
    }
}

std::string url_encode(std::string_view text) {
    static constexpr char hex[] = "0123456789ABCDEF";
    std::string out;
    out.reserve(text.size());
    for (unsigned char ch : text) {
        if (std::isalnum(ch) || ch == '-' || ch == '_' || ch == '.' || ch == '~') {
            out += static_cast<char>(ch);
        } else {
            out += '%';
            out += hex[ch >> 4];
            out += hex[ch & 0xF];
        }
    }
    return out;
}

}  // namespace sofaas
