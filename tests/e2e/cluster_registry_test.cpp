// Three real sofaasd nodes sharing their registry through one real PostgreSQL database,
// behind a real haproxy (config/haproxy.cfg): a function deployed through one node is
// served by every node and through haproxy, and an alias or a deletion made through any
// node holds on all of them.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "cli/http_client.h"
#include "support/daemon_process.h"
#include "support/eventually.h"
#include "support/haproxy_process.h"
#include "support/postgres_server.h"

using namespace sofaas;
using namespace sofaas::testing;
using namespace std::chrono;

namespace {

class ClusterRegistry : public ::testing::Test {
protected:
    void SetUp() override {
        const std::string url = PostgresServer::shared().create_database();
        std::vector<std::string> addresses;
        for (int i = 1; i <= 3; ++i) {
            nodes.push_back(std::make_unique<DaemonProcess>(
                nlohmann::json{{"store", url}, {"events", {{"node_id", "node-" + std::to_string(i)}}}}));
            nodes.back()->start();
            addresses.push_back(nodes.back()->endpoint().substr(std::string("http://").size()));
        }
        haproxy = std::make_unique<HaproxyProcess>(shipped_haproxy_config, addresses);
        haproxy->start();
    }

    // What GET /fn/TARGET answers on node `n`: its status and body.
    std::pair<unsigned, std::string> call(size_t n, const std::string& target) const {
        const HttpResponse answer = nodes[n]->http("").request("GET", "/fn/" + target);
        return {answer.status, answer.body};
    }

    std::vector<std::unique_ptr<DaemonProcess>> nodes;
    std::unique_ptr<HaproxyProcess> haproxy;
};

TEST_F(ClusterRegistry, AFunctionDeployedThroughOneNodeIsServedByEveryNodeAndThroughHaproxy) {
    const auto deployed_at = steady_clock::now();
    const ProcessResult deployed = nodes[0]->deploy("hello", function_library("hello"));
    ASSERT_EQ(deployed.exit_code, 0) << deployed;
    EXPECT_EQ(call(0, "hello").first, 200u) << "the node that deployed serves it when it answers";
    for (size_t n = 1; n < nodes.size(); ++n) {
        ASSERT_TRUE(eventually([&] { return call(n, "hello").first == 200; })) << "node " << n + 1;
        std::cout << "node " << n + 1 << " serves the deploy "
                  << duration_cast<milliseconds>(steady_clock::now() - deployed_at).count()
                  << " ms after the deploy began\n";
        EXPECT_EQ(call(n, "hello").second, "Hello, world!");
    }

    // Every node describes the same version, the same bytes.
    const nlohmann::json first = body_of(nodes[0]->http().request("GET", "/v1/functions/hello"))["function"];
    for (size_t n = 1; n < nodes.size(); ++n) {
        const nlohmann::json there = body_of(nodes[n]->http().request("GET", "/v1/functions/hello"))["function"];
        EXPECT_EQ(there["version"], 1) << there.dump();
        EXPECT_EQ(there["sha256"], first["sha256"]);
        EXPECT_EQ(there["created_at"], first["created_at"]);
    }
    // Deployed once: one trial load, on the node that took the deploy.
    const auto deploys = [](const DaemonProcess& node) {
        const auto records = node.all_billing_records("hello");
        return std::count_if(records.begin(), records.end(), [](const auto& r) { return r["trigger"] == "deploy"; });
    };
    EXPECT_EQ(deploys(*nodes[0]), 1);
    EXPECT_EQ(deploys(*nodes[1]), 0);
    EXPECT_EQ(deploys(*nodes[2]), 0);

    HttpClient through(haproxy->endpoint(), "");
    for (int i = 0; i < 6; ++i) {
        const HttpResponse answer = through.request("GET", "/fn/hello");
        ASSERT_EQ(answer.status, 200) << answer.body << haproxy->log();
        EXPECT_EQ(answer.body, "Hello, world!");
    }
    // The Lambda API of any node, with that node's own credentials.
    const HttpResponse invoked = nodes[2]->http().request("POST", "/2015-03-31/functions/hello/invocations", "{}");
    EXPECT_EQ(invoked.status, 200) << invoked.body;

    // A second version through another node: every node moves to it.
    const ProcessResult again = nodes[1]->deploy("hello", function_library("echo"));
    ASSERT_EQ(again.exit_code, 0) << again;
    for (size_t n = 0; n < nodes.size(); ++n) {
        EXPECT_TRUE(eventually([&] { return call(n, "hello").second != "Hello, world!"; })) << "node " << n + 1;
        EXPECT_EQ(body_of(nodes[n]->http().request("GET", "/v1/functions/hello"))["function"]["version"], 2);
    }
}

TEST_F(ClusterRegistry, AliasesAndDeletionsThroughAnyNodeHoldOnEveryNode) {
    ASSERT_EQ(nodes[0]->deploy("svc", function_library("hello")).exit_code, 0);
    ASSERT_EQ(nodes[1]->deploy("svc", function_library("echo")).exit_code, 0);
    const ProcessResult set = nodes[2]->cli({"alias", "set", "svc", "live", "1"});
    ASSERT_EQ(set.exit_code, 0) << set;
    for (size_t n = 0; n < nodes.size(); ++n) {
        EXPECT_TRUE(eventually([&] { return call(n, "svc:live") == std::pair<unsigned, std::string>{200, "Hello, world!"}; }))
            << "node " << n + 1 << ": " << call(n, "svc:live").second;
    }

    const ProcessResult moved = nodes[0]->cli({"alias", "set", "svc", "live", "2"});
    ASSERT_EQ(moved.exit_code, 0) << moved;
    for (size_t n = 0; n < nodes.size(); ++n) {
        EXPECT_TRUE(eventually([&] {
            auto [status, body] = call(n, "svc:live");
            return status == 200 && body != "Hello, world!";
        })) << "node " << n + 1;
    }
    const ProcessResult listed = nodes[1]->cli({"alias", "list", "svc", "--json"});
    ASSERT_EQ(listed.exit_code, 0) << listed;
    EXPECT_EQ(nlohmann::json::parse(listed.out)["aliases"].at(0)["version"], 2) << listed.out;

    const ProcessResult refused = nodes[1]->cli({"alias", "set", "svc", "old", "9"});
    EXPECT_EQ(refused.exit_code, 3) << "404: no version 9 anywhere in the cluster; " << refused;

    const ProcessResult deleted = nodes[1]->cli({"delete", "svc"});
    ASSERT_EQ(deleted.exit_code, 0) << deleted;
    for (size_t n = 0; n < nodes.size(); ++n) {
        EXPECT_TRUE(eventually([&] { return call(n, "svc").first == 404; })) << "node " << n + 1;
    }
}

TEST_F(ClusterRegistry, AKeyMadeThroughOneNodeWorksOnEveryNodeUntilDeletedThroughAnother) {
    ASSERT_EQ(nodes[0]->deploy("hello", function_library("hello")).exit_code, 0);
    const ProcessResult created = nodes[0]->cli({"keys", "create", "caller", "--function", "hello", "--json"});
    ASSERT_EQ(created.exit_code, 0) << created;
    const nlohmann::json key = nlohmann::json::parse(created.out);
    const std::string credential =
        key["access_key_id"].get<std::string>() + ":" + key["secret_access_key"].get<std::string>();
    for (size_t n = 0; n < nodes.size(); ++n) {
        EXPECT_TRUE(eventually([&] {
            return nodes[n]->http(credential).request("POST", "/v1/functions/hello/invoke", "key").status == 200;
        })) << "node " << n + 1;
        EXPECT_EQ(nodes[n]->http(credential).request("GET", "/v1/keys").status, 403) << "an invoke key, everywhere";
    }
    const ProcessResult listed = nodes[2]->cli({"keys", "list", "--json"});
    ASSERT_EQ(listed.exit_code, 0) << listed;
    EXPECT_NE(listed.out.find(key["access_key_id"].get<std::string>()), std::string::npos) << listed.out;
    EXPECT_EQ(listed.out.find(key["secret_access_key"].get<std::string>()), std::string::npos) << "never listed";

    const ProcessResult again = nodes[1]->cli({"keys", "create", "caller"});
    EXPECT_EQ(again.exit_code, 1) << "409: the name is the cluster's; " << again;
    EXPECT_NE(again.err.find("exists"), std::string::npos) << again;
    const ProcessResult deleted = nodes[1]->cli({"keys", "delete", "caller"});
    ASSERT_EQ(deleted.exit_code, 0) << deleted;
    for (size_t n = 0; n < nodes.size(); ++n) {
        EXPECT_TRUE(eventually([&] {
            return nodes[n]->http(credential).request("POST", "/v1/functions/hello/invoke", "key").status == 401;
        })) << "node " << n + 1;
    }
}

}  // namespace
