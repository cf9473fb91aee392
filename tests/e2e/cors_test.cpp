// CORS as a browser meets it: a page on https://app.example.test calls function URLs, the
// Lambda API and the auth endpoints of sofaasd. Preflights are answered by sofaasd itself,
// run nothing and bill nothing; a listed origin reads the answers; any other origin gets
// no CORS header; the control API and sites never carry one.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/curl.h"
#include "support/daemon_process.h"
#include "support/daemon_test.h"

namespace sofaas::testing {
namespace {

using nlohmann::json;

constexpr const char* app_origin = "https://app.example.test";

class Cors : public DaemonTest {
protected:
    static void SetUpTestSuite() {
        start_daemon(json{{"cors", {{"allowed_origins", {app_origin, "http://localhost:5173"}}, {"max_age_s", 300}}}});
        ASSERT_EQ(daemon().deploy("cors-hello", function_library("hello")).exit_code, 0);
    }

    static std::string url(const std::string& path) { return daemon().endpoint() + path; }

    // What the AWS SDK for JavaScript's Lambda client sends before an Invoke.
    static CurlAnswer preflight(const std::string& path, const std::string& origin) {
        return curl(url(path), {"-X", "OPTIONS", "-H", "Origin: " + origin, "-H", "Access-Control-Request-Method: POST",
                                "-H",
                                "Access-Control-Request-Headers: amz-sdk-invocation-id,amz-sdk-request,authorization,"
                                "content-type,x-amz-content-sha256,x-amz-date,x-amz-security-token,x-amz-user-agent,"
                                "x-amz-invocation-type,x-amz-log-type,x-amz-client-context"});
    }
};

TEST_F(Cors, PreflightsAreAnsweredBySofaasdAndBillNothing) {
    const size_t records_before = daemon().billing_records("cors-hello").size();
    for (const std::string path :
         {"/fn/cors-hello", "/2015-03-31/functions/cors-hello/invocations", "/auth/pool/signin", "/fn/missing-function"}) {
        const CurlAnswer answer = preflight(path, app_origin);
        EXPECT_EQ(answer.status, 204) << path << ": " << answer.body;
        EXPECT_EQ(answer.header("Access-Control-Allow-Origin"), app_origin) << path;
        EXPECT_EQ(answer.header("Access-Control-Max-Age"), "300");
        const std::string allowed = answer.header("Access-Control-Allow-Headers");
        for (const char* header : {"authorization", "x-amz-date", "x-amz-security-token", "x-amz-content-sha256",
                                   "x-amz-user-agent", "amz-sdk-invocation-id", "amz-sdk-request", "content-type",
                                   "x-amz-invocation-type", "x-amz-log-type", "x-amz-client-context"}) {
            EXPECT_NE(allowed.find(header), std::string::npos) << header << " in " << allowed;
        }
        EXPECT_NE(answer.header("Access-Control-Allow-Methods").find("POST"), std::string::npos);
    }
    EXPECT_EQ(preflight("/fn/cors-hello", "http://localhost:5173").header("Access-Control-Allow-Origin"),
              "http://localhost:5173");
    EXPECT_EQ(daemon().billing_records("cors-hello").size(), records_before) << "a preflight ran the function";
}

TEST_F(Cors, AnswersToAListedOriginSaySoAndExposeWhatTheSdkReads) {
    const CurlAnswer call = curl(url("/fn/cors-hello"), {"-X", "POST", "-H", std::string("Origin: ") + app_origin});
    EXPECT_EQ(call.status, 200) << call.body;
    EXPECT_EQ(call.header("Access-Control-Allow-Origin"), app_origin);
    EXPECT_NE(call.header("Vary").find("Origin"), std::string::npos);
    const std::string exposed = call.header("Access-Control-Expose-Headers");
    for (const char* header : {"x-amz-function-error", "x-amz-log-result", "x-amz-executed-version", "x-amzn-requestid"}) {
        EXPECT_NE(exposed.find(header), std::string::npos) << header << " in " << exposed;
    }
    // An unsigned Lambda API call is refused, and the page can read why.
    const CurlAnswer refused = curl(url("/2015-03-31/functions/cors-hello/invocations"),
                                    {"-X", "POST", "-H", std::string("Origin: ") + app_origin});
    EXPECT_EQ(refused.status, 403);
    EXPECT_EQ(refused.header("Access-Control-Allow-Origin"), app_origin);
}

TEST_F(Cors, AnyOtherOriginGetsNoCorsHeader) {
    const CurlAnswer refused = preflight("/fn/cors-hello", "https://evil.example.test");
    EXPECT_EQ(refused.status, 403);
    EXPECT_FALSE(refused.has_header_starting("Access-Control-")) << refused.body;
    const CurlAnswer call = curl(url("/fn/cors-hello"), {"-X", "POST", "-H", "Origin: https://evil.example.test"});
    EXPECT_EQ(call.status, 200);
    EXPECT_FALSE(call.has_header_starting("Access-Control-"));
    const CurlAnswer lookalike = curl(url("/fn/cors-hello"), {"-X", "POST", "-H", "Origin: https://app.example.test.evil.test"});
    EXPECT_FALSE(lookalike.has_header_starting("Access-Control-"));
    const CurlAnswer no_origin = curl(url("/fn/cors-hello"), {"-X", "POST"});
    EXPECT_FALSE(no_origin.has_header_starting("Access-Control-"));
}

TEST_F(Cors, TheControlApiIsNoCorsFamily) {
    const CurlAnswer preflighted = preflight("/v1/functions", app_origin);
    EXPECT_EQ(preflighted.status, 401) << "answered by the control API, not as a preflight";
    EXPECT_FALSE(preflighted.has_header_starting("Access-Control-"));
    const CurlAnswer listed = curl(url("/v1/functions"), {"-H", "Authorization: Bearer " + daemon().token(), "-H",
                                                          std::string("Origin: ") + app_origin});
    EXPECT_EQ(listed.status, 200);
    EXPECT_FALSE(listed.has_header_starting("Access-Control-"));
}

}  // namespace
}  // namespace sofaas::testing
