// The retry policy of queued events and Lambda's destination record (events/event_outcome.h).
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "events/event_outcome.h"

namespace sofaas {
namespace {

using nlohmann::json;

constexpr UnixMillis now = 1'765'000'000'000;

FunctionSpec spec_of(const std::string& name) {
    FunctionSpec spec;
    spec.name = name;
    spec.version = 3;
    return spec;
}

QueuedEvent event_of(const std::string& payload, uint32_t runs = 1, uint32_t failures = 0) {
    QueuedEvent event;
    event.id = 7;
    event.event.request_id = "req-1";
    event.event.function = "resize";
    event.event.payload = payload;
    event.event.enqueued_ms = now - 1000;
    event.runs = runs;
    event.failures = failures;
    return event;
}

InvocationReport report_of(InvocationStatus status, std::string output = {}) {
    InvocationReport report;
    report.function = "resize";
    report.version = 3;
    report.status = status;
    report.output = std::move(output);
    if (status == InvocationStatus::error) {
        report.error_type = "ImageError";
        report.error_message = "not a JPEG";
    }
    return report;
}

const auto exists = [](const std::string& function) { return function == "recorder"; };

TEST(EventOutcome, FunctionFailuresAreRetriedAfterTheDelayThenTwiceIt) {
    Config config;
    config.events.retry_delay_s = 60;
    const FunctionSpec spec = spec_of("resize");
    const Settlement first = settle_after_run(event_of("{}", 1, 0), spec, report_of(InvocationStatus::error), now, config, exists);
    EXPECT_EQ(first.kind, SettlementKind::retry);
    EXPECT_EQ(first.not_before_ms, now + 60'000);
    EXPECT_EQ(first.error_type, "ImageError");
    const Settlement second = settle_after_run(event_of("{}", 2, 1), spec, report_of(InvocationStatus::timeout), now, config, exists);
    EXPECT_EQ(second.kind, SettlementKind::retry);
    EXPECT_EQ(second.not_before_ms, now + 120'000);
    EXPECT_EQ(second.error_type, "Sandbox.Timedout");
}

TEST(EventOutcome, RetriesExhaustedWithoutDestinationIsADeadLetter) {
    Config config;
    const FunctionSpec spec = spec_of("resize");  // 2 retries
    for (InvocationStatus status : {InvocationStatus::error, InvocationStatus::crash, InvocationStatus::oom}) {
        const Settlement last = settle_after_run(event_of("{}", 3, 2), spec, report_of(status), now, config, exists);
        EXPECT_EQ(last.kind, SettlementKind::dead_letter);
        EXPECT_EQ(last.condition, FailureCondition::retries_exhausted);
        EXPECT_FALSE(last.then_enqueue);
    }
    FunctionSpec no_retries = spec;
    no_retries.async_retries = 0;
    EXPECT_EQ(settle_after_run(event_of("{}"), no_retries, report_of(InvocationStatus::error), now, config, exists).kind,
              SettlementKind::dead_letter);
}

TEST(EventOutcome, WhatDidNotRunGoesBackWithBackoffAndUsesNoRetry) {
    Config config;
    const FunctionSpec spec = spec_of("resize");
    for (InvocationStatus status :
         {InvocationStatus::throttled, InvocationStatus::host_fault, InvocationStatus::unavailable}) {
        const Settlement first = settle_after_run(event_of("{}", 1, 2), spec, report_of(status), now, config, exists);
        EXPECT_EQ(first.kind, SettlementKind::requeue) << to_string(status);
        EXPECT_EQ(first.not_before_ms, now + 1000);
    }
    EXPECT_EQ(settle_after_run(event_of("{}", 4), spec, report_of(InvocationStatus::throttled), now, config, exists)
                  .not_before_ms,
              now + 8000);
    EXPECT_EQ(settle_after_run(event_of("{}", 40), spec, report_of(InvocationStatus::throttled), now, config, exists)
                  .not_before_ms,
              now + 300'000);
}

TEST(EventOutcome, FailureDestinationGetsLambdasRecordInsteadOfADeadLetter) {
    Config config;
    FunctionSpec spec = spec_of("resize");
    spec.async_retries = 0;
    spec.on_failure = "recorder";
    const Settlement settled = settle_after_run(event_of(R"({"key":"a.jpg"})", 1), spec,
                                                report_of(InvocationStatus::error), now, config, exists);
    EXPECT_EQ(settled.kind, SettlementKind::done);
    ASSERT_TRUE(settled.then_enqueue);
    EXPECT_EQ(settled.then_enqueue->function, "recorder");
    EXPECT_EQ(settled.then_enqueue->trigger, Trigger::async);
    EXPECT_EQ(settled.then_enqueue->enqueued_ms, now);
    const json record = json::parse(settled.then_enqueue->payload);
    EXPECT_EQ(record["version"], "1.0");
    EXPECT_EQ(record["requestContext"]["requestId"], "req-1");
    EXPECT_EQ(record["requestContext"]["functionArn"], "arn:aws:lambda:us-east-1:000000000000:function:resize:3");
    EXPECT_EQ(record["requestContext"]["condition"], "RetriesExhausted");
    EXPECT_EQ(record["requestContext"]["approximateInvokeCount"], 1);
    EXPECT_EQ(record["requestPayload"], json({{"key", "a.jpg"}}));
    EXPECT_EQ(record["responseContext"]["functionError"], "Unhandled");
    EXPECT_EQ(record["responsePayload"]["errorType"], "ImageError");
    EXPECT_EQ(record["responsePayload"]["errorMessage"], "not a JPEG");

    spec.on_failure = "gone";  // no such function: a dead letter that says why
    const Settlement orphan = settle_after_run(event_of("{}", 1), spec, report_of(InvocationStatus::error), now, config, exists);
    EXPECT_EQ(orphan.kind, SettlementKind::dead_letter);
    EXPECT_NE(orphan.error_message.find("gone does not exist"), std::string::npos) << orphan.error_message;
}

TEST(EventOutcome, SuccessDestinationGetsTheOutputAndANonJsonPayloadAsAString) {
    Config config;
    config.region = "eu-west-3";
    config.account_id = "123456789012";
    FunctionSpec spec = spec_of("resize");
    spec.on_success = "recorder";
    const Settlement settled = settle_after_run(event_of("plain \xff text"), spec,
                                                report_of(InvocationStatus::ok, R"([1,2])"), now, config, exists);
    ASSERT_TRUE(settled.then_enqueue);
    const json record = json::parse(settled.then_enqueue->payload);
    EXPECT_EQ(record["requestContext"]["condition"], "Success");
    EXPECT_EQ(record["requestContext"]["functionArn"], "arn:aws:lambda:eu-west-3:123456789012:function:resize:3");
    EXPECT_EQ(record["requestPayload"], "plain \xef\xbf\xbd text");  // invalid UTF-8 replaced
    EXPECT_EQ(record["responsePayload"], json::array({1, 2}));
    EXPECT_FALSE(record["responseContext"].contains("functionError"));
    // Without a destination a success is simply done.
    spec.on_success.clear();
    const Settlement plain = settle_after_run(event_of("{}"), spec, report_of(InvocationStatus::ok), now, config, exists);
    EXPECT_EQ(plain.kind, SettlementKind::done);
    EXPECT_FALSE(plain.then_enqueue);
}

TEST(EventOutcome, AnEventOlderThanItsMaxAgeExpiresWithItsLastError) {
    Config config;
    FunctionSpec spec = spec_of("resize");
    spec.max_event_age_s = 60;
    QueuedEvent event = event_of("{}", 2, 1);
    event.event.enqueued_ms = now - 60'001;
    event.last_error_type = "ImageError";
    event.last_error_message = "not a JPEG";
    EXPECT_TRUE(too_old(event, spec, now));
    EXPECT_FALSE(too_old(event, spec, now - 2));
    const Settlement expired = settle_expired(event, spec, now, config, exists);
    EXPECT_EQ(expired.kind, SettlementKind::dead_letter);
    EXPECT_EQ(expired.condition, FailureCondition::event_age_exceeded);
    EXPECT_EQ(expired.error_type, "ImageError");

    spec.on_failure = "recorder";
    const json record = json::parse(settle_expired(event, spec, now, config, exists).then_enqueue->payload);
    EXPECT_EQ(record["requestContext"]["condition"], "EventAgeExceeded");
    EXPECT_EQ(record["responsePayload"]["errorType"], "ImageError");
}

TEST(EventOutcome, ARecordOverTheAsyncPayloadLimitIsNotSent) {
    // A 6 MiB output in a record, and that record in the next one's: a chain of
    // destinations would grow each event without end.
    Config config;
    FunctionSpec spec = spec_of("resize");
    spec.on_success = "recorder";
    spec.on_failure = "recorder";
    spec.async_retries = 0;
    const std::string big(max_event_payload_bytes, 'x');
    const Settlement success = settle_after_run(event_of("{}"), spec, report_of(InvocationStatus::ok, big), now, config, exists);
    EXPECT_EQ(success.kind, SettlementKind::done);
    EXPECT_FALSE(success.then_enqueue);
    const Settlement failure = settle_after_run(event_of(big), spec, report_of(InvocationStatus::error), now, config, exists);
    EXPECT_EQ(failure.kind, SettlementKind::dead_letter);
    EXPECT_FALSE(failure.then_enqueue);
    EXPECT_NE(failure.error_message.find("not sent"), std::string::npos) << failure.error_message;
}

TEST(EventOutcome, AChainOfDestinationsStopsAfter16Records) {
    // A's success goes to B and B's to A: each record holds the one before, and the loop
    // would run for ever.
    Config config;
    FunctionSpec spec = spec_of("resize");
    spec.on_success = "recorder";
    std::string payload = "{}";
    int sent = 0;
    for (; sent < 100; ++sent) {
        const Settlement settled = settle_after_run(event_of(payload), spec, report_of(InvocationStatus::ok, "null"), now, config, exists);
        if (!settled.then_enqueue) break;
        payload = settled.then_enqueue->payload;
    }
    EXPECT_EQ(sent, 16);
}

}  // namespace
}  // namespace sofaas
