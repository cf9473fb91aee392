// HTTP <-> event mapping for function endpoints: the Lambda function-URL / API Gateway
// HTTP API v2 payload, and the response a function's output becomes. Plain types only
// (a streamed body is an interface), so it can be unit-tested and fuzzed without a server.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include <boost/asio/awaitable.hpp>

namespace sofaas {

// What a JWT authorizer verified (gateway/jwt_authorizer.h), for requestContext.authorizer.jwt:
// every claim as a string, as API Gateway's HTTP API gives them, and the token's scopes.
struct JwtClaims {
    std::map<std::string, std::string> claims;
    std::vector<std::string> scopes;
};

// Views into the request being answered (it outlives make_http_event), so building the
// event copies nothing first.
struct HttpRequestParts {
    using Header = std::pair<std::string, std::string>;
    std::string_view method;
    std::string_view target;  // raw path + "?" + query, as received
    std::span<const Header> headers;
    std::string_view body;
    std::string_view source_ip;
    std::string route_key;  // "GET /items/{id}" or "$default"
    std::map<std::string, std::string> path_parameters;
    std::string_view request_id;
    std::string_view function;  // for requestContext.apiId / domainPrefix
    const JwtClaims* authorizer = nullptr;  // set for a function deployed with auth jwt
};

// The v2 event JSON. Bodies that are not text are base64-encoded (isBase64Encoded true).
std::string make_http_event(const HttpRequestParts& request);

// A response body sent as it is made (chunked): the server asks for the next piece until
// there is none. Implemented by handlers that stream (gateway/log_follow.h).
class StreamedBody {
public:
    virtual ~StreamedBody() = default;
    // The next bytes to send, nullopt at the end; resumes on the connection's executor.
    virtual boost::asio::awaitable<std::optional<std::string>> next() = 0;
    // The reader hung up: next() ends now, whatever it waits for. On the connection's
    // executor.
    virtual void abandon() = 0;
};

// Bytes held elsewhere and shared by every response that sends them (a site file kept in
// memory): [offset, offset + length) of `bytes`.
struct SharedBody {
    std::shared_ptr<const std::string> bytes;
    size_t offset = 0;
    size_t length = 0;
    std::string_view view() const { return std::string_view(*bytes).substr(offset, length); }
};

struct HttpResponseParts {
    int status = 200;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
    std::shared_ptr<StreamedBody> stream;  // set: sent after `body`, chunked, then the connection closes
    // With `stream`: exactly how many bytes it makes (a file, or a range of one). Then the
    // body is sent with Content-Length, not chunked, and the connection stays open for the
    // next request; `body` must be empty. A HEAD request gets the length and no stream.
    std::optional<uint64_t> stream_length;
    // Set instead of `body`: sent from where it is. A 100 KiB file copied into every
    // response costs an allocation, a copy and page faults per request.
    std::optional<SharedBody> shared_body;

    std::string_view body_bytes() const { return shared_body ? shared_body->view() : std::string_view(body); }
};

// A function's output that is no function-URL response: the invocation is then the
// function's error (Runtime.InvalidResponse).
struct InvalidResponse {
    std::string why;  // e.g. "statusCode must be an integer from 200 to 599"
};

// A function-URL response as the function chose it, less the headers that are the
// platform's (X-Sofaas-*): those are dropped, never sent.
struct FunctionResponse {
    HttpResponseParts response;
    std::vector<std::string> dropped_headers;  // their names, for the log
};

// A JSON object with "statusCode" sets status, headers, cookies and body (base64-decoded
// when isBase64Encoded); other JSON is a 200 application/json body; anything else is a
// 200 body as is. A statusCode outside 200..599, a header that is not HTTP
// (is_valid_header) or a body that is not valid base64 makes it an InvalidResponse.
std::variant<FunctionResponse, InvalidResponse> map_function_output(std::string output);

}  // namespace sofaas
