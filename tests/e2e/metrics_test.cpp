// GET /metrics: Prometheus's text format behind the admin token, an admin key or a metrics
// key, scraped by a real Prometheus whose query API then tells the counts and quantiles
// the traffic must have left.
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/daemon_process.h"
#include "support/daemon_test.h"
#include "support/eventually.h"
#include "support/prometheus_process.h"
#include "support/unused_port.h"

namespace sofaas::testing {
namespace {

using nlohmann::json;

class Metrics : public DaemonTest {
protected:
    // A new key of `scope`, as "ACCESS_KEY_ID:SECRET".
    static std::string create_key(const std::string& name, const std::string& scope) {
        const HttpResponse created =
            daemon().http().request("POST", "/v1/keys", json{{"name", name}, {"scope", scope}}.dump());
        EXPECT_EQ(created.status, 201) << created.body;
        const json key = json::parse(created.body);
        return key.at("access_key_id").get<std::string>() + ":" + key.at("secret_access_key").get<std::string>();
    }

    static std::string host_port() { return daemon().endpoint().substr(std::string("http://").size()); }
};

TEST_F(Metrics, AdminTokenAndMetricsKeyReadThemAndNobodyElse) {
    const HttpResponse admin = daemon().http().request("GET", "/metrics");
    EXPECT_EQ(admin.status, 200) << admin.body;
    EXPECT_EQ(admin.header("Content-Type"), "text/plain; version=0.0.4; charset=utf-8");
    EXPECT_NE(admin.body.find("# TYPE sofaas_invocations_total counter\n"), std::string::npos) << admin.body;
    EXPECT_NE(admin.body.find("# TYPE process_resident_memory_bytes gauge\n"), std::string::npos) << admin.body;

    const std::string metrics_key = create_key("scraper", "metrics");
    EXPECT_EQ(daemon().http(metrics_key).request("GET", "/metrics").status, 200);
    const HttpResponse elsewhere = daemon().http(metrics_key).request("GET", "/v1/functions");
    EXPECT_EQ(elsewhere.status, 403);
    EXPECT_EQ(json::parse(elsewhere.body)["errorMessage"], "This key may only read /metrics");
    ASSERT_EQ(daemon().deploy("metrics-guarded", function_library("hello"), {"--auth", "key"}).exit_code, 0);
    EXPECT_EQ(daemon().http(metrics_key).request("POST", "/v1/functions/metrics-guarded/invoke", "x").status, 403);
    EXPECT_EQ(daemon().http(metrics_key).request("GET", "/fn/metrics-guarded").status, 403);

    EXPECT_EQ(daemon().http(create_key("caller", "invoke")).request("GET", "/metrics").status, 403);
    EXPECT_EQ(daemon().http(create_key("operator", "admin")).request("GET", "/metrics").status, 200);
    for (const std::string& token : std::vector<std::string>{"", "wrong-token", metrics_key + "x"}) {
        const HttpResponse refused = daemon().http(token).request("GET", "/metrics");
        EXPECT_EQ(refused.status, 401) << "token '" << token << "'";
        EXPECT_EQ(refused.body.find("sofaas_"), std::string::npos);
    }
    EXPECT_EQ(daemon().http().request("POST", "/metrics", "x").status, 405);
}

TEST_F(Metrics, CliCreatesMetricsKeys) {
    const ProcessResult created = daemon().cli({"keys", "create", "cli-scraper", "--scope", "metrics"});
    ASSERT_EQ(created.exit_code, 0) << created;
    EXPECT_NE(created.out.find("scope:           metrics"), std::string::npos) << created.out;
    const ProcessResult scoped = daemon().cli({"keys", "create", "bad", "--scope", "metrics", "--function", "hello"});
    EXPECT_NE(scoped.exit_code, 0) << scoped;
}

// The whole path: traffic of known outcomes, a real Prometheus scraping with a metrics key
// every second, and its query API.
TEST_F(Metrics, PrometheusScrapesTheCountsAndQuantilesOfTheTraffic) {
    if (!std::filesystem::exists(prometheus_binary)) {
        GTEST_SKIP() << prometheus_binary << " is missing (Debian package prometheus)";
    }
    ASSERT_EQ(daemon().deploy("paced", function_library("sleep")).exit_code, 0);
    PrometheusProcess prometheus(host_port(), create_key("prometheus", "metrics"));
    prometheus.start();

    constexpr int ok_calls = 6, failing_calls = 3;
    HttpClient client = daemon().http();
    for (int i = 0; i < ok_calls; ++i) {
        // 30 ms: in the histogram's (0.025, 0.05] bucket.
        ASSERT_EQ(client.request("POST", "/v1/functions/paced/invoke", "30").status, 200);
    }
    for (int i = 0; i < failing_calls; ++i) {
        ASSERT_EQ(client.request("POST", "/v1/functions/paced/invoke", "not a number").status, 502);
    }

    const auto count_of = [&](const std::string& status) {
        return prometheus.scalar(
            "sum(sofaas_invocations_total{job=\"sofaasd\",function=\"paced\",trigger=\"invoke\",status=\"" + status +
            "\"})");
    };
    EXPECT_TRUE(eventually([&] { return count_of("ok") == ok_calls && count_of("error") == failing_calls; },
                           std::chrono::seconds(15)))
        << "ok " << count_of("ok").value_or(-1) << ", error " << count_of("error").value_or(-1)
        << "; up: " << prometheus.query("up").dump() << "\nprometheus log:\n"
        << prometheus.log();
    EXPECT_EQ(prometheus.scalar("up{job=\"sofaasd\"}"), 1.0);
    EXPECT_EQ(prometheus.scalar("sofaas_invocation_duration_seconds_count{function=\"paced\"}"),
              ok_calls + failing_calls);
    EXPECT_EQ(prometheus.scalar("sofaas_cold_starts_total{function=\"paced\"}"), 1.0);

    // Of 9 durations, 3 failures of well under a millisecond and 6 sleeps of 30 ms: the
    // median is a sleep, interpolated within its bucket.
    const std::optional<double> median = prometheus.scalar(
        "histogram_quantile(0.5, sum by (le) (sofaas_invocation_duration_seconds_bucket{function=\"paced\"}))");
    ASSERT_TRUE(median);
    EXPECT_GT(*median, 0.025);
    EXPECT_LE(*median, 0.05);

    // Every query of the shipped Grafana dashboard is one this Prometheus accepts, and
    // those over invocations find the traffic.
    std::ifstream file(std::filesystem::path(SOFAAS_TESTS_DIR) / ".." / "config" / "grafana-dashboard.json");
    const json dashboard = json::parse(file);
    int queries = 0;
    for (const json& panel : dashboard.at("panels")) {
        for (const json& target : panel.at("targets")) {
            std::string expr = target.at("expr").get<std::string>();
            for (const auto& [variable, value] : {std::pair{"$__rate_interval", "1m"}, std::pair{"$function", ".*"}}) {
                for (size_t at; (at = expr.find(variable)) != std::string::npos;)
                    expr.replace(at, std::strlen(variable), value);
            }
            EXPECT_NO_THROW(prometheus.query(expr)) << panel.at("title") << ": " << expr;
            ++queries;
        }
    }
    EXPECT_GE(queries, 12);
}

// metrics_listen: /metrics without credentials on an address of its own, and nothing else there.
TEST(MetricsListen, ServesMetricsWithoutCredentialsAndNothingElse) {
    int port = 0;
    {
        UnusedPort unused;
        port = unused.port();
    }
    DaemonProcess daemon(json{{"metrics_listen", "127.0.0.1:" + std::to_string(port)}});
    daemon.start();
    HttpClient anonymous("http://127.0.0.1:" + std::to_string(port), "");
    const HttpResponse metrics = anonymous.request("GET", "/metrics");
    EXPECT_EQ(metrics.status, 200) << metrics.body;
    EXPECT_NE(metrics.body.find("# TYPE sofaas_invocations_total counter"), std::string::npos);
    EXPECT_EQ(anonymous.request("GET", "/v1/functions").status, 404);
    HttpClient admin("http://127.0.0.1:" + std::to_string(port), daemon.token());
    EXPECT_EQ(admin.request("GET", "/v1/functions").status, 404) << "the control API is not served there";
    EXPECT_EQ(daemon.http("").request("GET", "/metrics").status, 401) << "the main listener still wants a credential";
    daemon.stop();
}

// The queue's gauges are read when scraped; what becomes of its events is counted as it
// happens (refused: the queue was full; dead-lettered: failed with no retry left).
TEST(MetricsEvents, QueueDepthRefusalsAndDeadLettersShowInMetrics) {
    DaemonProcess daemon(json{{"events", {{"max_queued_per_function", 1}}}});
    daemon.start();
    ASSERT_EQ(daemon.deploy("queued", function_library("sleep"), {"--max-concurrency", "1", "--async-retries", "0"})
                  .exit_code,
              0);
    const HttpHeaders as_event = {{"X-Sofaas-Invocation-Type", "Event"}};
    HttpClient client = daemon.http();
    const auto metrics = [&] { return client.request("GET", "/metrics").body; };

    ASSERT_EQ(client.request("POST", "/v1/functions/queued/invoke", "1500", as_event).status, 202);
    EXPECT_EQ(client.request("POST", "/v1/functions/queued/invoke", "1", as_event).status, 429);
    const std::string while_queued = metrics();
    EXPECT_NE(while_queued.find("sofaas_queued_events{function=\"queued\"} 1\n"), std::string::npos) << while_queued;
    EXPECT_NE(while_queued.find("sofaas_oldest_queued_event_age_seconds{function=\"queued\"} "), std::string::npos);
    EXPECT_NE(while_queued.find("sofaas_events_refused_total{function=\"queued\"} 1\n"), std::string::npos);

    std::string text;
    ASSERT_TRUE(
        eventually([&] { return metrics().find("sofaas_queued_events{function=\"queued\"}") == std::string::npos; },
                   std::chrono::seconds(10)))
        << "the first event did not leave the queue";
    ASSERT_EQ(client.request("POST", "/v1/functions/queued/invoke", "not a number", as_event).status, 202);
    EXPECT_TRUE(eventually(
        [&] {
            text = metrics();
            return text.find("sofaas_events_dead_lettered_total{function=\"queued\"} 1\n") != std::string::npos;
        },
        std::chrono::seconds(10)))
        << text;
    EXPECT_NE(
        text.find("sofaas_invocations_total{function=\"queued\",version=\"1\",trigger=\"async\",status=\"ok\"} 1\n"),
        std::string::npos)
        << text;
    EXPECT_NE(
        text.find("sofaas_invocations_total{function=\"queued\",version=\"1\",trigger=\"async\",status=\"error\"} 1\n"),
        std::string::npos)
        << text;
    daemon.stop();
}

TEST(MetricsOff, AnswersNotFoundAndCountsNothing) {
    DaemonProcess daemon(json{{"metrics", {{"enabled", false}}}});
    daemon.start();
    const HttpResponse response = daemon.http().request("GET", "/metrics");
    EXPECT_EQ(response.status, 404);
    EXPECT_NE(response.body.find("metrics.enabled"), std::string::npos) << response.body;
    daemon.stop();
}

}  // namespace
}  // namespace sofaas::testing
