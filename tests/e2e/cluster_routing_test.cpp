// The shipped haproxy configuration (config/haproxy.cfg), run by a real haproxy in front of
// three real sofaasd nodes: a function's calls stay on one node while it is up, and a node
// killed with SIGKILL is routed around without a failed call.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "cli/http_client.h"
#include "support/daemon_process.h"
#include "support/eventually.h"
#include "support/haproxy_process.h"

using namespace sofaas;
using namespace sofaas::testing;

namespace {

class ClusterRouting : public ::testing::Test {
protected:
    void SetUp() override {
        std::vector<std::string> addresses;
        for (int i = 0; i < 3; ++i) {
            nodes.push_back(std::make_unique<DaemonProcess>());
            nodes.back()->start();
            // Each node has its own registry here: the function is deployed to every one.
            for (const char* function : {"hello", "echo"}) {
                const ProcessResult deployed = nodes.back()->deploy(function, function_library(function));
                ASSERT_EQ(deployed.exit_code, 0) << deployed;
            }
            addresses.push_back(nodes.back()->endpoint().substr(std::string("http://").size()));
        }
        haproxy = std::make_unique<HaproxyProcess>(shipped_haproxy_config, addresses);
        haproxy->start();
    }

    // Which nodes ran `function`, by their billing records.
    std::vector<size_t> records_per_node(const std::string& function) const {
        std::vector<size_t> counts;
        for (const auto& node : nodes) counts.push_back(node->running() ? node->billing_records(function).size() : 0);
        return counts;
    }

    std::vector<std::unique_ptr<DaemonProcess>> nodes;
    std::unique_ptr<HaproxyProcess> haproxy;
};

size_t nodes_used(const std::vector<size_t>& counts) {
    size_t used = 0;
    for (size_t count : counts) used += count > 0;
    return used;
}

TEST_F(ClusterRouting, AFunctionsCallsStayOnOneNodeWhateverTheQualifierOrPath) {
    HttpClient client(haproxy->endpoint(), "");
    for (int i = 0; i < 20; ++i) {
        const HttpResponse answer = client.request("GET", i % 2 ? "/fn/hello" : "/fn/hello:$LATEST");
        ASSERT_EQ(answer.status, 200) << answer.body << haproxy->log();
        EXPECT_EQ(answer.body, "Hello, world!");
    }
    const std::vector<size_t> hello = records_per_node("hello");
    EXPECT_EQ(nodes_used(hello), 1u) << hello[0] << " " << hello[1] << " " << hello[2];
    EXPECT_EQ(hello[0] + hello[1] + hello[2], 20u);
    // The Lambda API names the function in another place of the path: the same node.
    const size_t expected = std::distance(hello.begin(), std::find_if(hello.begin(), hello.end(), [](size_t n) { return n > 0; }));
    HttpClient caller(haproxy->endpoint(), nodes[expected]->token());
    for (int i = 0; i < 4; ++i) {
        const HttpResponse answer = caller.request("POST", "/2015-03-31/functions/hello/invocations", "{}");
        ASSERT_EQ(answer.status, 200) << answer.body;
    }
    EXPECT_EQ(nodes_used(records_per_node("hello")), 1u);
}

TEST_F(ClusterRouting, AKilledNodeIsRoutedAroundWithoutAFailedCall) {
    HttpClient client(haproxy->endpoint(), "");
    client.set_timeout(std::chrono::seconds(10));
    for (int i = 0; i < 5; ++i) ASSERT_EQ(client.request("GET", "/fn/hello").status, 200);
    const std::vector<size_t> before = records_per_node("hello");
    ASSERT_EQ(nodes_used(before), 1u);
    const size_t victim = std::distance(before.begin(), std::find_if(before.begin(), before.end(), [](size_t n) { return n > 0; }));
    nodes[victim]->kill9();
    // Before haproxy's health check notices (2 failed checks, 1 s apart), calls still go to the
    // dead node, are refused, and are sent to another; after, they go to another at once.
    for (int i = 0; i < 30; ++i) {
        const HttpResponse answer = client.request("GET", "/fn/hello");
        ASSERT_EQ(answer.status, 200) << "call " << i << ": " << answer.body << "\n" << haproxy->log();
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    const std::vector<size_t> after = records_per_node("hello");
    EXPECT_EQ(after[victim], 0u);  // not running: not asked
    EXPECT_EQ(after[0] + after[1] + after[2], 30u);
    EXPECT_EQ(nodes_used(after), 1u) << "the victim's functions move to one node each";
    EXPECT_TRUE(eventually([&] {
        for (const auto& server : haproxy->servers()) {
            if (server.value("svname", "") == "node" + std::to_string(victim + 1)) return server.value("status", "").starts_with("DOWN");
        }
        return false;
    }));
}

}  // namespace
