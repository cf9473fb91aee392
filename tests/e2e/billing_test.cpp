// The bill: one record per invocation with the fields of DESIGN.md, summaries that
// count what was called, and filters by function and time.

#include <algorithm>
#include <set>
#include <sstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/daemon_test.h"

namespace sofaas::testing {
namespace {

using nlohmann::json;

class Billing : public DaemonTest {};

const json* row_of(const json& billing, const std::string& function) {
    for (const auto& row : billing["functions"]) {
        if (row["function"] == function) return &row;
    }
    return nullptr;
}

TEST_F(Billing, SummaryCountsTheCallsMade) {
    ASSERT_EQ(daemon().deploy("billed", function_library("hello")).exit_code, 0);
    ASSERT_EQ(daemon().deploy("billed-errors", function_library("sleep")).exit_code, 0);
    for (int i = 0; i < 3; ++i) ASSERT_EQ(daemon().cli({"invoke", "billed"}).exit_code, 0);
    ASSERT_EQ(daemon().http("").request("GET", "/fn/billed").status, 200);
    ASSERT_EQ(daemon().cli({"invoke", "billed-errors", "--data", "oops"}).exit_code, 6);

    auto result = daemon().cli({"billing", "--json"});
    ASSERT_EQ(result.exit_code, 0) << result;
    json billing = json::parse(result.out);
    const json* billed = row_of(billing, "billed");
    ASSERT_NE(billed, nullptr) << billing.dump(2);
    EXPECT_EQ((*billed)["invocations"], 4);
    EXPECT_EQ((*billed)["errors"], 0);
    EXPECT_EQ((*billed)["cold_starts"], 1);
    EXPECT_GE((*billed)["billed_ms"].get<uint64_t>(), 4u);
    EXPECT_GT(std::stoull((*billed)["cost_pico_usd"].get<std::string>()), 0u);
    const json* errors = row_of(billing, "billed-errors");
    ASSERT_NE(errors, nullptr);
    EXPECT_EQ((*errors)["invocations"], 1);
    EXPECT_EQ((*errors)["errors"], 1);
    EXPECT_GE(billing["total"]["invocations"].get<uint64_t>(), 5u);

    auto table = daemon().cli({"billing", "--function", "billed"});
    ASSERT_EQ(table.exit_code, 0) << table;
    EXPECT_EQ(table.out.rfind("FUNCTION  INVOCATIONS  ERRORS  TIMEOUTS  COLD_STARTS  BILLED_MS  GB_SECONDS  COST_USD", 0),
              0u)
        << table.out;
    EXPECT_NE(table.out.find("\nbilled "), std::string::npos) << table.out;
    EXPECT_NE(table.out.find("\nTOTAL "), std::string::npos) << table.out;
    EXPECT_EQ(table.out.find("billed-errors"), std::string::npos) << table.out;
}

TEST_F(Billing, OneRecordPerInvocationWithTheDesignFields) {
    ASSERT_EQ(daemon().deploy("recorded", function_library("echo")).exit_code, 0);
    auto http = daemon().http();
    auto cold = http.request("POST", "/v1/functions/recorded/invoke", "one");
    auto warm = http.request("POST", "/v1/functions/recorded/invoke", "two");
    ASSERT_EQ(cold.status, 200);
    ASSERT_EQ(warm.status, 200);

    auto records = daemon().billing_records("recorded");
    ASSERT_EQ(records.size(), 2u);
    for (const char* field : {"request_id", "function", "version", "trigger", "start", "duration_ms", "billed_ms",
                              "memory_mb", "max_memory_used_mb", "status", "cost_usd"}) {
        EXPECT_TRUE(records[0].contains(field)) << field << " missing in " << records[0].dump();
        EXPECT_TRUE(records[1].contains(field)) << field << " missing in " << records[1].dump();
    }
    EXPECT_EQ(records[0]["request_id"], cold.header("X-Sofaas-Request-Id"));
    EXPECT_EQ(records[1]["request_id"], warm.header("X-Sofaas-Request-Id"));
    EXPECT_EQ(records[0]["function"], "recorded");
    EXPECT_EQ(records[0]["version"], 1);
    EXPECT_EQ(records[0]["trigger"], "invoke");
    EXPECT_EQ(records[0]["status"], "ok");
    EXPECT_EQ(records[0]["memory_mb"], 128);
    EXPECT_TRUE(records[0].contains("init_ms")) << "a cold start: " << records[0].dump();
    EXPECT_FALSE(records[1].contains("init_ms")) << "a warm start: " << records[1].dump();
    for (const auto& record : records) {
        EXPECT_GE(record["billed_ms"].get<uint64_t>(), 1u);
        EXPECT_GE(record["billed_ms"].get<double>(), record["duration_ms"].get<double>());
        EXPECT_GT(record["cost_pico_usd"].get<uint64_t>(), 0u);
        EXPECT_EQ(record["start"].get<std::string>().back(), 'Z');
    }
    EXPECT_EQ(std::to_string(records[1]["billed_ms"].get<uint64_t>()), warm.header("X-Sofaas-Billed-Ms"));
}

TEST_F(Billing, HttpCallsAreBilledAsHttp) {
    ASSERT_EQ(daemon().deploy("web", function_library("echo")).exit_code, 0);
    ASSERT_EQ(daemon().http("").request("GET", "/fn/web").status, 200);
    auto records = daemon().billing_records("web");
    ASSERT_EQ(records.size(), 1u);
    EXPECT_EQ(records[0]["trigger"], "http");
}

TEST_F(Billing, TimeFilters) {
    ASSERT_EQ(daemon().deploy("timed", function_library("hello")).exit_code, 0);
    ASSERT_EQ(daemon().cli({"invoke", "timed"}).exit_code, 0);
    auto recent = daemon().cli({"billing", "--json", "--function", "timed", "--since", "1h"});
    ASSERT_EQ(recent.exit_code, 0) << recent;
    EXPECT_EQ(json::parse(recent.out)["total"]["invocations"], 1);
    auto old = daemon().cli({"billing", "--json", "--function", "timed", "--until", "2000-01-01T00:00:00Z"});
    ASSERT_EQ(old.exit_code, 0) << old;
    EXPECT_EQ(json::parse(old.out)["total"]["invocations"], 0);

    auto bad = daemon().cli({"billing", "--since", "last tuesday"});
    EXPECT_EQ(bad.exit_code, 1) << bad;
    EXPECT_NE(bad.err.find("InvalidParameterValueException"), std::string::npos) << bad;
}

// The export streams every record of the range, deploy inits included, in both formats;
// a bad format is refused by the CLI and by the daemon.
TEST_F(Billing, ExportStreamsTheRecordsOfARangeAsCsvOrJsonLines) {
    ASSERT_EQ(daemon().deploy("exported", function_library("hello")).exit_code, 0);
    std::set<std::string> invoked;
    for (int i = 0; i < 5; ++i) {
        auto call = daemon().http().request("POST", "/v1/functions/exported/invoke", "x");
        ASSERT_EQ(call.status, 200);
        invoked.insert(call.header("X-Sofaas-Request-Id"));
    }
    auto jsonl = daemon().cli({"billing", "export", "--function", "exported", "--since", "1h", "--output", "jsonl"});
    ASSERT_EQ(jsonl.exit_code, 0) << jsonl;
    std::set<std::string> exported;
    std::string previous_start;
    std::istringstream lines(jsonl.out);
    int deploys = 0;
    for (std::string line; std::getline(lines, line);) {
        const json record = json::parse(line);
        EXPECT_EQ(record["function"], "exported");
        EXPECT_GE(record["start"].get<std::string>(), previous_start) << "by start";
        previous_start = record["start"].get<std::string>();
        if (record["trigger"] == "deploy") ++deploys;
        else exported.insert(record["request_id"].get<std::string>());
        EXPECT_TRUE(record["cost_usd"].is_string()) << line;
    }
    EXPECT_EQ(exported, invoked);
    EXPECT_EQ(deploys, 1) << "the deploy's trial init is a record too";

    auto csv = daemon().cli({"billing", "export", "--function", "exported", "--since", "1h"});
    ASSERT_EQ(csv.exit_code, 0) << csv;
    EXPECT_TRUE(csv.out.starts_with("request_id,function,version,trigger,attempt,start,duration_ms,init_ms,billed_ms,"
                                    "memory_mb,max_memory_used_mb,status,cost_usd,key_id,role,user_sub,schedule\n"))
        << csv.out;
    EXPECT_EQ(std::count(csv.out.begin(), csv.out.end(), '\n'), 1 + 5 + 1) << csv.out;

    auto none = daemon().cli({"billing", "export", "--until", "2000-01-01T00:00:00Z"});
    ASSERT_EQ(none.exit_code, 0) << none;
    EXPECT_EQ(std::count(none.out.begin(), none.out.end(), '\n'), 1) << "the header only: " << none.out;

    EXPECT_NE(daemon().cli({"billing", "export", "--output", "xml"}).exit_code, 0);
    auto bad = daemon().http().request("GET", "/v1/billing/export?format=xml");
    EXPECT_EQ(bad.status, 400) << bad.body;
    EXPECT_EQ(daemon().http().request("GET", "/v1/billing/export?since=yesterday-ish").status, 400);
    EXPECT_EQ(daemon().http("").request("GET", "/v1/billing/export").status, 401) << "an anonymous caller";
}

}  // namespace
}  // namespace sofaas::testing
