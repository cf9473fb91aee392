// Function endpoints seen by anyone on the network: /fn/NAME and custom routes need no
// token, so what they answer is all an anonymous caller learns. A function's own response
// passes, less the platform's headers; a failure is told as API Gateway tells it; what went
// wrong is in the function's log, in the ledger and on the control API, and with
// --expose-errors on the endpoint too.
#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/daemon_test.h"
#include "support/eventually.h"

namespace sofaas::testing {
namespace {

using nlohmann::json;

class PublicEndpoints : public DaemonTest {
protected:
    // The function answers with `output` (tests/fixtures/responds_with.cpp).
    static HttpResponse call(const std::string& path, const std::string& output) {
        return daemon().http("").request("POST", path, output, {{"Content-Type", "application/json"}});
    }
    static json single_record(const std::string& function) {
        const auto records = daemon().billing_records(function);
        EXPECT_EQ(records.size(), 1u) << function;
        return records.empty() ? json::object() : records.back();
    }
};

// Every X-Sofaas-* header of a response, the request id aside.
std::vector<std::string> platform_headers(const HttpResponse& response) {
    std::vector<std::string> names;
    for (const auto& [name, value] : response.headers) {
        std::string lower = name;
        std::ranges::transform(lower, lower.begin(), [](unsigned char c) { return std::tolower(c); });
        if (lower.starts_with("x-sofaas-") && lower != "x-sofaas-request-id") names.push_back(name + ": " + value);
    }
    return names;
}

size_t count_of(const HttpResponse& response, const std::string& name) {
    return std::ranges::count_if(response.headers, [&](const auto& header) {
        return std::equal(header.first.begin(), header.first.end(), name.begin(), name.end(),
                          [](char a, char b) { return std::tolower(a) == std::tolower(b); });
    });
}

const json generic_502 = {{"message", "Internal Server Error"}};

TEST_F(PublicEndpoints, ASuccessfulResponseCarriesOnlyTheRequestIdOfThePlatform) {
    ASSERT_EQ(daemon().deploy("quiet", fixture_library("responds_with"), {"--route", "POST /quiet"}).exit_code, 0);
    for (const std::string path : {"/fn/quiet", "/quiet"}) {
        auto response =
            call(path, R"({"statusCode":201,"headers":{"X-Mine":"kept","X-Sofaas-Billed-Ms":"0"},"body":"made"})");
        ASSERT_EQ(response.status, 201) << response.body;
        EXPECT_EQ(response.body, "made");
        EXPECT_EQ(response.header("X-Mine"), "kept");
        EXPECT_EQ(response.header("X-Sofaas-Request-Id").size(), 36u);
        EXPECT_EQ(platform_headers(response), std::vector<std::string>{}) << path;
    }
}

// X-Sofaas-* say what the platform measured: a function setting one, in any case, is not
// heard. Its other headers pass.
TEST_F(PublicEndpoints, AFunctionCannotSetThePlatformsHeaders) {
    ASSERT_EQ(daemon().deploy("forger", fixture_library("responds_with"), {"--expose-errors"}).exit_code, 0);
    auto response = call("/fn/forger", R"({"statusCode":200,"body":"hi","headers":{"X-Sofaas-Billed-Ms":"0",)"
                                       R"("x-sofaas-version":"99","X-SOFAAS-STATUS":"forged","X-Sofaas-Init-Ms":"0",)"
                                       R"("X-Sofaas-Request-Id":"forged","X-Sofaas-Anything":"x","X-Other":"kept"}})");
    ASSERT_EQ(response.status, 200) << response.body;
    EXPECT_EQ(response.body, "hi");
    EXPECT_EQ(response.header("X-Other"), "kept");
    // --expose-errors: the platform's own report is there, once each, and true.
    const json record = single_record("forger");
    EXPECT_EQ(response.header("X-Sofaas-Request-Id"), record["request_id"]);
    EXPECT_EQ(response.header("X-Sofaas-Billed-Ms"), std::to_string(record["billed_ms"].get<uint64_t>()));
    EXPECT_EQ(response.header("X-Sofaas-Version"), "1");
    EXPECT_EQ(response.header("X-Sofaas-Status"), "ok");
    for (const char* name : {"X-Sofaas-Billed-Ms", "X-Sofaas-Version", "X-Sofaas-Status", "X-Sofaas-Request-Id"}) {
        EXPECT_EQ(count_of(response, name), 1u) << name;
    }
    EXPECT_EQ(count_of(response, "X-Sofaas-Anything"), 0u);
    EXPECT_LE(count_of(response, "X-Sofaas-Init-Ms"), 1u);
    EXPECT_NE(daemon().log().find("[" + response.header("X-Sofaas-Request-Id") +
                                  "] forger:1 set the platform's header X-Sofaas-Billed-Ms: not sent"),
              std::string::npos)
        << daemon().log();
}

// A response that is not HTTP (a statusCode that is not one, a header name that is no
// token, a value with a control character) is the function's error: 502, `error` in the
// ledger, billed, and the function's log says why.
TEST_F(PublicEndpoints, AnInvalidResponseIsTheFunctionsErrorInTheLedger) {
    const std::vector<std::pair<std::string, std::string>> outputs = {
        {R"({"statusCode":"201"})", "statusCode must be an integer from 200 to 599"},
        {R"({"statusCode":99})", "statusCode must be an integer from 200 to 599"},
        {R"({"statusCode":600})", "statusCode must be an integer from 200 to 599"},
        {R"({"statusCode":200,"headers":{"X Spaced":"v"}})", R"(header "X Spaced" is not a valid HTTP header)"},
        {R"({"statusCode":200,"headers":{"X-Ctl":"a\u0001b"}})", R"(header "X-Ctl" is not a valid HTTP header)"},
        {R"({"statusCode":200,"headers":{"X-Split":"a\r\nX-Injected: 1"}})",
         R"(header "X-Split" is not a valid HTTP header)"},
    };
    for (size_t i = 0; i < outputs.size(); ++i) {
        const auto& [output, why] = outputs[i];
        SCOPED_TRACE(output);
        const std::string function = "invalid-" + std::to_string(i);
        ASSERT_EQ(daemon().deploy(function, fixture_library("responds_with")).exit_code, 0);
        auto response = call("/fn/" + function, output);
        EXPECT_EQ(response.status, 502) << response.body;
        EXPECT_EQ(json::parse(response.body), generic_502);
        EXPECT_EQ(response.header("X-Injected"), "");

        const json record = single_record(function);
        EXPECT_EQ(record["status"], "error");
        EXPECT_GE(record["billed_ms"].get<uint64_t>(), 1u);
        EXPECT_EQ(record["request_id"], response.header("X-Sofaas-Request-Id"));
        const auto logs = daemon().cli({"logs", function});
        const std::string error =
            nlohmann::ordered_json{{"errorType", "Runtime.InvalidResponse"},
                                   {"errorMessage", "The function returned an invalid HTTP response: " + why}}
                .dump();
        EXPECT_NE(logs.out.find("ERROR RequestId: " + response.header("X-Sofaas-Request-Id") + " Invoke Error " + error),
                  std::string::npos)
            << logs.out;
    }
}

// The function's errorType and errorMessage may name its internals: the anonymous caller gets
// API Gateway's 502, the authenticated control API the whole Lambda error.
TEST_F(PublicEndpoints, AFunctionErrorIsAGeneric502) {
    ASSERT_EQ(daemon().deploy("leaky", fixture_library("responds_with"), {"--route", "POST /leaky"}).exit_code, 0);
    for (const std::string path : {"/fn/leaky/any", "/leaky"}) {
        auto response = call(path, "fail");
        EXPECT_EQ(response.status, 502) << response.body;
        EXPECT_EQ(json::parse(response.body), generic_502) << path;
        EXPECT_EQ(response.header("Content-Type"), "application/json");
        EXPECT_EQ(platform_headers(response), std::vector<std::string>{}) << path;
        EXPECT_EQ(response.header("X-Sofaas-Request-Id").size(), 36u);
    }
    auto control = daemon().http().request("POST", "/v1/functions/leaky/invoke", "fail");
    EXPECT_EQ(control.status, 502);
    EXPECT_EQ(json::parse(control.body)["errorType"], "Secret.DatabaseError");
    EXPECT_EQ(control.header("X-Sofaas-Function-Error"), "Secret.DatabaseError");
    EXPECT_EQ(control.header("X-Sofaas-Status"), "error");
    EXPECT_FALSE(control.header("X-Sofaas-Billed-Ms").empty());

    // The owner finds the error where the caller cannot: in the function's log.
    const auto logs = daemon().cli({"logs", "leaky"});
    EXPECT_NE(logs.out.find(R"({"errorType":"Secret.DatabaseError","errorMessage":"connecting to db.internal:5432 as admin failed"})"),
              std::string::npos)
        << logs.out;
}

TEST_F(PublicEndpoints, ATimeoutIsA504AndACrashA502) {
    ASSERT_EQ(daemon().deploy("spins", fixture_library("spin"), {"--timeout", "1"}).exit_code, 0);
    ASSERT_EQ(daemon().deploy("crashes", function_library("crash")).exit_code, 0);
    auto timed_out = daemon().http("").request("GET", "/fn/spins");
    EXPECT_EQ(timed_out.status, 504) << timed_out.body;
    EXPECT_EQ(json::parse(timed_out.body), json({{"message", "Endpoint request timed out"}}));
    EXPECT_EQ(platform_headers(timed_out), std::vector<std::string>{});
    auto crashed = daemon().http("").request("GET", "/fn/crashes");
    EXPECT_EQ(crashed.status, 502) << crashed.body;
    EXPECT_EQ(json::parse(crashed.body), generic_502);
    EXPECT_EQ(platform_headers(crashed), std::vector<std::string>{});
    EXPECT_EQ(single_record("spins")["status"], "timeout");
    EXPECT_EQ(single_record("crashes")["status"], "crash");
}

// --expose-errors: the owner chooses to show callers what the control API shows.
TEST_F(PublicEndpoints, ExposeErrorsShowsTheLambdaErrorAndTheReport) {
    ASSERT_EQ(daemon().deploy("open", fixture_library("responds_with"), {"--expose-errors"}).exit_code, 0);
    auto failed = call("/fn/open", "fail");
    EXPECT_EQ(failed.status, 502);
    EXPECT_EQ(json::parse(failed.body), json({{"errorType", "Secret.DatabaseError"},
                                              {"errorMessage", "connecting to db.internal:5432 as admin failed"}}));
    EXPECT_EQ(failed.header("X-Sofaas-Function-Error"), "Secret.DatabaseError");
    EXPECT_EQ(failed.header("X-Sofaas-Status"), "error");
    auto invalid = call("/fn/open", R"({"statusCode":"201"})");
    EXPECT_EQ(invalid.status, 502);
    EXPECT_EQ(json::parse(invalid.body)["errorType"], "Runtime.InvalidResponse");
    EXPECT_EQ(invalid.header("X-Sofaas-Status"), "error");
    auto ok = call("/fn/open", "fine");
    EXPECT_EQ(ok.status, 200);
    EXPECT_EQ(ok.header("X-Sofaas-Status"), "ok");
    EXPECT_FALSE(ok.header("X-Sofaas-Billed-Ms").empty());

    // The setting is the version's, shown with the others; a new version without it is quiet.
    const auto info = daemon().cli({"info", "open"});
    EXPECT_NE(info.out.find("errors:          exposed\n"), std::string::npos) << info.out;
    const auto spec = json::parse(daemon().http().request("GET", "/v1/functions/open").body)["function"];
    EXPECT_EQ(spec["expose_errors"], true);
    ASSERT_EQ(daemon().deploy("open", fixture_library("responds_with")).exit_code, 0);
    EXPECT_EQ(json::parse(call("/fn/open", "fail").body), generic_502);
    const auto list = daemon().cli({"list"});
    EXPECT_NE(list.out.find("ERRORS"), std::string::npos) << list.out;
    EXPECT_NE(list.out.find(" generic\n"), std::string::npos) << list.out;
}

// Deploy settings also come as headers: X-Sofaas-Expose-Errors.
TEST_F(PublicEndpoints, ExposeErrorsAsAQueryParameterOrAHeader) {
    const std::string library = [] {
        std::ifstream in(fixture_library("responds_with"), std::ios::binary);
        return std::string(std::istreambuf_iterator<char>(in), {});
    }();
    auto by_query = daemon().http().request("PUT", "/v1/functions/by-query?expose_errors=true", library);
    ASSERT_EQ(by_query.status, 201) << by_query.body;
    EXPECT_EQ(json::parse(by_query.body)["expose_errors"], true);
    auto by_header = daemon().http().request("PUT", "/v1/functions/by-header", library,
                                             {{"X-Sofaas-Expose-Errors", "true"}});
    ASSERT_EQ(by_header.status, 201) << by_header.body;
    EXPECT_EQ(json::parse(by_header.body)["expose_errors"], true);
    auto wrong = daemon().http().request("PUT", "/v1/functions/by-header?expose_errors=yes", library);
    EXPECT_EQ(wrong.status, 400) << wrong.body;
}

// A caller whose credential may invoke the function would read the Lambda error on the
// control API anyway: it reads it on the endpoint too. Any other credential is anonymous.
TEST_F(PublicEndpoints, ACallerThatMayInvokeTheFunctionGetsTheLambdaError) {
    ASSERT_EQ(daemon().deploy("guarded-leaky", fixture_library("responds_with"), {"--auth", "key"}).exit_code, 0);
    ASSERT_EQ(daemon().deploy("open-leaky", fixture_library("responds_with")).exit_code, 0);
    auto created = daemon().cli({"keys", "create", "guarded-only", "--function", "guarded-leaky", "--json"});
    ASSERT_EQ(created.exit_code, 0) << created;
    const json key = json::parse(created.out);
    const std::string guarded_only = key.value("access_key_id", "") + ":" + key.value("secret_access_key", "");

    const std::vector<std::pair<std::string, std::string>> told = {{"/fn/guarded-leaky", daemon().token()},
                                                                   {"/fn/guarded-leaky", guarded_only},
                                                                   {"/fn/open-leaky", daemon().token()}};
    for (const auto& [path, credential] : told) {
        SCOPED_TRACE(path);
        auto response = daemon().http(credential).request("POST", path, "fail", {{"Content-Type", "text/plain"}});
        EXPECT_EQ(response.status, 502);
        EXPECT_EQ(json::parse(response.body)["errorType"], "Secret.DatabaseError");
        EXPECT_EQ(response.header("X-Sofaas-Status"), "error");
    }
    // A key for another function is no credential for this one.
    auto response =
        daemon().http(guarded_only).request("POST", "/fn/open-leaky", "fail", {{"Content-Type", "text/plain"}});
    EXPECT_EQ(response.status, 502);
    EXPECT_EQ(json::parse(response.body), generic_502);
    EXPECT_EQ(platform_headers(response), std::vector<std::string>{});
}

// Overload and host faults have API Gateway's answers too: 429 and 500.
TEST(PublicEndpointsOverload, ThrottledIsA429TooManyRequests) {
    DaemonProcess daemon(json{{"limits", {{"max_queue", 0}}}});
    daemon.start();
    ASSERT_EQ(daemon.deploy("single", fixture_library("spin"), {"--timeout", "5", "--max-concurrency", "1"}).exit_code,
              0);
    std::thread busy([&] { daemon.http("").request("GET", "/fn/single"); });
    const bool running = eventually([&] {
        const auto info = json::parse(daemon.http().request("GET", "/v1/functions/single").body);
        return info["workers"]["busy"] == 1;
    });
    auto throttled = daemon.http("").request("GET", "/fn/single");
    busy.join();
    ASSERT_TRUE(running);
    EXPECT_EQ(throttled.status, 429) << throttled.body;
    EXPECT_EQ(json::parse(throttled.body), json({{"message", "Too Many Requests"}}));
    EXPECT_EQ(platform_headers(throttled), std::vector<std::string>{});
}

TEST(PublicEndpointsHostFault, AHostFaultIsA500) {
    DaemonProcess healthy;
    healthy.start();
    ASSERT_EQ(healthy.deploy("hello", function_library("hello")).exit_code, 0);
    healthy.stop();
    // The same function on a host whose sandbox cannot be set up (tests/e2e/host_faults_test.cpp).
    DaemonProcess broken(json{{"worker_user", "sofaas-no-such-user"}});
    std::filesystem::create_directories(broken.data_dir());
    std::filesystem::copy(healthy.data_dir() / "functions", broken.data_dir() / "functions",
                          std::filesystem::copy_options::recursive);
    broken.start();
    auto response = broken.http("").request("GET", "/fn/hello");
    EXPECT_EQ(response.status, 500) << response.body;
    EXPECT_EQ(json::parse(response.body), json({{"message", "Internal Server Error"}}));
    EXPECT_EQ(platform_headers(response), std::vector<std::string>{});
}

}  // namespace
}  // namespace sofaas::testing
