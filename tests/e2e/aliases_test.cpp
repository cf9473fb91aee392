// Aliases and settings updates: an alias names a version (or splits the calls between two),
// invocations and function URLs go through it, and `sofaas config` makes a new version of
// the same code with new settings.
#include <set>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/daemon_process.h"
#include "support/daemon_test.h"

namespace sofaas::testing {
namespace {

using nlohmann::json;

class Aliases : public DaemonTest {
protected:
    // Version 1 says "Hello, X!", version 2 "Hello from C, X!".
    void deploy_two_versions(const std::string& name) {
        ASSERT_EQ(daemon().deploy(name, function_library("hello")).exit_code, 0);
        ASSERT_EQ(daemon().deploy(name, function_library("c-hello")).exit_code, 0);
    }
};

TEST_F(Aliases, InvokeThroughAnAlias) {
    deploy_two_versions("greeter");
    auto set = daemon().cli({"alias", "set", "greeter", "live", "1", "--description", "what users get"});
    ASSERT_EQ(set.exit_code, 0) << set;
    EXPECT_EQ(set.out, "greeter:live -> version 1\n");

    auto invoked = daemon().cli({"invoke", "greeter", "--qualifier", "live", "--data", "alias"});
    EXPECT_EQ(invoked.out, "Hello, alias!") << invoked;
    auto latest = daemon().cli({"invoke", "greeter", "--data", "latest"});
    EXPECT_EQ(latest.out, "Hello from C, latest!") << latest;

    auto http = daemon().http();
    for (const auto& [path, version] : {std::pair{"/fn/greeter:live", "1"}, std::pair{"/fn/greeter:live/deeper", "1"},
                                        std::pair{"/fn/greeter:2", "2"}, std::pair{"/fn/greeter", "2"}}) {
        auto response = http.request("GET", path);
        EXPECT_EQ(response.status, 200) << path << " " << response.body;
        EXPECT_EQ(response.header("X-Sofaas-Version"), version) << path;
    }
    EXPECT_EQ(http.request("POST", "/v1/functions/greeter/invoke?qualifier=%24LATEST", "x").header("X-Sofaas-Version"),
              "2");

    auto listed = daemon().cli({"alias", "list", "greeter", "--json"});
    ASSERT_EQ(listed.exit_code, 0) << listed;
    const json aliases = json::parse(listed.out)["aliases"];
    ASSERT_EQ(aliases.size(), 1u);
    EXPECT_EQ(aliases[0], (json{{"name", "live"},
                                {"function", "greeter"},
                                {"version", 1},
                                {"weights", json::object()},
                                {"description", "what users get"},
                                {"arn", "arn:aws:lambda:us-east-1:000000000000:function:greeter:live"}}));

    // Moving the alias moves its traffic; the billing records say which version ran.
    auto moved = http.request("PUT", "/v1/functions/greeter/aliases/live", R"({"version": 2})");
    EXPECT_EQ(moved.status, 200) << moved.body;
    EXPECT_EQ(daemon().cli({"invoke", "greeter", "--qualifier", "live", "--data", "moved"}).out, "Hello from C, moved!");
    const auto records = daemon().billing_records("greeter");
    ASSERT_FALSE(records.empty());
    EXPECT_EQ(records.back()["version"], 2);
    EXPECT_EQ(records.front()["version"], 1);

    auto deleted = daemon().cli({"alias", "delete", "greeter", "live"});
    EXPECT_EQ(deleted.out, "deleted alias live\n") << deleted;
    EXPECT_EQ(http.request("GET", "/fn/greeter:live").status, 404);
}

TEST_F(Aliases, WeightsSplitTheCalls) {
    deploy_two_versions("canary");
    auto set = daemon().cli({"alias", "set", "canary", "half", "1", "--weight", "2=0.5"});
    ASSERT_EQ(set.exit_code, 0) << set;
    EXPECT_EQ(set.out, "canary:half -> version 1 (weights 2=0.5)\n");
    auto http = daemon().http();
    for (int i = 0; i < 200; ++i) {
        ASSERT_EQ(http.request("POST", "/v1/functions/canary/invoke?qualifier=half", "x").status, 200);
    }
    std::multiset<int> versions;
    for (const json& record : daemon().billing_records("canary")) versions.insert(record["version"].get<int>());
    EXPECT_EQ(versions.size(), 200u);
    // Each side has about 100 of 200; fewer than 50 is 7 sigma away.
    EXPECT_GT(versions.count(1), 50u);
    EXPECT_GT(versions.count(2), 50u);
}

TEST_F(Aliases, ConfigMakesANewVersionOfTheSameCode) {
    deploy_two_versions("tuned");
    const json before = json::parse(daemon().http().request("GET", "/v1/functions/tuned").body)["function"];

    auto configured = daemon().cli({"config", "tuned", "--memory", "256", "--env", "MODE=fast"});
    ASSERT_EQ(configured.exit_code, 0) << configured;
    EXPECT_EQ(configured.out, "tuned version 3\n");
    const json after = json::parse(daemon().http().request("GET", "/v1/functions/tuned").body)["function"];
    EXPECT_EQ(after["version"], 3);
    EXPECT_EQ(after["sha256"], before["sha256"]);
    EXPECT_EQ(after["size_bytes"], before["size_bytes"]);
    EXPECT_EQ(after["memory_mb"], 256);
    EXPECT_EQ(after["timeout_s"], before["timeout_s"]);

    EXPECT_EQ(daemon().cli({"invoke", "tuned", "--data", "v3"}).out, "Hello from C, v3!");
    const json record = daemon().billing_records("tuned").back();
    EXPECT_EQ(record["version"], 3);
    EXPECT_EQ(record["memory_mb"], 256);

    // A handler the library lacks is found out before it becomes a version.
    auto bad_handler = daemon().http().request("PATCH", "/v1/functions/tuned?handler=no_such_symbol");
    EXPECT_EQ(bad_handler.status, 400) << bad_handler.body;
    EXPECT_EQ(json::parse(bad_handler.body)["errorType"], "InvalidLibraryException");
    auto bad_memory = daemon().cli({"config", "tuned", "--memory", "1"});
    EXPECT_EQ(bad_memory.exit_code, 1);
    EXPECT_NE(bad_memory.err.find("memory"), std::string::npos) << bad_memory;
    EXPECT_EQ(json::parse(daemon().http().request("GET", "/v1/functions/tuned").body)["versions"],
              json::array({1, 2, 3}));

    auto header_update = daemon().http().request("PATCH", "/v1/functions/tuned", "", {{"X-Sofaas-Timeout", "9"}});
    EXPECT_EQ(header_update.status, 200) << header_update.body;
    EXPECT_EQ(json::parse(header_update.body)["timeout_s"], 9);
    EXPECT_EQ(json::parse(header_update.body)["memory_mb"], 256);
    EXPECT_EQ(daemon().http().request("PATCH", "/v1/functions/nobody?memory=256").status, 404);
}

TEST_F(Aliases, BadNamesAndMissingVersionsAreRefused) {
    deploy_two_versions("strict");
    auto http = daemon().http();
    const auto put = [&](const std::string& alias, const std::string& body) {
        return http.request("PUT", "/v1/functions/strict/aliases/" + alias, body).status;
    };
    EXPECT_EQ(put("123", R"({"version": 1})"), 400);
    EXPECT_EQ(put("bad%20name", R"({"version": 1})"), 400);
    EXPECT_EQ(put(std::string(129, 'a'), R"({"version": 1})"), 400);
    EXPECT_EQ(put("live", R"({"version": 1, "weights": {"2": 1.5}})"), 400);
    EXPECT_EQ(put("live", R"({"version": 1, "weights": {"1": 0.5}})"), 400);
    EXPECT_EQ(put("live", R"({"version": 0})"), 400);
    EXPECT_EQ(put("live", "not json"), 400);
    EXPECT_EQ(put("live", R"({"version": 9})"), 404);
    EXPECT_EQ(put("live", R"({"version": 1, "weights": {"9": 0.1}})"), 404);
    EXPECT_EQ(http.request("PUT", "/v1/functions/nobody/aliases/live", R"({"version": 1})").status, 404);
    EXPECT_EQ(http.request("GET", "/v1/functions/strict/aliases/live").status, 404);
    EXPECT_EQ(http.request("DELETE", "/v1/functions/strict/aliases/live").status, 404);
    EXPECT_EQ(json::parse(http.request("GET", "/v1/functions/strict/aliases").body)["aliases"], json::array());

    EXPECT_EQ(put("live", R"({"version": 1})"), 201);
    EXPECT_EQ(put("live", R"({"version": 2})"), 200);
    EXPECT_EQ(http.request("POST", "/v1/functions/strict/invoke?qualifier=nope", "x").status, 404);
    EXPECT_EQ(http.request("POST", "/v1/functions/strict/invoke?qualifier=7", "x").status, 404);
    EXPECT_EQ(http.request("POST", "/v1/functions/strict/invoke?qualifier=a%2Fb", "x").status, 400);
    EXPECT_EQ(http.request("GET", "/fn/strict:nope").status, 404);
    EXPECT_EQ(http.request("GET", "/fn/nobody:live").status, 404);
    auto cli = daemon().cli({"alias", "set", "strict", "other", "9"});
    EXPECT_EQ(cli.exit_code, 3);
    EXPECT_NE(cli.err.find("ResourceNotFoundException"), std::string::npos) << cli;
}

TEST_F(Aliases, AnInvokeKeyInvokesThroughAliasesButManagesNone) {
    deploy_two_versions("guarded");
    ASSERT_EQ(daemon().cli({"alias", "set", "guarded", "live", "1"}).exit_code, 0);
    auto created = daemon().cli({"keys", "create", "guarded-caller", "--function", "guarded", "--json"});
    ASSERT_EQ(created.exit_code, 0) << created;
    const json key = json::parse(created.out);
    auto as_key = daemon().http(key["access_key_id"].get<std::string>() + ":" + key["secret_access_key"].get<std::string>());

    auto invoked = as_key.request("POST", "/v1/functions/guarded/invoke?qualifier=live", "key");
    EXPECT_EQ(invoked.status, 200) << invoked.body;
    EXPECT_EQ(invoked.body, "Hello, key!");
    EXPECT_EQ(as_key.request("GET", "/fn/guarded:live").status, 200);
    EXPECT_EQ(as_key.request("PUT", "/v1/functions/guarded/aliases/live", R"({"version": 2})").status, 403);
    EXPECT_EQ(as_key.request("DELETE", "/v1/functions/guarded/aliases/live").status, 403);
    EXPECT_EQ(as_key.request("GET", "/v1/functions/guarded/aliases").status, 403);
    EXPECT_EQ(as_key.request("PATCH", "/v1/functions/guarded?memory=256").status, 403);
    EXPECT_EQ(json::parse(daemon().http().request("GET", "/v1/functions/guarded/aliases/live").body)["version"], 1);
}

}  // namespace
}  // namespace sofaas::testing
