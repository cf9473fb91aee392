// A small blocking HTTP/1.1 client with one keep-alive connection: the CLI's transport,
// and the end-to-end tests' too.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sofaas {

using HttpHeaders = std::vector<std::pair<std::string, std::string>>;

struct HttpResponse {
    int status = 0;
    HttpHeaders headers;
    std::string body;
    // Case-insensitive; "" when absent.
    std::string header(std::string_view name) const;
};

class HttpClientError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

class HttpClient {
public:
    // endpoint: "http://HOST:PORT" (no TLS). token: sent as "Authorization: Bearer" if set.
    // Throws HttpClientError when the endpoint is not of that form.
    HttpClient(std::string endpoint, std::string token);
    ~HttpClient();
    HttpClient(HttpClient&&) noexcept;
    HttpClient& operator=(HttpClient&&) noexcept;

    // Throws HttpClientError when the server cannot be reached or the answer is not HTTP.
    HttpResponse request(std::string_view method, std::string_view target,
                         std::string_view body = {}, const HttpHeaders& headers = {});

    // A response whose body is read as it arrives (a followed log): `on_body` gets each
    // piece of a 2xx answer's body as it comes, until the server ends it; other answers are
    // returned whole, as request() would. The timeout bounds the wait for the head, then
    // each silence between pieces. Throws HttpClientError as request() does.
    HttpResponse stream(std::string_view method, std::string_view target,
                        const std::function<void(std::string_view)>& on_body);

    // Bound on one whole request (connect, send, wait, receive). The default outlasts the
    // longest invocation the daemon allows (300 s) plus a cold start.
    void set_timeout(std::chrono::milliseconds timeout) { timeout_ = timeout; }

    const std::string& endpoint() const { return endpoint_; }

private:
    struct Connection;
    std::unique_ptr<Connection> connection_;
    std::string endpoint_, host_, port_, token_;
    std::chrono::milliseconds timeout_{std::chrono::seconds(330)};
};

// Percent-encodes a query parameter value (RFC 3986 unreserved characters stay as they are).
std::string url_encode(std::string_view text);

}  // namespace sofaas
