// Three real sofaasd nodes sharing one real PostgreSQL database: each node's billing
// records reach the cluster's table, any node answers for the whole cluster's bill, and a
// node killed with SIGKILL ships, once restarted, every record of the calls it answered.
#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "cli/http_client.h"
#include "store/postgres_connection.h"
#include "support/daemon_process.h"
#include "support/eventually.h"
#include "support/postgres_server.h"

using namespace sofaas;
using namespace sofaas::testing;
using namespace std::chrono_literals;

namespace {

class ClusterBills : public ::testing::Test {
protected:
    void SetUp() override {
        url = PostgresServer::shared().create_database();
        for (int i = 1; i <= 3; ++i) {
            nodes.push_back(std::make_unique<DaemonProcess>(
                nlohmann::json{{"store", url}, {"events", {{"node_id", "node-" + std::to_string(i)}}}}));
            nodes.back()->start();
        }
        // Deployed once, through one node; served by every node.
        const ProcessResult deployed = nodes[0]->deploy("hello", function_library("hello"));
        ASSERT_EQ(deployed.exit_code, 0) << deployed;
        for (const auto& node : nodes) {
            ASSERT_TRUE(eventually([&] { return node->http().request("GET", "/v1/functions/hello").status == 200; }));
        }
    }

    int64_t cluster_records(const std::string& where = "function = 'hello' AND trigger = 'http'") const {
        PostgresConnection db(url);
        return db.run("SELECT count(*) FROM billing_records WHERE " + where).integer(0, 0);
    }

    std::string url;
    std::vector<std::unique_ptr<DaemonProcess>> nodes;
};

TEST_F(ClusterBills, AnyNodeAnswersForTheWholeClustersBill) {
    for (size_t n = 0; n < nodes.size(); ++n) {
        HttpClient client(nodes[n]->endpoint(), "");
        for (size_t i = 0; i <= n; ++i) ASSERT_EQ(client.request("GET", "/fn/hello").status, 200);  // 1 + 2 + 3 calls
    }
    ASSERT_TRUE(eventually([&] { return cluster_records() == 6; }, 20s)) << cluster_records();
    EXPECT_EQ(cluster_records("node = 'node-3' AND trigger = 'http'"), 3);
    EXPECT_EQ(cluster_records("trigger = 'deploy'"), 1);  // the one deploy's trial init, on node 1
    for (const auto& node : nodes) {
        const HttpResponse answer = node->http().request("GET", "/v1/billing?function=hello");
        ASSERT_EQ(answer.status, 200) << answer.body;
        const nlohmann::json body = body_of(answer);
        EXPECT_EQ(body["scope"], "cluster");
        EXPECT_EQ(body["total"]["invocations"], 6) << body.dump();
    }
    const ProcessResult cli = nodes[1]->cli({"billing", "--function", "hello", "--json"});
    ASSERT_EQ(cli.exit_code, 0) << cli;
    EXPECT_EQ(nlohmann::json::parse(cli.out)["total"]["invocations"], 6) << cli.out;
    const HttpResponse metrics = nodes[2]->http().request("GET", "/metrics");
    ASSERT_EQ(metrics.status, 200);
    EXPECT_NE(metrics.body.find("\nsofaas_billing_shipping_failing 0\n"), std::string::npos) << metrics.body;
    EXPECT_NE(metrics.body.find("\nsofaas_billing_shipping_queued_records 0\n"), std::string::npos);
    const size_t shipped = metrics.body.find("\nsofaas_billing_shipped_records_total ");
    ASSERT_NE(shipped, std::string::npos);
    EXPECT_GE(std::stoul(metrics.body.substr(shipped + 38)), 3u);  // its calls
    // A node's own records are still its own to list.
    const HttpResponse own = nodes[2]->http().request("GET", "/v1/billing?function=hello&records=1");
    EXPECT_EQ(body_of(own)["records"].size(), 3u);  // its three calls
}

TEST_F(ClusterBills, ANodeKilledUnderLoadShipsEveryAnsweredCallOnceAfterItsRestart) {
    DaemonProcess& victim = *nodes[1];
    std::atomic<bool> stop{false};
    std::vector<std::string> answered;
    std::thread load([&] {
        HttpClient client(victim.endpoint(), "");
        client.set_timeout(5s);
        while (!stop) {
            try {
                const HttpResponse answer = client.request("GET", "/fn/hello");
                if (answer.status == 200) answered.push_back(answer.header("X-Sofaas-Request-Id"));
            } catch (const HttpClientError&) {
                return;  // the node is gone
            }
        }
    });
    std::this_thread::sleep_for(1500ms);
    victim.kill9();
    stop = true;
    load.join();
    ASSERT_GT(answered.size(), 10u);
    victim.start();
    ASSERT_TRUE(eventually([&] { return cluster_records("node = 'node-2'") >= static_cast<int64_t>(answered.size()); }, 30s))
        << cluster_records("node = 'node-2'") << " of " << answered.size();
    PostgresConnection db(url);
    size_t missing = 0;
    for (const std::string& request_id : answered) {
        missing += db.run("SELECT count(*) FROM billing_records WHERE request_id = $1", {request_id}).integer(0, 0) != 1;
    }
    EXPECT_EQ(missing, 0u) << "of " << answered.size() << " answered calls";
}

}  // namespace
