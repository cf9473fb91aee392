// A small REST API behind custom routes: deploy http-api with --route, call it with
// plain HTTP, get status codes and JSON back.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/daemon_test.h"

namespace sofaas::testing {
namespace {

using nlohmann::json;

class HttpRoutes : public DaemonTest {
protected:
    static void SetUpTestSuite() {
        DaemonTest::SetUpTestSuite();
        auto result = daemon().deploy("http-api", function_library("http-api"),
                                      {"--route", "GET /items/{id}", "--route", "POST /items"});
        ASSERT_EQ(result.exit_code, 0) << result;
    }
};

TEST_F(HttpRoutes, GetItemById) {
    auto response = daemon().http("").request("GET", "/items/42");
    ASSERT_EQ(response.status, 200) << response.body;
    EXPECT_EQ(response.header("Content-Type"), "application/json");
    EXPECT_EQ(json::parse(response.body), json({{"id", "42"}, {"name", "item 42"}}));
}

TEST_F(HttpRoutes, PostCreatesItem) {
    auto response = daemon().http("").request("POST", "/items", R"({"name":"pen"})",
                                              {{"Content-Type", "application/json"}});
    ASSERT_EQ(response.status, 201) << response.body;
    json item = json::parse(response.body);
    EXPECT_EQ(item["name"], "pen");
    // The function uses its request id as the item id.
    EXPECT_EQ(item["id"], response.header("X-Sofaas-Request-Id"));
}

TEST_F(HttpRoutes, FunctionChosenStatusCodesPassThrough) {
    auto bad = daemon().http("").request("POST", "/items", "not json");
    EXPECT_EQ(bad.status, 400) << bad.body;
    EXPECT_EQ(json::parse(bad.body)["error"], "the body is not valid JSON");
}

// The router's own refusal, told apart from a function's 404 by a function that answers
// every request it gets (echo) and by the error it names.
bool refused_by_router(const HttpResponse& response, const std::string& method, const std::string& path) {
    if (response.status != 404) return false;
    const json error = json::parse(response.body, nullptr, false);
    return error.is_object() && error.value("errorType", "") == "ResourceNotFoundException" &&
           error.value("errorMessage", "") == "No route for " + method + " " + path;
}

TEST_F(HttpRoutes, UnroutedPathsAndMethodsAreRefusedByTheRouter) {
    ASSERT_EQ(daemon().deploy("answers-all", function_library("echo"), {"--route", "GET /things/{id}"}).exit_code, 0);
    auto http = daemon().http("");
    EXPECT_EQ(http.request("GET", "/things/42").status, 200);  // echo answers whatever reaches it
    EXPECT_TRUE(refused_by_router(http.request("GET", "/nowhere"), "GET", "/nowhere"));
    auto wrong_method = http.request("DELETE", "/things/42");
    EXPECT_TRUE(refused_by_router(wrong_method, "DELETE", "/things/42")) << wrong_method.status << " " << wrong_method.body;
    EXPECT_TRUE(refused_by_router(http.request("GET", "/things/42/more"), "GET", "/things/42/more"));
}

TEST_F(HttpRoutes, FunctionUrlReachesTheSameFunction) {
    auto response = daemon().http("").request("GET", "/fn/http-api/items/7");
    ASSERT_EQ(response.status, 200) << response.body;
    EXPECT_EQ(json::parse(response.body)["name"], "item 7");
}

TEST_F(HttpRoutes, RoutesSurviveANewVersionAndGoWithDelete) {
    ASSERT_EQ(daemon().deploy("shop", function_library("http-api"), {"--route", "GET /shop/items/{id}"}).exit_code, 0);
    EXPECT_EQ(daemon().http("").request("GET", "/shop/items/1").status, 200);
    ASSERT_EQ(daemon().deploy("shop", function_library("http-api"), {"--route", "GET /store/items/{id}"}).exit_code, 0);
    EXPECT_EQ(daemon().http("").request("GET", "/store/items/1").status, 200);
    // the route went with version 1
    EXPECT_TRUE(refused_by_router(daemon().http("").request("GET", "/shop/items/1"), "GET", "/shop/items/1"));
    ASSERT_EQ(daemon().cli({"delete", "shop"}).exit_code, 0);
    EXPECT_TRUE(refused_by_router(daemon().http("").request("GET", "/store/items/1"), "GET", "/store/items/1"));
}

}  // namespace
}  // namespace sofaas::testing
