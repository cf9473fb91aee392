// The gateway's CORS policy by path family (gateway/cors.h).
#include <gtest/gtest.h>

#include "gateway/cors.h"

namespace sofaas {
namespace {

IncomingRequest preflight_request(std::string path, std::string origin) {
    IncomingRequest request;
    request.method = "OPTIONS";
    request.target = std::move(path);
    request.headers = {{"Origin", std::move(origin)}, {"Access-Control-Request-Method", "POST"}};
    return request;
}

std::string header_of(const HttpResponseParts& response, std::string_view name) {
    for (const auto& [key, value] : response.headers) {
        if (iequals(key, name)) return value;
    }
    return "";
}

TEST(CorsPolicy, FamiliesAreTheLambdaApiFunctionUrlsAuthAndSts) {
    EXPECT_EQ(cors_family_of("/2015-03-31/functions/f/invocations"), CorsFamily::lambda_api);
    EXPECT_EQ(cors_family_of("/fn/hello/x"), CorsFamily::function_url);
    EXPECT_EQ(cors_family_of("/auth/pool/signin"), CorsFamily::auth);
    EXPECT_EQ(cors_family_of("/sts"), CorsFamily::sts);
    EXPECT_EQ(cors_family_of("/authors"), CorsFamily::none);
    EXPECT_EQ(cors_family_of("/fnord"), CorsFamily::none);
    EXPECT_EQ(cors_family_of("/v1/functions"), CorsFamily::none);
    EXPECT_EQ(cors_family_of("/"), CorsFamily::none);
}

TEST(CorsPolicy, DoesNothingWithoutAllowedOrigins) {
    const CorsPolicy policy{CorsSettings{}};
    EXPECT_FALSE(policy.preflight(preflight_request("/fn/hello", "https://a.test")));
    HttpResponseParts response;
    response.headers = {{"Access-Control-Allow-Origin", "*"}};  // the function's own
    policy.apply(preflight_request("/fn/hello", "https://a.test"), response);
    EXPECT_EQ(header_of(response, "Access-Control-Allow-Origin"), "*");
}

TEST(CorsPolicy, AnswersListedOriginsAndRefusesOthersWithoutHeaders) {
    const CorsPolicy policy{CorsSettings{{"https://a.test"}, 60}};
    const auto allowed = policy.preflight(preflight_request("/fn/hello", "https://a.test"));
    ASSERT_TRUE(allowed);
    EXPECT_EQ(allowed->status, 204);
    EXPECT_EQ(header_of(*allowed, "Access-Control-Allow-Origin"), "https://a.test");
    EXPECT_EQ(header_of(*allowed, "Access-Control-Max-Age"), "60");
    const auto refused = policy.preflight(preflight_request("/fn/hello", "https://b.test"));
    ASSERT_TRUE(refused);
    EXPECT_EQ(refused->status, 403);
    EXPECT_EQ(header_of(*refused, "Access-Control-Allow-Origin"), "");
    EXPECT_FALSE(policy.preflight(preflight_request("/v1/functions", "https://a.test")));
    IncomingRequest get = preflight_request("/fn/hello", "https://a.test");
    get.method = "GET";
    EXPECT_FALSE(policy.preflight(get)) << "only OPTIONS with Access-Control-Request-Method is a preflight";
}

TEST(CorsPolicy, ReplacesWhatAFunctionSetOnItsFamilies) {
    const CorsPolicy policy{CorsSettings{{"https://a.test"}, 60}};
    IncomingRequest request = preflight_request("/fn/hello", "https://b.test");
    request.method = "POST";
    HttpResponseParts response;
    response.headers = {{"access-control-allow-origin", "*"}, {"Content-Type", "text/plain"}};
    policy.apply(request, response);
    EXPECT_EQ(header_of(response, "Access-Control-Allow-Origin"), "");
    EXPECT_EQ(header_of(response, "Content-Type"), "text/plain");
    request.headers = {{"Origin", "https://a.test"}};
    policy.apply(request, response);
    EXPECT_EQ(header_of(response, "Access-Control-Allow-Origin"), "https://a.test");
}

}  // namespace
}  // namespace sofaas
