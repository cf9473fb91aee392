// The gateway in-process, on an ephemeral port, with the real registry, ledger, logs, pool
// and scheduler in a temporary data directory: what a client sees for good and bad requests.
#include "gateway/gateway.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

#include <boost/asio/io_context.hpp>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "billing/ledger.h"
#include "billing/rollups.h"
#include "cli/http_client.h"
#include "events/dispatcher.h"
#include "events/schedule_runner.h"
#include "events/sqlite_event_store.h"
#include "identity/token_verifier.h"
#include "keys/api_keys.h"
#include "keys/session_store.h"
#include "logs/function_logs.h"
#include "metrics/metrics.h"
#include "pool/pool.h"
#include "registry/registry.h"
#include "scheduler/scheduler.h"
#include "sites/site_store.h"
#include "sts/role_store.h"
#include "support/temp_dir.h"

namespace sofaas {
namespace {

using nlohmann::json;
constexpr const char* admin_token = "gateway-test-token";

std::string read_file(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream contents;
    contents << in.rdbuf();
    return contents.str();
}

Config small_limits_config(const std::filesystem::path& data_dir) {
    Config config;
    config.listen_port = 0;
    config.data_dir = data_dir;
    config.limits.max_header_bytes = 1024;
    config.limits.max_payload_bytes = 1024;
    config.limits.read_timeout_s = 1;
    return config;
}

// Everything sofaasd builds, in the order it builds it.
struct Daemon {
    explicit Daemon(const std::filesystem::path& data_dir)
        : config(small_limits_config(data_dir)),
          keys(data_dir / "keys.json"),
          roles(data_dir / "roles.json"),
          sessions(data_dir / "sessions.json"),
          registry(data_dir / "functions"),
          ledger(data_dir / "billing", LedgerOptions{}),
          rollups(data_dir / "rollups.db"),
          logs(data_dir / "logs", ledger),
          events(open_sqlite_event_store(data_dir / "events.db")),
          pool(io, PoolOptions{.worker_binary = std::filesystem::path(SOFAAS_BIN_DIR) / "sofaas-worker"}),
          scheduler(pool, ledger, logs, metrics, config),
          dispatcher(*events, registry, scheduler, metrics, config),
          schedules(*events, dispatcher, config),
          user_pools(data_dir / "users.db", identity::UserPoolSettings{}),
          identity_tokens(user_pools, identity_providers, std::nullopt),
          sites(data_dir / "sites", 0),
          gateway(io, GatewayServices{config, admin_token, keys, roles, sessions, registry, scheduler, pool, ledger, logs,
                                      *events, dispatcher, schedules, metrics, user_pools, identity_tokens, sites,
                                      std::nullopt, &rollups}) {
        const std::string bound = gateway.start();
        port = std::stoi(bound.substr(bound.rfind(':') + 1));
        threads.emplace_back([this] { io.run(); });  // one thread per io_context, as the daemon runs it
    }
    ~Daemon() {
        gateway.stop_accepting();
        pool.shutdown();
        io.stop();
        for (auto& thread : threads) thread.join();
    }

    boost::asio::io_context io;
    Metrics metrics;  // outlives the pool's last completion
    Config config;
    KeyStore keys;
    RoleStore roles;
    SessionStore sessions;
    Registry registry;
    Ledger ledger;
    Rollups rollups;
    FunctionLogStore logs;
    std::unique_ptr<EventStore> events;
    Pool pool;
    Scheduler scheduler;
    Dispatcher dispatcher;
    ScheduleRunner schedules;
    identity::UserPools user_pools;
    identity::ExternalProviders identity_providers{{}};
    identity::TokenVerifier identity_tokens;
    SiteStore sites;
    Gateway gateway;
    int port = 0;
    std::vector<std::thread> threads;
};

// Raw bytes in, everything the server writes until it closes (or 10 s pass).
std::string exchange_raw(int port, const std::string& request) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<uint16_t>(port));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
        ::close(fd);
        return "<connect failed>";
    }
    timeval timeout{10, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    (void)::send(fd, request.data(), request.size(), MSG_NOSIGNAL);
    std::string answer;
    char buffer[4096];
    for (ssize_t n; (n = ::recv(fd, buffer, sizeof buffer, 0)) > 0;) answer.append(buffer, static_cast<size_t>(n));
    ::close(fd);
    return answer;
}

class GatewayTest : public ::testing::Test {
protected:
    HttpClient client(std::string token = admin_token) const {
        return HttpClient("http://127.0.0.1:" + std::to_string(daemon.port), std::move(token));
    }
    HttpResponse deploy(const std::string& name, const std::string& library_name, const std::string& query = "") {
        const std::string library = read_file(std::filesystem::path(SOFAAS_FUNCTIONS_DIR) / (library_name + ".so"));
        return client().request("PUT", "/v1/functions/" + name + query, library);
    }

    testing::TempDir dir{"gateway-test"};
    Daemon daemon{dir.path()};
};

// Without ?records the summary is the rollups', over whole minutes, and says which.
TEST_F(GatewayTest, BillingSummaryComesFromTheRollupsOverWholeMinutes) {
    InvocationReport record;
    record.request_id = "rolled-up";
    record.function = "echo";
    record.version = 1;
    record.start = WallTime(std::chrono::sys_days{std::chrono::year{2026} / 12 / 6}) + std::chrono::hours(12) +
                   std::chrono::seconds(10);
    record.billed_ms = 3;
    record.memory_mb = 128;
    record.cost_pico_usd = 206'250;
    daemon.rollups.add(record, "2026-12-06T12.0");

    const auto response =
        client().request("GET", "/v1/billing?since=2026-12-06T12:00:30Z&until=2026-12-06T12:04:01Z&function=echo");
    ASSERT_EQ(response.status, 200) << response.body;
    const json body = json::parse(response.body);
    EXPECT_EQ(body.at("since"), format_rfc3339(record.start - std::chrono::seconds(10)));
    EXPECT_EQ(body.at("until"), format_rfc3339(record.start - std::chrono::seconds(10) + std::chrono::minutes(5)));
    EXPECT_EQ(body.at("total").at("invocations"), 1);
    EXPECT_EQ(body.at("total").at("billed_ms"), 3);

    const json unbounded = json::parse(client().request("GET", "/v1/billing").body);
    EXPECT_TRUE(unbounded.at("since").is_null());
    EXPECT_EQ(unbounded.at("total").at("invocations"), 1);
}

TEST_F(GatewayTest, HealthzAnswersWithoutATokenAndEveryResponseHasARequestId) {
    const auto response = client("").request("GET", "/healthz");
    EXPECT_EQ(response.status, 200);
    EXPECT_EQ(json::parse(response.body), json({{"status", "ok"}}));
    EXPECT_EQ(response.header("X-Sofaas-Request-Id").size(), 36u);
}

// What a client reads, byte for byte, with the request id (new each time) as "ID".
std::string with_request_id_hidden(std::string answer) {
    const std::string field = "\r\nX-Sofaas-Request-Id: ";
    const size_t id = answer.find(field);
    if (id != std::string::npos) answer.replace(id + field.size(), 36, "ID");
    return answer;
}

TEST_F(GatewayTest, ResponseOnTheWire) {
    EXPECT_EQ(with_request_id_hidden(exchange_raw(daemon.port, "GET /healthz HTTP/1.0\r\n\r\n")),
              "HTTP/1.0 200 OK\r\nContent-Type: application/json\r\nServer: sofaasd\r\n"
              "X-Sofaas-Request-Id: ID\r\nContent-Length: 15\r\n\r\n{\"status\":\"ok\"}");
    EXPECT_EQ(with_request_id_hidden(exchange_raw(daemon.port, "GET /healthz HTTP/1.1\r\nConnection: close\r\n\r\n")),
              "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nServer: sofaasd\r\n"
              "X-Sofaas-Request-Id: ID\r\nConnection: close\r\nContent-Length: 15\r\n\r\n{\"status\":\"ok\"}");
}

TEST_F(GatewayTest, HeadGetsTheHeadOfAGetAndNoBody) {
    EXPECT_EQ(with_request_id_hidden(exchange_raw(daemon.port, "HEAD /healthz HTTP/1.0\r\n\r\n")),
              "HTTP/1.0 200 OK\r\nContent-Type: application/json\r\nServer: sofaasd\r\n"
              "X-Sofaas-Request-Id: ID\r\nContent-Length: 15\r\n\r\n");
}

TEST_F(GatewayTest, ExpectContinueGetsAnInterimResponseBeforeTheAnswer) {
    const std::string answer = exchange_raw(daemon.port,
                                            "POST /v1/functions/nope/invoke HTTP/1.1\r\nHost: x\r\n"
                                            "Authorization: Bearer " + std::string(admin_token) + "\r\n"
                                            "Expect: 100-continue\r\nConnection: close\r\n"
                                            "Content-Length: 1\r\n\r\nx");
    EXPECT_TRUE(answer.starts_with("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 404 Not Found\r\n")) << answer;
}

TEST_F(GatewayTest, Http10ClientGetsNoInterimResponse) {
    const std::string answer = exchange_raw(daemon.port,
                                            "POST /v1/functions/nope/invoke HTTP/1.0\r\nHost: x\r\n"
                                            "Authorization: Bearer " + std::string(admin_token) + "\r\n"
                                            "Expect: 100-continue\r\nContent-Length: 1\r\n\r\nx");
    EXPECT_TRUE(answer.starts_with("HTTP/1.0 404 Not Found\r\n")) << answer;
}

// Only HTTP/1.0 and 1.1 are spoken: the answer never echoes another version.
TEST_F(GatewayTest, AnotherHttpVersionIs400) {
    for (const char* version : {"HTTP/1.9", "HTTP/2.0", "HTTP/0.9"}) {
        const std::string answer = exchange_raw(daemon.port, std::string("GET /healthz ") + version + "\r\n\r\n");
        EXPECT_TRUE(answer.starts_with("HTTP/1.1 400 Bad Request\r\n")) << version << ": " << answer;
    }
}

TEST_F(GatewayTest, ControlApiNeedsTheAdminToken) {
    for (const std::string token : {"", "wrong", "gateway-test-toke", "gateway-test-token-and-more"}) {
        const auto response = client(token).request("GET", "/v1/functions");
        EXPECT_EQ(response.status, 401) << token;
        EXPECT_EQ(json::parse(response.body)["errorType"], "UnauthorizedException");
    }
    const auto response = client().request("GET", "/v1/functions");
    EXPECT_EQ(response.status, 200);
    EXPECT_EQ(json::parse(response.body), json({{"functions", json::array()}}));
}

TEST_F(GatewayTest, UnknownFunctionsAre404) {
    for (const auto& [method, target] : {std::pair{"POST", "/v1/functions/nope/invoke"},
                                         std::pair{"GET", "/v1/functions/nope"},
                                         std::pair{"DELETE", "/v1/functions/nope"},
                                         std::pair{"GET", "/fn/nope/anything"}}) {
        const auto response = client().request(method, target);
        EXPECT_EQ(response.status, 404) << target;
        EXPECT_EQ(json::parse(response.body)["errorType"], "ResourceNotFoundException") << target;
    }
}

TEST_F(GatewayTest, BadFunctionNameIs400WhateverFollowsIt) {
    for (const auto& [method, target] : {std::pair{"PUT", "/v1/functions/bad.name"},
                                         std::pair{"GET", "/v1/functions/../../etc/passwd"},
                                         std::pair{"POST", "/v1/functions/a%2Fb/invoke"},
                                         std::pair{"GET", "/fn/%2e%2e/etc/passwd"}}) {
        const auto response = client().request(method, target, "x");
        EXPECT_EQ(response.status, 400) << target;
        EXPECT_EQ(json::parse(response.body)["errorType"], "InvalidParameterValueException") << target;
    }
}

// Only origin-form targets ("/path?query"): any other would need a reading of its own, and a
// proxy in front may read it otherwise than sofaasd.
TEST_F(GatewayTest, ATargetThatIsNotAPathIs400) {
    for (const char* line : {"GET healthz HTTP/1.1", "GET fn/echo HTTP/1.1", "OPTIONS * HTTP/1.1",
                             "GET http://example.com/healthz HTTP/1.1"}) {
        const std::string answer =
            exchange_raw(daemon.port, std::string(line) + "\r\nHost: x\r\nConnection: close\r\n\r\n");
        EXPECT_TRUE(answer.starts_with("HTTP/1.1 400 Bad Request\r\n")) << line << ": " << answer;
    }
}

// A function name needs no escape: /fn/%65cho is not /fn/echo, so the path a proxy in front
// checks is the one served.
TEST_F(GatewayTest, AFunctionUrlNamesItsFunctionAsSent) {
    ASSERT_EQ(deploy("echo", "echo").status, 201);
    EXPECT_EQ(client("").request("GET", "/fn/echo").status, 200);
    const auto escaped = client("").request("GET", "/fn/%65cho");
    EXPECT_EQ(escaped.status, 400) << escaped.body;
}

TEST_F(GatewayTest, OversizedHeadersAre431) {
    const std::string answer = exchange_raw(
        daemon.port, "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(2048, 'a') + "\r\n\r\n");
    EXPECT_TRUE(answer.starts_with("HTTP/1.1 431")) << answer;
}

TEST_F(GatewayTest, OversizedBodyIs413BeforeTheBodyIsSent) {
    const std::string answer = exchange_raw(
        daemon.port, "POST /v1/functions/x/invoke HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n");
    EXPECT_TRUE(answer.starts_with("HTTP/1.1 413")) << answer;
    EXPECT_NE(answer.find("RequestTooLargeException"), std::string::npos) << answer;
}

TEST_F(GatewayTest, MalformedRequestIs400) {
    const std::string answer = exchange_raw(daemon.port, "THIS IS NOT HTTP\r\n\r\n");
    EXPECT_TRUE(answer.starts_with("HTTP/1.1 400 Bad Request\r\n")) << answer;
    EXPECT_NE(answer.find("X-Sofaas-Request-Id"), std::string::npos) << answer;
    EXPECT_NE(answer.find("\r\nConnection: close\r\nContent-Length: "), std::string::npos) << answer;
}

TEST_F(GatewayTest, ASlowRequestIsCutOffAtTheReadTimeout) {
    const auto started = std::chrono::steady_clock::now();
    const std::string answer = exchange_raw(daemon.port, "GET /healthz HTTP/1.1\r\nHost: x\r\n");
    const auto waited = std::chrono::steady_clock::now() - started;
    EXPECT_EQ(answer, "");
    EXPECT_LT(waited, std::chrono::seconds(8));  // read_timeout_s is 1; 10 would mean never
}

TEST_F(GatewayTest, ABrokenLibraryIsRejectedAndNeverBecomesAVersion) {
    const auto response = client().request("PUT", "/v1/functions/broken", "this is not an ELF file");
    EXPECT_EQ(response.status, 400) << response.body;
    EXPECT_EQ(json::parse(response.body)["errorType"], "InvalidLibraryException");
    EXPECT_EQ(client().request("GET", "/v1/functions/broken").status, 404);
}

TEST_F(GatewayTest, BadDeploySettingIs400) {
    const auto response = deploy("echo", "echo", "?timeout=301");
    EXPECT_EQ(response.status, 400) << response.body;
    EXPECT_EQ(json::parse(response.body)["errorType"], "InvalidParameterValueException");
}

// The registry says a route is taken; the gateway says so in HTTP, as Lambda would.
TEST_F(GatewayTest, ARouteAnotherFunctionDeclaredIsA409) {
    const std::string route = "?route=GET%20%2Fitems%2F%7Bid%7D";
    ASSERT_EQ(deploy("items", "echo", route).status, 201);
    const auto response = deploy("thief", "echo", route);
    EXPECT_EQ(response.status, 409) << response.body;
    EXPECT_EQ(json::parse(response.body)["errorType"], "ResourceConflictException");
    EXPECT_EQ(client().request("GET", "/v1/functions/thief").status, 404);
}

TEST_F(GatewayTest, DeployInvokeAndCallOverHttp) {
    const auto deployed = deploy("echo", "echo", "?memory=256");
    ASSERT_EQ(deployed.status, 201) << deployed.body;
    const json spec = json::parse(deployed.body);
    EXPECT_EQ(spec["name"], "echo");
    EXPECT_EQ(spec["version"], 1);
    EXPECT_EQ(spec["memory_mb"], 256);

    const auto invoked = client().request("POST", "/v1/functions/echo/invoke", "ping");
    ASSERT_EQ(invoked.status, 200) << invoked.body;
    EXPECT_EQ(invoked.body, "ping");
    EXPECT_EQ(invoked.header("X-Sofaas-Status"), "ok");
    EXPECT_EQ(invoked.header("X-Sofaas-Version"), "1");
    EXPECT_FALSE(invoked.header("X-Sofaas-Billed-Ms").empty());

    // echo returns the v2 event itself: a JSON object without statusCode, so a 200 JSON body.
    const auto called = client("").request("GET", "/fn/echo/some/path?q=1");
    ASSERT_EQ(called.status, 200) << called.body;
    const json event = json::parse(called.body);
    EXPECT_EQ(event["rawPath"], "/fn/echo/some/path");
    EXPECT_EQ(event["queryStringParameters"]["q"], "1");
    EXPECT_EQ(event["requestContext"]["requestId"], called.header("X-Sofaas-Request-Id"));

    const auto described = client().request("GET", "/v1/functions/echo");
    ASSERT_EQ(described.status, 200);
    EXPECT_EQ(json::parse(described.body)["versions"], json::array({1}));

    EXPECT_EQ(client().request("DELETE", "/v1/functions/echo").status, 200);
    EXPECT_EQ(client("").request("GET", "/fn/echo").status, 404);
}

}  // namespace
}  // namespace sofaas
