// sofaasd with "store": a PostgreSQL URL: asynchronous invocations and schedules kept in
// the database, two daemons sharing it as the nodes of a cluster (each event run once, each
// due time fired once across both), and a store it cannot use refused at start.
#include <chrono>
#include <fstream>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "store/postgres_connection.h"
#include "support/daemon_process.h"
#include "support/eventually.h"
#include "support/postgres_server.h"
#include "support/programs.h"

namespace sofaas::testing {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

json postgres_store(const std::string& url) { return {{"store", url}, {"events", {{"retry_delay_s", 1}}}}; }

HttpResponse enqueue(const DaemonProcess& daemon, const std::string& function, const std::string& payload) {
    return daemon.http().request("POST", "/v1/functions/" + function + "/invoke", payload,
                                 {{"X-Sofaas-Invocation-Type", "Event"}});
}

// The "time" of every scheduled event a node's print_event printed.
std::vector<std::string> scheduled_times(const DaemonProcess& daemon, const std::string& function) {
    auto response = daemon.http().request("GET", "/v1/functions/" + function + "/logs?tail=10000");
    std::vector<std::string> times;
    if (response.status != 200) return times;
    const json body = json::parse(response.body);  // kept: the loop reads into it
    for (const json& line : body["lines"]) {
        const std::string message = line.value("message", "");
        if (message.rfind("event: ", 0) != 0) continue;
        const json event = json::parse(message.substr(7), nullptr, false);
        if (event.is_object() && event.contains("time")) times.push_back(event["time"]);
    }
    return times;
}

TEST(ClusterStore, AnAsyncInvocationAndAScheduleRunFromPostgres) {
    const std::string url = PostgresServer::shared().create_database();
    DaemonProcess daemon(postgres_store(url));
    daemon.start();
    ASSERT_EQ(daemon.deploy("printer", fixture_library("print_event")).exit_code, 0);

    const HttpResponse queued = enqueue(daemon, "printer", R"({"order": 17})");
    ASSERT_EQ(queued.status, 202) << queued.body;
    const std::string id = json::parse(queued.body)["request_id"];
    ASSERT_TRUE(eventually([&] { return daemon.billing_records("printer").size() == 1; }));
    EXPECT_EQ(daemon.billing_records("printer").at(0)["request_id"], id);
    EXPECT_EQ(daemon.billing_records("printer").at(0)["trigger"], "async");

    auto added = daemon.cli({"schedule", "add", "printer", "--every", "rate(1 second)", "--id", "tick"});
    ASSERT_EQ(added.exit_code, 0) << added;
    ASSERT_TRUE(eventually([&] { return scheduled_times(daemon, "printer").size() >= 2; }, 10s))
        << daemon.cli({"logs", "printer", "--tail", "12"}).out;

    // The queue and the schedule are the database's, not a file's of the data directory.
    EXPECT_FALSE(std::filesystem::exists(daemon.data_dir() / "events.db"));
    PostgresConnection database(url);
    EXPECT_GE(database.run("SELECT fired FROM schedules WHERE schedule_id = 'tick'").integer(0, 0), 2);
    EXPECT_EQ(database.run("SELECT count(*) FROM events WHERE request_id = $1", {id}).integer(0, 0), 0);
}

TEST(ClusterStore, TwoNodesRunEachEventOnceAndFireEachDueTimeOnce) {
    const std::string url = PostgresServer::shared().create_database();
    DaemonProcess node_a(postgres_store(url));
    DaemonProcess node_b(postgres_store(url));
    node_a.start();
    node_b.start();
    // The registry is shared: deployed through one node, served by both.
    ASSERT_EQ(node_a.deploy("printer", fixture_library("print_event")).exit_code, 0);
    ASSERT_TRUE(eventually([&] { return node_b.http().request("GET", "/v1/functions/printer").status == 200; }));
    auto added = node_a.cli({"schedule", "add", "printer", "--every", "rate(1 second)", "--id", "tick"});
    ASSERT_EQ(added.exit_code, 0) << added;

    std::set<std::string> queued_ids;
    for (int i = 0; i < 40; ++i) {
        const HttpResponse queued = enqueue(i % 2 ? node_b : node_a, "printer", "event " + std::to_string(i));
        ASSERT_EQ(queued.status, 202) << queued.body;
        queued_ids.insert(json::parse(queued.body)["request_id"].get<std::string>());
    }
    std::this_thread::sleep_for(6s);

    // Runs are counted from both nodes' ledgers.
    auto async_runs = [&] {
        std::vector<std::string> ids;
        for (DaemonProcess* node : {&node_a, &node_b}) {
            for (const json& record : node->billing_records("printer")) {
                if (record["trigger"] == "async") ids.push_back(record["request_id"]);
            }
        }
        return ids;
    };
    ASSERT_TRUE(eventually([&] { return async_runs().size() >= queued_ids.size(); }));
    const std::vector<std::string> ran = async_runs();
    EXPECT_EQ(std::set<std::string>(ran.begin(), ran.end()), queued_ids);
    EXPECT_EQ(ran.size(), queued_ids.size()) << "an event ran on both nodes";

    std::vector<std::string> fired = scheduled_times(node_a, "printer");
    const std::vector<std::string> fired_b = scheduled_times(node_b, "printer");
    fired.insert(fired.end(), fired_b.begin(), fired_b.end());
    const std::set<std::string> distinct(fired.begin(), fired.end());
    EXPECT_GE(distinct.size(), 4u);
    EXPECT_EQ(fired.size(), distinct.size()) << "a due time fired on both nodes";
}

TEST(ClusterStore, AStoreItCannotUseStopsTheDaemonWithAClearError) {
    const std::filesystem::path sofaasd = programs_dir() / "sofaasd";
    TempDir dir("sofaasd-store");
    auto run_with = [&](const std::string& store) {
        std::ofstream(dir / "sofaasd.json") << json{{"store", store}}.dump();
        return run_process(sofaasd, {"--config", (dir / "sofaasd.json").string(), "--listen", "127.0.0.1:0",
                                     "--data-dir", (dir / "data").string()},
                           {{"SOFAAS_ADMIN_TOKEN", "test-admin-token-0123456789"}}, {}, 30s);
    };

    const ProcessResult not_a_store = run_with("mysql://sofaas:s3cret@localhost/events");
    EXPECT_EQ(not_a_store.exit_code, 2) << not_a_store;
    EXPECT_NE(not_a_store.err.find("store: must be \"sqlite\" or a postgresql:// URL"), std::string::npos)
        << not_a_store;
    EXPECT_EQ(not_a_store.err.find("s3cret"), std::string::npos) << not_a_store;

    const ProcessResult unreachable = run_with("postgresql://sofaas:s3cret@/events?host=/nonexistent&connect_timeout=2");
    EXPECT_EQ(unreachable.exit_code, 1) << unreachable;
    EXPECT_NE(unreachable.err.find("cannot connect to postgresql"), std::string::npos) << unreachable;
    EXPECT_EQ(unreachable.err.find("s3cret"), std::string::npos) << unreachable;

    const ProcessResult no_database = run_with(PostgresServer::shared().url("no_such_database"));
    EXPECT_EQ(no_database.exit_code, 1) << no_database;
    EXPECT_NE(no_database.err.find("no_such_database"), std::string::npos) << no_database;
}

}  // namespace
}  // namespace sofaas::testing
