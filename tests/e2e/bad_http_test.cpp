// Bad HTTP, sent byte for byte over raw sockets: every malformed, oversized, lying or slow
// request gets a clear answer or is cut at the read deadline, and never disturbs others.
#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/daemon_process.h"
#include "support/raw_socket.h"

namespace sofaas::testing {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

constexpr int read_timeout_s = 2;
constexpr size_t max_payload_bytes = 1024 * 1024;
constexpr size_t max_header_bytes = 8 * 1024;

class BadHttp : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        daemon_ = std::make_unique<DaemonProcess>(json{{"limits",
                                                        {{"read_timeout_s", read_timeout_s},
                                                         {"max_payload_bytes", max_payload_bytes},
                                                         {"max_header_bytes", max_header_bytes}}}});
        daemon_->start();
        ASSERT_EQ(daemon_->deploy("echo", function_library("echo")).exit_code, 0);
        ASSERT_EQ(daemon_->deploy("napper", function_library("sleep")).exit_code, 0);
    }
    static void TearDownTestSuite() {
        if (daemon_) daemon_->stop();
        daemon_.reset();
    }
    void SetUp() override { ASSERT_TRUE(daemon_ && daemon_->running()); }

    static DaemonProcess& daemon() { return *daemon_; }
    static RawConnection connect() { return RawConnection(daemon().endpoint()); }
    static std::string auth() { return "Authorization: Bearer " + daemon().token() + "\r\n"; }

    // Sends `request` on a fresh connection and reads one answer.
    static std::optional<RawResponse> exchange(const std::string& request) {
        auto connection = connect();
        if (!connection.send(request)) return std::nullopt;
        return connection.read_response();
    }

private:
    static inline std::unique_ptr<DaemonProcess> daemon_;
};

std::string error_type_of(const RawResponse& response) {
    auto body = json::parse(response.body, nullptr, false);
    return body.is_object() && body.contains("errorType") ? body["errorType"].get<std::string>() : "";
}

TEST_F(BadHttp, MalformedRequestLineIs400) {
    for (std::string line : {"NOT A REQUEST LINE AT ALL", "GET", "GET /healthz HTTP/1.1 extra", "\x01\x02\x03 / HTTP/1.1"}) {
        SCOPED_TRACE(line);
        auto response = exchange(line + "\r\nHost: x\r\n\r\n");
        ASSERT_TRUE(response);
        EXPECT_EQ(response->status, 400);
    }
}

TEST_F(BadHttp, HeaderBlockOverTheLimitIs431) {
    auto response = exchange("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(max_header_bytes + 100, 'a') +
                             "\r\n\r\n");
    ASSERT_TRUE(response);
    EXPECT_EQ(response->status, 431);
    EXPECT_EQ(error_type_of(*response), "RequestHeaderFieldsTooLargeException");
}

// The 413 comes as soon as the declared length is known: the client never has to send it.
TEST_F(BadHttp, BodyOverTheLimitIs413WithoutReadingIt) {
    auto connection = connect();
    ASSERT_TRUE(connection.send("POST /v1/functions/echo/invoke HTTP/1.1\r\nHost: x\r\n" + auth() +
                                "Content-Length: " + std::to_string(100 * max_payload_bytes) + "\r\n\r\n"));
    connection.send(std::string(64 * 1024, 'b'));
    auto response = connection.read_response(5s);
    ASSERT_TRUE(response) << "no answer before the 100 MiB body was sent";
    EXPECT_EQ(response->status, 413);
    EXPECT_EQ(error_type_of(*response), "RequestTooLargeException");
}

TEST_F(BadHttp, BodyShorterThanItsContentLengthIsCutAtTheReadDeadline) {
    auto connection = connect();
    ASSERT_TRUE(connection.send("POST /v1/functions/echo/invoke HTTP/1.1\r\nHost: x\r\n" + auth() +
                                "Content-Length: 100\r\n\r\nonly ten b"));
    auto started = std::chrono::steady_clock::now();
    EXPECT_TRUE(connection.wait_closed(std::chrono::seconds(read_timeout_s) + 4s));
    // Cut at read_timeout_s: not at half of it, nor at twice.
    const auto lasted = std::chrono::steady_clock::now() - started;
    EXPECT_GE(lasted, std::chrono::seconds(read_timeout_s) - 500ms);
    EXPECT_LT(lasted, std::chrono::seconds(read_timeout_s) + 1500ms);
    EXPECT_TRUE(daemon().billing_records("echo").empty()) << "the cut request was invoked";
}

TEST_F(BadHttp, ChunkedBodyIsAccepted) {
    auto response = exchange("POST /v1/functions/echo/invoke HTTP/1.1\r\nHost: x\r\n" + auth() +
                             "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n");
    ASSERT_TRUE(response);
    EXPECT_EQ(response->status, 200) << response->body;
    EXPECT_EQ(response->body, "hello world");
}

// Request smuggling needs two readings of where a body ends: every ambiguous framing is
// refused, and the connection closed rather than guessed at.
TEST_F(BadHttp, AmbiguousOrBrokenFramingIs400) {
    const size_t billed_before = daemon().billing_records("echo").size();
    const std::string head = "POST /v1/functions/echo/invoke HTTP/1.1\r\nHost: x\r\n" + auth();
    const std::vector<std::string> requests = {
        head + "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
        head + "Content-Length: 5\r\nContent-Length: 6\r\n\r\nhello!",
        head + "Content-Length: -5\r\n\r\nhello",
        head + "Content-Length: abc\r\n\r\nhello",
        head + "Content-Length: 99999999999999999999999\r\n\r\nhello",
        head + "Transfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n",
        "GET /healthz HTTP/1.1\r\nHost: x\r\nNoColonHere\r\n\r\n",
        std::string("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Nul: a\0b\r\n\r\n", 46),
    };
    for (const auto& request : requests) {
        SCOPED_TRACE(request);
        auto connection = connect();
        ASSERT_TRUE(connection.send(request));
        auto response = connection.read_response();
        ASSERT_TRUE(response);
        EXPECT_EQ(response->status, 400) << response->body;
        EXPECT_TRUE(connection.wait_closed(2s));
    }
    EXPECT_EQ(daemon().billing_records("echo").size(), billed_before) << "a refused request was invoked";
}

// A Transfer-Encoding the server does not frame exactly as "chunked" would let a front
// proxy and sofaasd disagree on where the body ends: what one reads as body, the other
// reads as the next request. Each is refused with 400 and the connection closed, so the
// request hidden behind it is never answered, nor invoked.
TEST_F(BadHttp, AnyTransferEncodingButChunkedIs400AndTheRestIsNeverRead) {
    const size_t billed_before = daemon().billing_records("echo").size();
    const std::string hidden = "GET /fn/echo/smuggled HTTP/1.1\r\nHost: x\r\n\r\n";
    const std::string chunked_hidden = "0\r\n\r\n" + hidden;
    const std::string length = "Content-Length: " + std::to_string(hidden.size()) + "\r\n";
    const std::vector<std::string> framings = {
        "Transfer-Encoding: xchunked\r\n\r\n" + hidden,
        "Transfer-Encoding: identity\r\n\r\n" + hidden,
        "Transfer-Encoding: gzip\r\n\r\n" + hidden,
        "Transfer-Encoding: chunked, chunked\r\n\r\n" + chunked_hidden,
        "Transfer-Encoding: gzip, chunked\r\n\r\n" + chunked_hidden,
        "Transfer-Encoding: chunked;ext=1\r\n\r\n" + chunked_hidden,
        "Transfer-Encoding: xchunked\r\nTransfer-Encoding: chunked\r\n\r\n" + chunked_hidden,
        "Transfer-Encoding: xchunked\r\n" + length + "\r\n" + hidden,
        length + "Transfer-Encoding: identity\r\n\r\n" + hidden,
    };
    for (const auto& framing : framings) {
        for (const std::string target : {"/fn/echo", "/v1/functions/echo/invoke"}) {
            SCOPED_TRACE(target + "\n" + framing);
            auto connection = connect();
            ASSERT_TRUE(connection.send("POST " + target + " HTTP/1.1\r\nHost: x\r\n" + auth() + framing));
            auto response = connection.read_response();
            ASSERT_TRUE(response);
            EXPECT_EQ(response->status, 400) << response->body;
            EXPECT_EQ(response->header("Connection"), "close");
            EXPECT_FALSE(connection.read_response(2s)) << "the hidden request was answered";
            EXPECT_TRUE(connection.wait_closed(2s));
        }
    }
    EXPECT_EQ(daemon().billing_records("echo").size(), billed_before) << "a refused request was invoked";
}

// HTTP/1.0 has no chunked coding: a Transfer-Encoding in a 1.0 request is faulty framing
// (RFC 9112 6.1), whatever it says.
TEST_F(BadHttp, TransferEncodingInAnHttp10RequestIs400) {
    auto connection = connect();
    ASSERT_TRUE(connection.send("POST /fn/echo HTTP/1.0\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                                "5\r\nhello\r\n0\r\n\r\n"));
    auto response = connection.read_response();
    ASSERT_TRUE(response);
    EXPECT_EQ(response->status, 400) << response->body;
    EXPECT_TRUE(connection.wait_closed(2s));
}

// Beast takes a repeated Content-Length, or a list of them, when the values agree; a proxy
// in front may take the first, the last or refuse it. One Content-Length, one number.
TEST_F(BadHttp, RepeatedContentLengthIs400EvenWhenTheValuesAgree) {
    const std::string head = "POST /fn/echo HTTP/1.1\r\nHost: x\r\n";
    for (const std::string lengths : {"Content-Length: 5\r\nContent-Length: 5\r\n", "Content-Length: 5, 5\r\n",
                                      "Content-Length: +5\r\n"}) {
        SCOPED_TRACE(lengths);
        auto connection = connect();
        ASSERT_TRUE(connection.send(head + lengths + "\r\nhello"));
        auto response = connection.read_response();
        ASSERT_TRUE(response);
        EXPECT_EQ(response->status, 400) << response->body;
        EXPECT_TRUE(connection.wait_closed(2s));
    }
}

// Which host a request is for has one answer too (RFC 9112 3.2).
TEST_F(BadHttp, TwoHostHeadersAre400) {
    auto connection = connect();
    ASSERT_TRUE(connection.send("GET /fn/echo HTTP/1.1\r\nHost: a.example\r\nHost: b.example\r\n\r\n"));
    auto response = connection.read_response();
    ASSERT_TRUE(response);
    EXPECT_EQ(response->status, 400) << response->body;
    EXPECT_TRUE(connection.wait_closed(2s));
}

// Spelling and whitespace aside, "chunked" alone is chunked.
TEST_F(BadHttp, ChunkedInAnyCaseIsAccepted) {
    auto response = exchange("POST /v1/functions/echo/invoke HTTP/1.1\r\nHost: x\r\n" + auth() +
                             "Transfer-Encoding:   ChUnKeD  \r\n\r\n5\r\nhello\r\n0\r\n\r\n");
    ASSERT_TRUE(response);
    EXPECT_EQ(response->status, 200) << response->body;
    EXPECT_EQ(response->body, "hello");
}

// A chunked body has no declared length: the limit must hold while it streams in.
TEST_F(BadHttp, ChunkedBodyOverTheLimitIs413) {
    auto connection = connect();
    ASSERT_TRUE(connection.send("POST /v1/functions/echo/invoke HTTP/1.1\r\nHost: x\r\n" + auth() +
                                "Transfer-Encoding: chunked\r\n\r\n"));
    const std::string chunk = "10000\r\n" + std::string(0x10000, 'c') + "\r\n";
    for (size_t sent = 0; sent <= 2 * max_payload_bytes; sent += 0x10000)
        if (!connection.send(chunk)) break;  // refused mid-stream: the answer is waiting
    auto response = connection.read_response(5s);
    ASSERT_TRUE(response);
    EXPECT_EQ(response->status, 413);
    EXPECT_EQ(error_type_of(*response), "RequestTooLargeException");
}

// A chunk's size line (with its extensions) and the trailers are kept whole until their
// line ends: without a ceiling, one connection could make the daemon hold gigabytes.
TEST_F(BadHttp, EndlessChunkExtensionOrTrailerIs400) {
    const std::string head = "POST /fn/echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
    for (const std::string start : {"5;ext=", "5\r\nhello\r\n0\r\nX-Trailer: "}) {
        SCOPED_TRACE(start);
        auto connection = connect();
        ASSERT_TRUE(connection.send(head + start));
        const std::string endless(64 * 1024, 'e');
        for (size_t sent = 0; sent < 2 * max_payload_bytes; sent += endless.size())
            if (!connection.send(endless)) break;
        auto response = connection.read_response(5s);
        ASSERT_TRUE(response) << "no answer before the read deadline";
        EXPECT_EQ(response->status, 400) << response->body;
        EXPECT_NE(response->body.find("a chunk size line or trailer is longer than"), std::string::npos)
            << response->body;
    }
}

TEST_F(BadHttp, PipelinedRequestsAreAnsweredInOrder) {
    auto connection = connect();
    std::string requests;
    const std::vector<std::string> events = {"first", "second", "third", "fourth"};
    for (const auto& event : events)
        requests += "POST /v1/functions/echo/invoke HTTP/1.1\r\nHost: x\r\n" + auth() +
                    "Content-Length: " + std::to_string(event.size()) + "\r\n\r\n" + event;
    ASSERT_TRUE(connection.send(requests));
    for (const auto& event : events) {
        auto response = connection.read_response();
        ASSERT_TRUE(response) << "no answer for " << event;
        EXPECT_EQ(response->status, 200);
        EXPECT_EQ(response->body, event);
    }
}

TEST_F(BadHttp, Http10RequestIsAnsweredAndClosed) {
    auto connection = connect();
    ASSERT_TRUE(connection.send("GET /healthz HTTP/1.0\r\n\r\n"));
    auto response = connection.read_response();
    ASSERT_TRUE(response);
    EXPECT_EQ(response->status, 200);
    EXPECT_TRUE(connection.wait_closed(2s));
}

// One byte every 200 ms: the request never completes, so the read deadline ends it, and
// other clients are served all the while.
TEST_F(BadHttp, SlowlorisIsCutWhileOthersAreServed) {
    std::atomic<bool> done{false};
    std::atomic<int> served{0}, failed{0};
    std::thread others([&] {
        auto http = daemon().http();
        http.set_timeout(2s);
        while (!done) {
            try {
                (http.request("POST", "/v1/functions/echo/invoke", "other").status == 200 ? served : failed)++;
            } catch (const std::exception&) {
                ++failed;
            }
            std::this_thread::sleep_for(50ms);
        }
    });
    auto connection = connect();
    const std::string request = "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: " + std::string(1000, 's');
    auto started = std::chrono::steady_clock::now();
    size_t sent = 0;
    bool closed = false;
    while (!closed && sent < request.size()) {
        if (!connection.send(request.substr(sent++, 1))) closed = true;
        else closed = connection.wait_closed(200ms);
    }
    auto lasted = std::chrono::steady_clock::now() - started;
    done = true;
    others.join();
    EXPECT_TRUE(closed) << "the trickling client was never cut";
    EXPECT_LT(lasted, std::chrono::seconds(read_timeout_s) + 1500ms);
    EXPECT_GT(served.load(), 0);
    EXPECT_EQ(failed.load(), 0);
}

// The caller hangs up while its invocation runs: the work was done, so it is billed, and
// the function serves the next caller.
TEST_F(BadHttp, ClientDisconnectingMidInvocationIsStillBilled) {
    {
        auto connection = connect();
        ASSERT_TRUE(connection.send("POST /v1/functions/napper/invoke HTTP/1.1\r\nHost: x\r\n" + auth() +
                                    "Content-Length: 3\r\n\r\n500"));
        std::this_thread::sleep_for(100ms);
    }
    std::vector<json> records;
    for (int i = 0; i < 50 && records.empty(); ++i) {
        std::this_thread::sleep_for(100ms);
        records = daemon().billing_records("napper");
    }
    ASSERT_EQ(records.size(), 1u);
    EXPECT_EQ(records[0]["status"], "ok");
    EXPECT_GE(records[0]["duration_ms"].get<double>(), 400);
    auto next = daemon().http().request("POST", "/v1/functions/napper/invoke", "10");
    EXPECT_EQ(next.status, 200);
    EXPECT_EQ(next.body, "slept 10 ms");
}

TEST_F(BadHttp, InvalidFunctionNamesAre400) {
    const std::vector<std::string> targets = {
        "/v1/functions/" + std::string(65, 'a'),
        "/v1/functions/bad!name",
        "/v1/functions/..",
        "/v1/functions/a%2Fb",
        "/v1/functions/%2e%2e",
        "/v1/functions/..%2F..%2Fetc",
        "/v1/functions/../../etc/passwd",
        "/v1/functions/a%00b/invoke",
        "/v1/functions/name%20with%20spaces/invoke",
        "/fn/..",
        "/fn/%2e%2e/etc/passwd",
        "/fn/bad!name",
    };
    for (const auto& target : targets) {
        for (std::string method : {"GET", "PUT", "POST"}) {
            SCOPED_TRACE(method + " " + target);
            auto response = exchange(method + " " + target + " HTTP/1.1\r\nHost: x\r\n" + auth() +
                                     "Content-Length: 1\r\n\r\nx");
            ASSERT_TRUE(response);
            EXPECT_EQ(response->status, 400) << response->body;
            auto body = json::parse(response->body, nullptr, false);
            ASSERT_TRUE(body.is_object()) << response->body;
            EXPECT_FALSE(body.value("errorMessage", "").empty()) << response->body;
        }
    }
    EXPECT_TRUE(daemon().http().request("GET", "/healthz").status == 200);
}

TEST_F(BadHttp, BadDeploySettingsAre400) {
    const std::vector<std::string> queries = {
        "memory=abc", "memory=-5", "memory=99999999", "timeout=0", "timeout=301", "timeout=1.5",
        "route=nonsense", "route=GET%20relative", "env=NOEQUALS", "env=%3Dvalue", "auth=maybe",
        "min_warm=-1", "max_concurrency=0", "handler=", "unknown_setting=1", "memory=%ZZ",
    };
    const std::string library = "not read: settings are checked first";
    for (const auto& query : queries) {
        SCOPED_TRACE(query);
        auto response = daemon().http().request("PUT", "/v1/functions/badsettings?" + query, library);
        EXPECT_EQ(response.status, 400) << response.body;
        auto body = json::parse(response.body, nullptr, false);
        EXPECT_EQ(body.value("errorType", ""), "InvalidParameterValueException") << response.body;
    }
    auto header = daemon().http().request("PUT", "/v1/functions/badsettings", library, {{"X-Sofaas-Timeout", "soon"}});
    EXPECT_EQ(header.status, 400) << header.body;
    EXPECT_EQ(daemon().http().request("GET", "/v1/functions/badsettings").status, 404);
}

}  // namespace
}  // namespace sofaas::testing
