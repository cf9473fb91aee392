#include "metrics/metrics.h"

#include <string>

#include <gtest/gtest.h>

#include "common/money.h"
#include "metrics/exposition.h"
#include "metrics/histogram.h"

namespace sofaas {
namespace {

InvocationReport report_of_run(std::string function, InvocationStatus status, double duration_ms) {
    InvocationReport report;
    report.request_id = "r";
    report.function = std::move(function);
    report.version = 3;
    report.trigger = Trigger::http;
    report.status = status;
    report.duration_ms = duration_ms;
    report.memory_mb = 512;
    report.billed_ms = 2;
    report.cost_pico_usd = pico_per_usd / 4;
    return report;
}

std::string exposition_of(const Metrics& metrics) {
    Exposition out;
    metrics.write(out);
    return out.take();
}

bool text_has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

TEST(Exposition, WritesHelpAndTypeBeforeSamples) {
    Exposition out;
    out.family("sofaas_things_total", MetricType::counter, "Things.\nCounted with a \\ backslash.");
    out.sample("sofaas_things_total", {{"function", "a"}}, uint64_t{7});
    out.sample("sofaas_things_total", {}, 0.5);
    EXPECT_EQ(out.text(),
              "# HELP sofaas_things_total Things.\\nCounted with a \\\\ backslash.\n"
              "# TYPE sofaas_things_total counter\n"
              "sofaas_things_total{function=\"a\"} 7\n"
              "sofaas_things_total 0.5\n");
}

TEST(Exposition, EscapesLabelValues) {
    EXPECT_EQ(escape_label_value("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    EXPECT_EQ(escape_label_value("plain-name_1"), "plain-name_1");
    Exposition out;
    out.sample("m", {{"function", "x\"y"}, {"state", "idle"}}, uint64_t{1});
    EXPECT_EQ(out.text(), "m{function=\"x\\\"y\",state=\"idle\"} 1\n");
}

TEST(Exposition, FormatsValuesAsPrometheusParsesThem) {
    EXPECT_EQ(format_sample_value(3), "3");
    EXPECT_EQ(format_sample_value(0.25), "0.25");
    EXPECT_EQ(format_sample_value(1.0 / 0.0), "+Inf");
    EXPECT_EQ(format_sample_value(-1.0 / 0.0), "-Inf");
    EXPECT_EQ(format_sample_value(0.0 / 0.0), "NaN");
    EXPECT_DOUBLE_EQ(std::stod(format_sample_value(0.0000166667)), 0.0000166667);
}

TEST(Exposition, HistogramBucketsAreCumulativeUpToInf) {
    static constexpr double bounds[] = {0.1, 1, 10};
    Histogram histogram(bounds);
    histogram.observe(0.05);
    histogram.observe(0.1);  // on a bound: in that bucket ("less than or equal")
    histogram.observe(5);
    histogram.observe(50);
    Exposition out;
    out.histogram("d_seconds", {{"function", "f"}}, histogram);
    EXPECT_EQ(out.text(),
              "d_seconds_bucket{function=\"f\",le=\"0.1\"} 2\n"
              "d_seconds_bucket{function=\"f\",le=\"1\"} 2\n"
              "d_seconds_bucket{function=\"f\",le=\"10\"} 3\n"
              "d_seconds_bucket{function=\"f\",le=\"+Inf\"} 4\n"
              "d_seconds_sum{function=\"f\"} 55.15\n"
              "d_seconds_count{function=\"f\"} 4\n");
}

TEST(Metrics, CountsInvocationsByVersionTriggerAndStatus) {
    Metrics metrics;
    metrics.record(report_of_run("hello", InvocationStatus::ok, 0.2));
    metrics.record(report_of_run("hello", InvocationStatus::ok, 0.3));
    metrics.record(report_of_run("hello", InvocationStatus::error, 1));
    const std::string text = exposition_of(metrics);
    EXPECT_TRUE(
        text_has(text, "sofaas_invocations_total{function=\"hello\",version=\"3\",trigger=\"http\",status=\"ok\"} 2\n"))
        << text;
    EXPECT_TRUE(text_has(
        text, "sofaas_invocations_total{function=\"hello\",version=\"3\",trigger=\"http\",status=\"error\"} 1\n"))
        << text;
    EXPECT_TRUE(text_has(text, "sofaas_invocation_duration_seconds_count{function=\"hello\"} 3\n")) << text;
    EXPECT_TRUE(text_has(text, "sofaas_invocation_duration_seconds_bucket{function=\"hello\",le=\"0.00025\"} 1\n"))
        << text;
    EXPECT_TRUE(text_has(text, "sofaas_invocation_duration_seconds_bucket{function=\"hello\",le=\"0.0005\"} 2\n"))
        << text;
    EXPECT_TRUE(text_has(text, "sofaas_invocation_duration_seconds_bucket{function=\"hello\",le=\"0.001\"} 3\n"))
        << text;
    // 3 invocations of 2 ms at 512 MB: 3 * 0.002 * 0.5 GB-s.
    EXPECT_TRUE(text_has(text, "sofaas_billed_gb_seconds_total{function=\"hello\"} 0.003\n")) << text;
    EXPECT_TRUE(text_has(text, "sofaas_cost_usd_total{function=\"hello\"} 0.75\n")) << text;
    EXPECT_TRUE(text_has(text, "# TYPE sofaas_invocations_total counter\n")) << text;
    EXPECT_TRUE(text_has(text, "# TYPE sofaas_invocation_duration_seconds histogram\n")) << text;
}

TEST(Metrics, ColdStartsAndUnpaidInitsCountApart) {
    Metrics metrics;
    InvocationReport cold = report_of_run("f", InvocationStatus::ok, 1);
    cold.init_ms = 2;
    metrics.record(cold);
    InvocationReport warm_init = report_of_run("f", InvocationStatus::ok, 0);
    warm_init.trigger = Trigger::warm;
    warm_init.init_ms = 3;
    metrics.record(warm_init);
    const std::string text = exposition_of(metrics);
    EXPECT_TRUE(text_has(text, "sofaas_cold_starts_total{function=\"f\"} 1\n")) << text;
    EXPECT_TRUE(text_has(text, "sofaas_init_duration_seconds_count{function=\"f\"} 2\n")) << text;
    EXPECT_TRUE(text_has(text, "sofaas_init_duration_seconds_sum{function=\"f\"} 0.005\n")) << text;
    EXPECT_FALSE(text_has(text, "trigger=\"warm\"")) << "an unpaid init is no invocation: " << text;
    EXPECT_TRUE(text_has(text, "sofaas_invocation_duration_seconds_count{function=\"f\"} 1\n")) << text;
    EXPECT_TRUE(text_has(text, "sofaas_cost_usd_total{function=\"f\"} 0.5\n")) << "the init is billed: " << text;
}

TEST(Metrics, ThrottlesAndRefusalsAreNoRuns) {
    Metrics metrics;
    metrics.record(report_of_run("f", InvocationStatus::throttled, 0));
    metrics.record(report_of_run("f", InvocationStatus::unavailable, 0));
    const std::string text = exposition_of(metrics);
    EXPECT_TRUE(text_has(text, "sofaas_throttles_total{function=\"f\"} 1\n")) << text;
    EXPECT_FALSE(text_has(text, "status=\"throttled\"")) << text;
    EXPECT_TRUE(text_has(text, "status=\"unavailable\"} 1\n")) << text;
    EXPECT_FALSE(text_has(text, "sofaas_invocation_duration_seconds_count{function=\"f\"}")) << "nothing ran: " << text;
}

TEST(Metrics, CountsEventFates) {
    Metrics metrics;
    metrics.record_event("q", EventFate::expired);
    metrics.record_event("q", EventFate::dead_lettered);
    metrics.record_event("q", EventFate::dead_lettered);
    metrics.record_event("q", EventFate::refused_queue_full);
    const std::string text = exposition_of(metrics);
    EXPECT_TRUE(text_has(text, "sofaas_events_expired_total{function=\"q\"} 1\n")) << text;
    EXPECT_TRUE(text_has(text, "sofaas_events_dead_lettered_total{function=\"q\"} 2\n")) << text;
    EXPECT_TRUE(text_has(text, "sofaas_events_refused_total{function=\"q\"} 1\n")) << text;
}

TEST(Metrics, FunctionNamesAreEscapedAsLabelValues) {
    Metrics metrics;
    metrics.record_event("odd\"name\\", EventFate::expired);
    EXPECT_TRUE(text_has(exposition_of(metrics), "sofaas_events_expired_total{function=\"odd\\\"name\\\\\"} 1\n"));
}

TEST(Metrics, DisabledCountsNothing) {
    Metrics metrics(false);
    metrics.record(report_of_run("f", InvocationStatus::ok, 1));
    EXPECT_FALSE(metrics.enabled());
    EXPECT_EQ(exposition_of(metrics), "");
}

}  // namespace
}  // namespace sofaas
