// The bytes the gateway writes before a body. They match what Beast's serializer wrote for
// the same response (status line, header order, Connection, Content-Length), except that a
// status Beast has no reason phrase for gets an empty reason instead of "<unknown-status>".
#include "gateway/response_head.h"

#include <memory>
#include <stdexcept>
#include <string>

#include <gtest/gtest.h>

#include "gateway/responses.h"

namespace sofaas {
namespace {

constexpr ResponseFraming http_1_1{.http_version = 11, .keep_alive = true};

std::string head_of(const HttpResponseParts& response, ResponseFraming framing = http_1_1) {
    std::string head;
    append_response_head(head, response, "req-1", framing);
    return head;
}

TEST(ResponseHead, OkWithTheFunctionsHeadersInTheirOrder) {
    const HttpResponseParts response{200, {{"Content-Type", "text/plain"}, {"x-custom", "a, b"}}, "hello"};
    EXPECT_EQ(head_of(response),
              "HTTP/1.1 200 OK\r\n"
              "Content-Type: text/plain\r\n"
              "x-custom: a, b\r\n"
              "Server: sofaasd\r\n"
              "X-Sofaas-Request-Id: req-1\r\n"
              "Content-Length: 5\r\n"
              "\r\n");
}

// A body shared with other responses (a site file kept in memory) is sent from where it is:
// the length is that of the part sent, as for a body of its own.
TEST(ResponseHead, ASharedBodysLengthIsThatOfItsPart) {
    HttpResponseParts response;
    response.shared_body = SharedBody{std::make_shared<const std::string>("0123456789"), 2, 5};
    EXPECT_EQ(response.body_bytes(), "23456");
    EXPECT_EQ(head_of(response),
              "HTTP/1.1 200 OK\r\n"
              "Server: sofaasd\r\n"
              "X-Sofaas-Request-Id: req-1\r\n"
              "Content-Length: 5\r\n"
              "\r\n");
}

// Beast's keep_alive(): a Connection header only where the version's default is not what
// the server means (HTTP/1.1 keeps a connection open, HTTP/1.0 closes it).
TEST(ResponseHead, ConnectionHeaderOnlyWhenTheVersionsDefaultIsNotMeant) {
    const HttpResponseParts response{200, {}, "hi"};
    EXPECT_EQ(head_of(response, {.http_version = 10, .keep_alive = true}),
              "HTTP/1.0 200 OK\r\nServer: sofaasd\r\nX-Sofaas-Request-Id: req-1\r\n"
              "Connection: keep-alive\r\nContent-Length: 2\r\n\r\n");
    EXPECT_EQ(head_of(response, {.http_version = 10, .keep_alive = false}),
              "HTTP/1.0 200 OK\r\nServer: sofaasd\r\nX-Sofaas-Request-Id: req-1\r\nContent-Length: 2\r\n\r\n");
    EXPECT_EQ(head_of(response, {.http_version = 11, .keep_alive = false}),
              "HTTP/1.1 200 OK\r\nServer: sofaasd\r\nX-Sofaas-Request-Id: req-1\r\n"
              "Connection: close\r\nContent-Length: 2\r\n\r\n");
    EXPECT_EQ(head_of(response, {.http_version = 11, .keep_alive = true}),
              "HTTP/1.1 200 OK\r\nServer: sofaasd\r\nX-Sofaas-Request-Id: req-1\r\nContent-Length: 2\r\n\r\n");
}

// The head of a HEAD response is the GET one: Content-Length is the length of the body the
// server does not send (gateway_test checks that none follows).
TEST(ResponseHead, ContentLengthIsTheBodysEvenWhenItIsNotSent) {
    const HttpResponseParts response{200, {}, std::string(1234, 'x')};
    EXPECT_TRUE(head_of(response).ends_with("\r\nContent-Length: 1234\r\n\r\n")) << head_of(response);
}

TEST(ResponseHead, ErrorResponseWithItsJsonBody) {
    const HttpResponseParts response = not_found("Function not found: nope");
    EXPECT_EQ(head_of(response),
              "HTTP/1.1 404 Not Found\r\n"
              "Content-Type: application/json\r\n"
              "Server: sofaasd\r\n"
              "X-Sofaas-Request-Id: req-1\r\n"
              "Content-Length: " + std::to_string(response.body.size()) + "\r\n"
              "\r\n");
}

// 204 and 304 never have a body (RFC 9110 15.3.5, 15.4.5): no Content-Length either, even
// when the function returned a body (the server does not send it).
TEST(ResponseHead, NoContentAndNotModifiedDeclareNoBody) {
    EXPECT_EQ(head_of({204, {}, "ignored"}),
              "HTTP/1.1 204 No Content\r\nServer: sofaasd\r\nX-Sofaas-Request-Id: req-1\r\n\r\n");
    EXPECT_EQ(head_of({304, {{"ETag", "\"v1\""}}, "ignored"}),
              "HTTP/1.1 304 Not Modified\r\nETag: \"v1\"\r\nServer: sofaasd\r\nX-Sofaas-Request-Id: req-1\r\n\r\n");
    EXPECT_FALSE(has_body(204));
    EXPECT_FALSE(has_body(304));
    EXPECT_TRUE(has_body(200));
    EXPECT_TRUE(head_of({205, {}, ""}).ends_with("Content-Length: 0\r\n\r\n"));
}

TEST(ResponseHead, OddStatusesKeepBeastsReasonOrHaveNone) {
    EXPECT_TRUE(head_of({599, {}, ""}).starts_with("HTTP/1.1 599 Network Connect Timeout Error\r\n"));
    EXPECT_TRUE(head_of({499, {}, ""}).starts_with("HTTP/1.1 499 Client Closed Request\r\n"));
    EXPECT_TRUE(head_of({418, {}, ""}).starts_with("HTTP/1.1 418 \r\nServer: sofaasd\r\n"));
    EXPECT_TRUE(head_of({299, {}, ""}).starts_with("HTTP/1.1 299 \r\n"));
    EXPECT_THROW(head_of({99, {}, ""}), std::invalid_argument);
    EXPECT_THROW(head_of({1000, {}, ""}), std::invalid_argument);
}

TEST(ResponseHead, FunctionCannotFrameTheMessageOrForgeTheServersHeaders) {
    const HttpResponseParts response{200,
                                     {{"Content-Length", "999"},
                                      {"transfer-encoding", "chunked"},
                                      {"Connection", "close"},
                                      {"keep-alive", "timeout=5"},
                                      {"SERVER", "nginx"},
                                      {"x-sofaas-request-id", "forged"},
                                      {"X-Kept", "yes"}},
                                     "ok"};
    EXPECT_EQ(head_of(response),
              "HTTP/1.1 200 OK\r\nX-Kept: yes\r\nServer: sofaasd\r\nX-Sofaas-Request-Id: req-1\r\n"
              "Content-Length: 2\r\n\r\n");
}

TEST(ResponseHead, HeaderThatCouldSplitTheResponseIsDropped) {
    const HttpResponseParts response{200,
                                     {{"X-Split", "a\r\nSet-Cookie: stolen=1"},
                                      {"X-Lf", "a\nb"},
                                      {"X-Nul", std::string("a\0b", 3)},
                                      {"X-Name\r\nInjected", "v"},
                                      {"X-Name: injected", "v"},
                                      {"", "nameless"},
                                      {"X-Kept", "yes"}},
                                     ""};
    EXPECT_EQ(head_of(response),
              "HTTP/1.1 200 OK\r\nX-Kept: yes\r\nServer: sofaasd\r\nX-Sofaas-Request-Id: req-1\r\n"
              "Content-Length: 0\r\n\r\n");
}

TEST(ResponseHead, WhitespaceAroundAValueIsNotPartOfIt) {
    const HttpResponseParts response{200, {{"X-Padded", " \t a b \t "}, {"X-Blank", "  "}}, ""};
    EXPECT_TRUE(head_of(response).starts_with("HTTP/1.1 200 OK\r\nX-Padded: a b\r\nX-Blank: \r\nServer:"))
        << head_of(response);
}

TEST(ResponseHead, AppendsToWhatTheBufferHolds) {
    std::string head = "kept";
    append_response_head(head, HttpResponseParts{}, "req-1", http_1_1);
    EXPECT_TRUE(head.starts_with("keptHTTP/1.1 200 OK\r\n")) << head;
}

TEST(ResponseHead, ContinueIsAStatusLineAndABlankLine) {
    std::string head;
    append_continue_head(head, 11);
    EXPECT_EQ(head, "HTTP/1.1 100 Continue\r\n\r\n");
    head.clear();
    append_continue_head(head, 10);
    EXPECT_EQ(head, "HTTP/1.0 100 Continue\r\n\r\n");
}

}  // namespace
}  // namespace sofaas
