// The gateway is the one place an outcome or a domain error meets its HTTP status.
#include "gateway/responses.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "registry/registry.h"

using namespace sofaas;
using json = nlohmann::json;

namespace {

InvocationReport failed(InvocationStatus status, std::string error_type = {}, std::string error_message = {}) {
    InvocationReport report;
    report.status = status;
    report.memory_mb = 128;
    report.error_type = std::move(error_type);
    report.error_message = std::move(error_message);
    return report;
}

}  // namespace

TEST(InvocationResponse, StatusFollowsTheOutcomeAsLambdas) {
    EXPECT_EQ(http_status(InvocationStatus::error), 502);
    EXPECT_EQ(http_status(InvocationStatus::crash), 502);
    EXPECT_EQ(http_status(InvocationStatus::oom), 502);
    EXPECT_EQ(http_status(InvocationStatus::timeout), 504);
    EXPECT_EQ(http_status(InvocationStatus::host_fault), 500);
    EXPECT_EQ(http_status(InvocationStatus::throttled), 429);
}

// The worker or its sandbox could not be set up: the host's fault, a 500 like Lambda's own.
TEST(InvocationResponse, HostFaultIsA500NotAFunctionError) {
    const auto response = invocation_error(failed(InvocationStatus::host_fault, std::string(host_fault_error_type),
                                                  "The host could not start the function's sandbox"));
    EXPECT_EQ(response.status, 500);
    const json body = json::parse(response.body);
    EXPECT_EQ(body["errorType"], "ServiceException");
    EXPECT_EQ(body["errorMessage"], "The host could not start the function's sandbox");
}

// Only the status makes a failure the host's: a function may name its error anything.
TEST(InvocationResponse, AFunctionErrorNamedServiceExceptionIsA502) {
    const auto response =
        invocation_error(failed(InvocationStatus::error, std::string(host_fault_error_type), "not my fault"));
    EXPECT_EQ(response.status, 502);
}

TEST(InvocationResponse, BodyAndHeaderNameTheError) {
    const auto response = invocation_error(failed(InvocationStatus::timeout, "", timeout_message(1)));
    EXPECT_EQ(response.status, 504);
    const json body = json::parse(response.body);
    EXPECT_EQ(body["errorType"], "Sandbox.Timedout");
    EXPECT_EQ(body["errorMessage"], "Task timed out after 1.00 seconds");
    ASSERT_EQ(response.headers.size(), 2u);
    EXPECT_EQ(response.headers[1].first, "X-Sofaas-Function-Error");
    EXPECT_EQ(response.headers[1].second, "Sandbox.Timedout");

    const auto throttled = invocation_error(failed(InvocationStatus::throttled));
    EXPECT_EQ(throttled.status, 429);
    EXPECT_EQ(json::parse(throttled.body)["errorType"], "TooManyRequestsException");
}

TEST(InvocationResponse, AnAnonymousCallerGetsTheStatusAndNothingElse) {
    const auto crashed = generic_invocation_error(failed(InvocationStatus::crash, "Runtime.ExitError", "secret"));
    EXPECT_EQ(crashed.status, 502);
    EXPECT_EQ(crashed.body, R"({"message":"Internal Server Error"})");
    const auto late = generic_invocation_error(failed(InvocationStatus::timeout));
    EXPECT_EQ(late.status, 504);
    EXPECT_EQ(late.body, R"({"message":"Endpoint request timed out"})");
    const auto throttled = generic_invocation_error(failed(InvocationStatus::throttled));
    EXPECT_EQ(throttled.status, 429);
    EXPECT_EQ(throttled.body, R"({"message":"Too Many Requests"})");
    EXPECT_EQ(generic_invocation_error(failed(InvocationStatus::host_fault)).status, 500);
}

TEST(InvocationResponse, HeadersSayWhatTheReportLineSays) {
    InvocationReport report;
    report.version = 3;
    report.duration_ms = 1.234;
    report.billed_ms = 2;
    report.init_ms = 0.8;
    HttpResponseParts response;
    add_invocation_headers(response, report);
    const std::vector<std::pair<std::string, std::string>> expected{{"X-Sofaas-Version", "3"},
                                                          {"X-Sofaas-Status", "ok"},
                                                          {"X-Sofaas-Duration-Ms", "1.23"},
                                                          {"X-Sofaas-Billed-Ms", "2"},
                                                          {"X-Sofaas-Init-Ms", "0.80"}};
    EXPECT_EQ(response.headers, expected);
}

TEST(RegistryErrorResponse, EachKindHasItsStatus) {
    const auto invalid = registry_error(RegistryError(RegistryError::Kind::invalid, "invalid function name"));
    EXPECT_EQ(invalid.status, 400);
    EXPECT_EQ(json::parse(invalid.body)["errorType"], "InvalidParameterValueException");

    const auto conflict = registry_error(RegistryError(RegistryError::Kind::conflict, "route taken"));
    EXPECT_EQ(conflict.status, 409);
    EXPECT_EQ(json::parse(conflict.body)["errorType"], "ResourceConflictException");
    EXPECT_EQ(json::parse(conflict.body)["errorMessage"], "route taken");

    const auto away = registry_error(RegistryError(RegistryError::Kind::unavailable, "database away"));
    EXPECT_EQ(away.status, 503);
    EXPECT_TRUE(std::any_of(away.headers.begin(), away.headers.end(),
                            [](const auto& header) { return header.first == "Retry-After"; }));

    const auto storage = registry_error(RegistryError(RegistryError::Kind::storage, "disk full"));
    EXPECT_EQ(storage.status, 500);
    EXPECT_EQ(json::parse(storage.body)["errorType"], "ServiceException");
}
