#include "gateway/route_table.h"

#include <gtest/gtest.h>

namespace sofaas {
namespace {

FunctionVersionPtr function_with_routes(std::string name, std::vector<Route> routes) {
    auto version = std::make_shared<FunctionVersion>();
    version->spec.name = std::move(name);
    version->spec.version = 1;
    version->spec.routes = std::move(routes);
    return version;
}

RouteTable sample_table() {
    return RouteTable({
        function_with_routes("items", {{"GET", "/items/{id}"}, {"POST", "/items"}}),
        function_with_routes("special", {{"GET", "/items/special"}}),
        function_with_routes("files", {{"ANY", "/files/{path+}"}}),
        function_with_routes("plain", {}),
    });
}

TEST(RouteTable, MatchesAParameterAndDecodesIt) {
    const auto match = sample_table().match("GET", "/items/a%20b");
    ASSERT_TRUE(match);
    EXPECT_EQ(match->function, "items");
    EXPECT_EQ(match->route_key, "GET /items/{id}");
    EXPECT_EQ(match->path_parameters.at("id"), "a b");
}

TEST(RouteTable, LiteralSegmentBeatsParameter) {
    const auto match = sample_table().match("GET", "/items/special");
    ASSERT_TRUE(match);
    EXPECT_EQ(match->function, "special");
    EXPECT_TRUE(match->path_parameters.empty());
}

TEST(RouteTable, MethodMustMatch) {
    EXPECT_FALSE(sample_table().match("DELETE", "/items/7"));
    const auto post = sample_table().match("POST", "/items");
    ASSERT_TRUE(post);
    EXPECT_EQ(post->route_key, "POST /items");
}

TEST(RouteTable, AnyMatchesEveryMethodAndGreedyParameterTakesTheRest) {
    for (const char* method : {"GET", "PUT", "DELETE"}) {
        const auto match = sample_table().match(method, "/files/a/b/c.txt");
        ASSERT_TRUE(match) << method;
        EXPECT_EQ(match->function, "files");
        EXPECT_EQ(match->path_parameters.at("path"), "a/b/c.txt");
    }
    EXPECT_FALSE(sample_table().match("GET", "/files"));
}

TEST(RouteTable, ExactMethodBeatsAny) {
    const RouteTable table({function_with_routes("a", {{"ANY", "/x"}}), function_with_routes("b", {{"GET", "/x"}})});
    EXPECT_EQ(table.match("GET", "/x")->function, "b");
    EXPECT_EQ(table.match("POST", "/x")->function, "a");
}

TEST(RouteTable, FnPrefixReachesEveryFunctionWithAnyRest) {
    const RouteTable table = sample_table();
    for (const char* path : {"/fn/plain", "/fn/plain/", "/fn/plain/deep/er?x"}) {
        const auto match = table.match("PATCH", path);
        ASSERT_TRUE(match) << path;
        EXPECT_EQ(match->function, "plain");
        EXPECT_EQ(match->route_key, "$default");
    }
}

TEST(RouteTable, FnPrefixCarriesAQualifierAfterTheName) {
    const RouteTable table = sample_table();
    for (const auto& [path, qualifier] : {std::pair{"/fn/plain:live", "live"}, std::pair{"/fn/plain:3/deep", "3"},
                                          std::pair{"/fn/plain", ""}, std::pair{"/fn/plain:", ""}}) {
        const auto match = table.match("GET", path);
        ASSERT_TRUE(match) << path;
        EXPECT_EQ(match->function, "plain");
        EXPECT_EQ(match->qualifier, qualifier) << path;
    }
    EXPECT_FALSE(table.match("GET", "/fn/missing:live"));
    EXPECT_EQ(table.match("GET", "/items/1")->qualifier, "");  // custom routes run $LATEST
}

TEST(RouteTable, UnknownPathsAndFunctionsDoNotMatch) {
    const RouteTable table = sample_table();
    EXPECT_FALSE(table.match("GET", "/fn/missing"));
    EXPECT_FALSE(table.match("GET", "/fn"));
    EXPECT_FALSE(table.match("GET", "/nowhere"));
    EXPECT_FALSE(table.match("GET", "/items/1/extra"));
}

TEST(LiveRouteTable, RebuildSwapsTheTableReadersHoldTheirSnapshot) {
    LiveRouteTable live;
    const auto before = live.snapshot();
    EXPECT_FALSE(before->match("GET", "/fn/plain"));
    live.rebuild([] { return std::vector<FunctionVersionPtr>{function_with_routes("plain", {})}; });
    EXPECT_TRUE(live.snapshot()->match("GET", "/fn/plain"));
    EXPECT_FALSE(before->match("GET", "/fn/plain"));
}

}  // namespace
}  // namespace sofaas
