// A small blocking HTTP/1.1 client with one keep-alive connection: the CLI's transport,
// and the end-to-end tests' too.
#pragma once

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
    HttpClient(std::string endpoint, std::string token);
    ~HttpClient();

    // Throws HttpClientError when the server cannot be reached or the answer is not HTTP.
    HttpResponse request(std::string_view method, std::string_view target,
                         std::string_view body = {}, const HttpHeaders& headers = {});

private:
    struct Connection;
    std::unique_ptr<Connection> connection_;
    std::string host_, port_, token_;
};

// Percent-encodes a query parameter value.
std::string url_encode(std::string_view text);

}  // namespace sofaas
