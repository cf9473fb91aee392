// Asynchronous invocations and schedules: queued durably before 202, run soon after, retried,
// sent to destinations or kept as dead letters, redriven; schedules firing once per due time.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/daemon_process.h"
#include "support/eventually.h"

namespace sofaas::testing {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

// Retries after 1 s and 2 s instead of Lambda's minutes.
json fast_retries() {
    return {{"events", {{"retry_delay_s", 1}}}};
}

HttpResponse enqueue(const DaemonProcess& daemon, const std::string& function, const std::string& payload,
                     HttpHeaders extra = {}) {
    HttpHeaders headers = {{"X-Sofaas-Invocation-Type", "Event"}};
    headers.insert(headers.end(), extra.begin(), extra.end());
    return daemon.http().request("POST", "/v1/functions/" + function + "/invoke", payload, headers);
}

std::string queued_request_id(const HttpResponse& response) {
    EXPECT_EQ(response.status, 202) << response.body;
    return json::parse(response.body).value("request_id", "");
}

// What print_event printed: its events, in order.
std::vector<std::string> printed_events(const DaemonProcess& daemon, const std::string& function) {
    auto response = daemon.http().request("GET", "/v1/functions/" + function + "/logs?tail=10000");
    EXPECT_EQ(response.status, 200) << response.body;
    std::vector<std::string> events;
    const json body = json::parse(response.body);
    for (const json& line : body["lines"]) {
        const std::string message = line.value("message", "");
        if (message.rfind("event: ", 0) == 0) events.push_back(message.substr(7));
    }
    return events;
}

json dead_letters(const DaemonProcess& daemon, const std::string& function) {
    auto result = daemon.cli({"dlq", "list", function, "--json"});
    EXPECT_EQ(result.exit_code, 0) << result;
    return json::parse(result.out)["dead_letters"];
}

// An RFC 3339 time as the daemon writes it: 2026-12-06T09:12:03.411000Z.
std::chrono::system_clock::time_point time_of(const std::string& start) {
    std::tm tm{};
    strptime(start.c_str(), "%Y-%m-%dT%H:%M:%S", &tm);
    const double fraction = std::stod(start.substr(19, start.size() - 20));
    return std::chrono::system_clock::from_time_t(timegm(&tm)) +
           std::chrono::microseconds(static_cast<int64_t>(fraction * 1e6));
}

std::chrono::system_clock::time_point start_of(const json& record) {
    return time_of(record["start"]);
}

TEST(Events, AsyncInvokeAnswers202ThenRunsOnceWithItsRequestId) {
    DaemonProcess daemon;
    daemon.start();
    ASSERT_EQ(daemon.deploy("printer", fixture_library("print_event")).exit_code, 0);

    const std::string id = queued_request_id(enqueue(daemon, "printer", R"({"order": 17})"));
    ASSERT_FALSE(id.empty());
    ASSERT_TRUE(eventually([&] { return daemon.billing_records("printer").size() == 1; }));
    const json record = daemon.billing_records("printer").at(0);
    EXPECT_EQ(record["request_id"], id);
    EXPECT_EQ(record["trigger"], "async");
    EXPECT_EQ(record["attempt"], 1);
    EXPECT_EQ(record["status"], "ok");
    // The log lines follow the billing record.
    ASSERT_TRUE(eventually([&] { return !printed_events(daemon, "printer").empty(); }));
    EXPECT_EQ(printed_events(daemon, "printer"), std::vector<std::string>{R"({"order": 17})"});

    // The CLI prints the request id of what it queued.
    auto cli = daemon.cli({"invoke", "printer", "--async", "--data", "from the cli"});
    ASSERT_EQ(cli.exit_code, 0) << cli;
    ASSERT_EQ(cli.out.size(), 37u) << cli;  // a UUID and its newline
    ASSERT_TRUE(eventually([&] { return daemon.billing_records("printer").size() == 2; }));
    EXPECT_EQ(daemon.billing_records("printer").at(1)["request_id"], cli.out.substr(0, 36));
}

TEST(Events, RefusesAtOnceWhatCannotRun) {
    DaemonProcess daemon;
    daemon.start();
    ASSERT_EQ(daemon.deploy("printer", fixture_library("print_event")).exit_code, 0);

    auto unknown = enqueue(daemon, "nobody", "{}");
    EXPECT_EQ(unknown.status, 404) << unknown.body;
    EXPECT_NE(unknown.body.find("ResourceNotFoundException"), std::string::npos) << unknown.body;

    auto too_large = enqueue(daemon, "printer", std::string(256 * 1024 + 1, 'x'));
    EXPECT_EQ(too_large.status, 413) << too_large.body;
    EXPECT_EQ(enqueue(daemon, "printer", std::string(256 * 1024, 'x')).status, 202);

    auto bad_type = daemon.http().request("POST", "/v1/functions/printer/invoke", "{}",
                                          {{"X-Sofaas-Invocation-Type", "Later"}});
    EXPECT_EQ(bad_type.status, 400) << bad_type.body;
    auto bad_key = enqueue(daemon, "printer", "{}", {{"X-Sofaas-Idempotency-Key", std::string(129, 'k')}});
    EXPECT_EQ(bad_key.status, 400) << bad_key.body;
    auto bad_version = daemon.http().request("POST", "/v1/functions/printer/invoke?version=9", "{}",
                                             {{"X-Sofaas-Invocation-Type", "Event"}});
    EXPECT_EQ(bad_version.status, 404) << bad_version.body;

    // Nothing refused ran: only the one 256 KiB event.
    ASSERT_TRUE(eventually([&] { return daemon.billing_records("printer").size() == 1; }));
    std::this_thread::sleep_for(300ms);
    EXPECT_EQ(daemon.billing_records("printer").size(), 1u);
}

TEST(Events, AFullQueueRefusesWith429) {
    DaemonProcess daemon(json{{"events", {{"max_queued_per_function", 3}}}});
    daemon.start();
    ASSERT_EQ(daemon.deploy("sleeper", function_library("sleep"), {"--max-concurrency", "1", "--timeout", "10"}).exit_code, 0);
    // One runs (its sleep holds the only slot), three wait, the fifth finds the queue full.
    int accepted = 0;
    int refused = 0;
    for (int i = 0; i < 6; ++i) {
        auto response = enqueue(daemon, "sleeper", "1500");
        if (response.status == 202) ++accepted;
        if (response.status == 429) {
            ++refused;
            EXPECT_NE(response.body.find("TooManyRequestsException"), std::string::npos) << response.body;
            EXPECT_EQ(response.header("Retry-After"), "1");
        }
    }
    EXPECT_GE(refused, 2);
    EXPECT_EQ(accepted + refused, 6);
}

TEST(Events, IdempotencyKeyQueuesOnce) {
    DaemonProcess daemon;
    daemon.start();
    ASSERT_EQ(daemon.deploy("printer", fixture_library("print_event")).exit_code, 0);
    auto first = enqueue(daemon, "printer", "one", {{"X-Sofaas-Idempotency-Key", "order-17"}});
    auto second = enqueue(daemon, "printer", "two", {{"X-Sofaas-Idempotency-Key", "order-17"}});
    ASSERT_EQ(second.status, 202) << second.body;
    EXPECT_EQ(json::parse(second.body)["status"], "duplicate");
    EXPECT_EQ(queued_request_id(second), queued_request_id(first));
    auto cli = daemon.cli({"invoke", "printer", "--async", "--idempotency-key", "order-17", "--data", "three"});
    ASSERT_EQ(cli.exit_code, 0) << cli;
    EXPECT_EQ(cli.out, queued_request_id(first) + " (already queued)\n");

    ASSERT_TRUE(eventually([&] { return daemon.billing_records("printer").size() == 1; }));
    std::this_thread::sleep_for(300ms);
    EXPECT_EQ(daemon.billing_records("printer").size(), 1u);
    ASSERT_TRUE(eventually([&] { return !printed_events(daemon, "printer").empty(); }));
    EXPECT_EQ(printed_events(daemon, "printer"), std::vector<std::string>{"one"});
}

TEST(Events, AFailingEventRunsOnePlusRetriesTimesThenIsADeadLetterAndCanBeRedriven) {
    DaemonProcess daemon(fast_retries());
    daemon.start();
    ASSERT_EQ(daemon.deploy("failing", fixture_library("responds_with")).exit_code, 0);  // 2 retries by default

    const std::string id = queued_request_id(enqueue(daemon, "failing", "fail"));
    ASSERT_TRUE(eventually([&] { return dead_letters(daemon, "failing").size() == 1; }, 15s));
    const auto records = daemon.billing_records("failing");
    ASSERT_EQ(records.size(), 3u);
    for (size_t i = 0; i < records.size(); ++i) {
        EXPECT_EQ(records[i]["request_id"], id);
        EXPECT_EQ(records[i]["attempt"], i + 1);
        EXPECT_EQ(records[i]["status"], "error");
        EXPECT_GT(records[i]["billed_ms"], 0);
    }
    // About 1 s, then 2 s between the runs.
    EXPECT_GE(start_of(records[1]) - start_of(records[0]), 900ms);
    EXPECT_GE(start_of(records[2]) - start_of(records[1]), 1900ms);

    const json letter = dead_letters(daemon, "failing").at(0);
    EXPECT_EQ(letter["request_id"], id);
    EXPECT_EQ(letter["attempts"], 3);
    EXPECT_EQ(letter["condition"], "RetriesExhausted");
    EXPECT_EQ(letter["error_type"], "Secret.DatabaseError");
    auto shown = daemon.cli({"dlq", "show", "failing", std::to_string(letter["id"].get<int64_t>())});
    ASSERT_EQ(shown.exit_code, 0) << shown;
    EXPECT_EQ(json::parse(shown.out)["payload"], "fail");
    auto listed = daemon.cli({"dlq", "list", "failing"});
    EXPECT_NE(listed.out.find("RetriesExhausted"), std::string::npos) << listed;

    // Redriven, it runs again (attempts go on numbering) and fails again the same way.
    auto redriven = daemon.cli({"dlq", "redrive", "failing", std::to_string(letter["id"].get<int64_t>())});
    ASSERT_EQ(redriven.exit_code, 0) << redriven;
    EXPECT_EQ(redriven.out, "redriven 1\n");
    EXPECT_TRUE(dead_letters(daemon, "failing").empty());
    ASSERT_TRUE(eventually([&] { return dead_letters(daemon, "failing").size() == 1; }, 15s));
    const auto again = daemon.billing_records("failing");
    ASSERT_EQ(again.size(), 6u);
    EXPECT_EQ(again[3]["attempt"], 4);

    auto purged = daemon.cli({"dlq", "purge", "failing"});
    EXPECT_EQ(purged.out, "purged 1\n") << purged;
    EXPECT_TRUE(dead_letters(daemon, "failing").empty());
    auto missing = daemon.cli({"dlq", "redrive", "failing", "12345"});
    EXPECT_EQ(missing.exit_code, 3) << missing;
    // Ids are 63-bit: one past 32 bits is a dead letter that does not exist, not a bad id.
    auto http = daemon.http();
    EXPECT_EQ(http.request("GET", "/v1/functions/failing/dead-letters/4294967296").status, 404);
    EXPECT_EQ(http.request("GET", "/v1/functions/failing/dead-letters/9223372036854775808").status, 400);
}

TEST(Events, DestinationsReceiveLambdasInvocationRecord) {
    DaemonProcess daemon(fast_retries());
    daemon.start();
    ASSERT_EQ(daemon.deploy("recorder", fixture_library("print_event")).exit_code, 0);
    ASSERT_EQ(daemon.deploy("failing", fixture_library("responds_with"),
                            {"--async-retries", "1", "--on-failure", "recorder", "--on-success", "recorder"})
                  .exit_code,
              0);
    auto self = daemon.deploy("loop", fixture_library("responds_with"), {"--on-failure", "loop"});
    EXPECT_EQ(self.exit_code, 1) << self;

    const std::string failed = queued_request_id(enqueue(daemon, "failing", "fail"));
    const std::string succeeded = queued_request_id(enqueue(daemon, "failing", R"({"answer": 42})"));
    ASSERT_TRUE(eventually([&] { return printed_events(daemon, "recorder").size() == 2; }, 15s));
    std::map<std::string, json> by_request;
    for (const std::string& event : printed_events(daemon, "recorder")) {
        const json record = json::parse(event);
        by_request[record["requestContext"]["requestId"]] = record;
    }
    const json& failure = by_request.at(failed);
    EXPECT_EQ(failure["version"], "1.0");
    EXPECT_EQ(failure["requestContext"]["condition"], "RetriesExhausted");
    EXPECT_EQ(failure["requestContext"]["approximateInvokeCount"], 2);
    EXPECT_EQ(failure["requestContext"]["functionArn"], "arn:aws:lambda:us-east-1:000000000000:function:failing:1");
    EXPECT_EQ(failure["requestPayload"], "fail");
    EXPECT_EQ(failure["responseContext"]["statusCode"], 200);
    EXPECT_EQ(failure["responseContext"]["functionError"], "Unhandled");
    EXPECT_EQ(failure["responsePayload"]["errorType"], "Secret.DatabaseError");

    const json& success = by_request.at(succeeded);
    EXPECT_EQ(success["requestContext"]["condition"], "Success");
    EXPECT_EQ(success["requestPayload"], json({{"answer", 42}}));
    EXPECT_EQ(success["responsePayload"], json({{"answer", 42}}));
    EXPECT_FALSE(success["responseContext"].contains("functionError"));
    // With a destination, a failure is no dead letter.
    EXPECT_TRUE(dead_letters(daemon, "failing").empty());
}

// A queued run is on behalf of whoever queued it, and a firing on behalf of its schedule:
// the function's context says so (whoami's answer, which its on-success destination
// receives), as does each run's billing record.
TEST(Events, AQueuedRunTellsTheFunctionWhoQueuedItAndAFiringItsSchedule) {
    DaemonProcess daemon;
    daemon.start();
    ASSERT_EQ(daemon.deploy("recorder", fixture_library("print_event")).exit_code, 0);
    ASSERT_EQ(daemon.deploy("whoami", function_library("whoami"), {"--on-success", "recorder"}).exit_code, 0);
    auto key = daemon.cli({"keys", "create", "queuer", "--scope", "invoke", "--json"});
    ASSERT_EQ(key.exit_code, 0) << key;
    const json created = json::parse(key.out);
    const std::string key_id = created["access_key_id"];
    HttpClient by_key = daemon.http(key_id + ":" + created["secret_access_key"].get<std::string>());
    const HttpResponse queued = by_key.request("POST", "/v1/functions/whoami/invoke", "{}",
                                               {{"X-Sofaas-Invocation-Type", "Event"}});
    const std::string queued_id = queued_request_id(queued);
    auto added = daemon.cli({"schedule", "add", "whoami", "--every", "rate(1 second)", "--id", "tick"});
    ASSERT_EQ(added.exit_code, 0) << added;

    std::map<std::string, json> callers;  // the function's caller, by the run's request id
    ASSERT_TRUE(eventually([&] {
        for (const std::string& event : printed_events(daemon, "recorder")) {
            const json record = json::parse(event);
            callers[record["requestContext"]["requestId"]] = record["responsePayload"]["caller"];
        }
        return callers.contains(queued_id) && callers.size() >= 2;
    }, 15s));
    EXPECT_EQ(callers[queued_id], (json{{"key_id", key_id}, {"role", ""}, {"user_sub", ""}, {"schedule", ""}}));
    callers.erase(queued_id);
    for (const auto& [_, caller] : callers) {
        EXPECT_EQ(caller, (json{{"key_id", ""}, {"role", ""}, {"user_sub", ""}, {"schedule", "tick"}}));
    }
    for (const json& record : daemon.billing_records("whoami")) {
        if (record["request_id"] == queued_id) EXPECT_EQ(record["key_id"], key_id) << record.dump();
    }
}

// kill -9 with thousands of events queued: every 202 runs at least once after the restart,
// and only runs in flight at the kill can run twice.
TEST(Events, Kill9LosesNoQueuedEvent) {
    constexpr int events = 5000;
    constexpr int max_running = 4;
    DaemonProcess daemon(json{{"events", {{"max_running", max_running}}}});
    daemon.start();
    // 3 ms each, 4 at a time: the queue takes some 4 s to drain, so most of it is still
    // waiting when the daemon is killed.
    ASSERT_EQ(daemon.deploy("sleeper", function_library("sleep")).exit_code, 0);

    std::vector<std::string> ids(events);
    std::atomic<int> next{0};
    std::vector<std::thread> senders;
    for (int t = 0; t < 8; ++t) {
        senders.emplace_back([&] {
            HttpClient client = daemon.http();
            for (int i = next++; i < events; i = next++) {
                auto response = client.request("POST", "/v1/functions/sleeper/invoke", "3",
                                                {{"X-Sofaas-Invocation-Type", "Event"}});
                if (response.status == 202) ids[i] = json::parse(response.body)["request_id"];
            }
        });
    }
    for (auto& sender : senders) sender.join();
    ASSERT_EQ(std::count(ids.begin(), ids.end(), std::string()), 0);
    auto queue = daemon.http().request("GET", "/v1/functions/sleeper/queue");
    const int waiting = json::parse(queue.body)["events"];
    daemon.kill9();
    std::cout << "kill -9 with " << waiting << " of " << events << " events still queued\n";
    EXPECT_GE(waiting, 1000) << "the test needs a backlog at the kill";
    daemon.start();

    std::vector<json> records;
    ASSERT_TRUE(eventually(
        [&] {
            records = daemon.billing_records("sleeper");
            std::set<std::string> ran;
            for (const json& record : records) ran.insert(record["request_id"].get<std::string>());
            return ran.size() == static_cast<size_t>(events);
        },
        120s))
        << records.size() << " records";
    for (const json& record : records) EXPECT_EQ(record["status"], "ok");
    const std::set<std::string> wanted(ids.begin(), ids.end());
    std::map<std::string, int> runs;
    for (const json& record : records) ++runs[record["request_id"].get<std::string>()];
    int duplicates = 0;
    for (const auto& [id, count] : runs) {
        EXPECT_TRUE(wanted.count(id)) << id;
        duplicates += count - 1;
    }
    std::cout << duplicates << " ran twice\n";
    EXPECT_LE(duplicates, max_running);
}

TEST(Events, ARateScheduleFiresOncePerDueTimeAcrossARestart) {
    DaemonProcess daemon;
    daemon.start();
    ASSERT_EQ(daemon.deploy("ticker", fixture_library("print_event")).exit_code, 0);
    auto added = daemon.cli({"schedule", "add", "ticker", "--every", "rate(1 second)", "--id", "tick"});
    ASSERT_EQ(added.exit_code, 0) << added;

    std::this_thread::sleep_for(10500ms);
    auto fired = printed_events(daemon, "ticker");
    EXPECT_GE(fired.size(), 9u);
    EXPECT_LE(fired.size(), 11u);
    const json first = json::parse(fired.at(0));
    EXPECT_EQ(first["detail-type"], "Scheduled Event");
    EXPECT_EQ(first["source"], "aws.events");
    EXPECT_EQ(first["detail"], json::object());
    for (const json& record : daemon.billing_records("ticker")) {
        EXPECT_EQ(record["trigger"], "schedule");
        EXPECT_EQ(record.value("schedule", ""), "tick") << record.dump();  // the schedule is who asked
        EXPECT_FALSE(record.contains("key_id")) << record.dump();
    }

    daemon.stop();
    std::this_thread::sleep_for(3s);
    daemon.start();
    std::this_thread::sleep_for(2500ms);
    ASSERT_EQ(daemon.cli({"schedule", "pause", "ticker", "tick"}).exit_code, 0);

    // A firing is counted when its event is queued and printed when it runs, a moment
    // later: compare the two once the last one queued has run.
    json schedule;
    std::vector<std::string> times;
    EXPECT_TRUE(eventually([&] {
        auto listed = daemon.cli({"schedule", "list", "ticker", "--json"});
        if (listed.exit_code != 0) return false;
        schedule = json::parse(listed.out)["schedules"].at(0);
        times.clear();
        for (const std::string& event : printed_events(daemon, "ticker")) times.push_back(json::parse(event)["time"]);
        return schedule["fired"] == times.size();
    })) << schedule.dump() << " against " << times.size() << " runs";
    const std::set<std::string> distinct(times.begin(), times.end());
    EXPECT_EQ(distinct.size(), times.size()) << "a due time fired twice";
    EXPECT_TRUE(std::is_sorted(times.begin(), times.end()));
    EXPECT_GE(schedule["missed"], 1) << "the due times of the stop, but the latest, are missed";
    EXPECT_EQ(schedule["state"], "paused");

    std::this_thread::sleep_for(2s);
    EXPECT_EQ(printed_events(daemon, "ticker").size(), times.size()) << "a paused schedule fired";
    ASSERT_EQ(daemon.cli({"schedule", "delete", "ticker", "tick"}).exit_code, 0);
}

TEST(Events, ScheduleExpressionsAreCheckedWhenAdded) {
    DaemonProcess daemon;
    daemon.start();
    ASSERT_EQ(daemon.deploy("ticker", fixture_library("print_event")).exit_code, 0);
    auto bad_cron = daemon.cli({"schedule", "add", "ticker", "--cron", "cron(0 12 * * * *)"});
    EXPECT_EQ(bad_cron.exit_code, 1) << bad_cron;
    EXPECT_NE(bad_cron.err.find("?"), std::string::npos) << bad_cron;
    auto bad_zone = daemon.cli({"schedule", "add", "ticker", "--cron", "0 12 * * *", "--timezone", "../etc/passwd"});
    EXPECT_EQ(bad_zone.exit_code, 1) << bad_zone;
    auto unknown = daemon.cli({"schedule", "add", "nobody", "--every", "5 minutes"});
    EXPECT_EQ(unknown.exit_code, 3) << unknown;
    auto both = daemon.cli({"schedule", "add", "ticker", "--every", "5 minutes", "--cron", "* * * * *"});
    EXPECT_EQ(both.exit_code, 2) << both;

    auto paris = daemon.cli({"schedule", "add", "ticker", "--cron", "cron(30 2 * * ? *)", "--timezone",
                             "Europe/Paris", "--json"});
    ASSERT_EQ(paris.exit_code, 0) << paris;
    const json schedule = json::parse(paris.out);
    EXPECT_EQ(schedule["id"], "cron-30-2");
    EXPECT_EQ(schedule["timezone"], "Europe/Paris");
    const std::string next = schedule["next_fire_at"];
    // 02:30 in Paris is 00:30 or 01:30 UTC.
    EXPECT_TRUE(next.substr(11, 5) == "00:30" || next.substr(11, 5) == "01:30") << next;
    auto again = daemon.cli({"schedule", "add", "ticker", "--cron", "cron(30 2 * * ? *)"});
    EXPECT_EQ(again.exit_code, 1) << again;
    EXPECT_NE(again.err.find("already"), std::string::npos) << again;
}

TEST(Events, DeletingAFunctionDropsItsQueue) {
    DaemonProcess daemon;
    daemon.start();
    ASSERT_EQ(daemon.deploy("sleeper", function_library("sleep"), {"--max-concurrency", "1", "--timeout", "10"}).exit_code, 0);
    for (int i = 0; i < 5; ++i) ASSERT_EQ(enqueue(daemon, "sleeper", "2000").status, 202);
    auto queue = daemon.cli({"queue", "sleeper", "--json"});
    ASSERT_EQ(queue.exit_code, 0) << queue;
    EXPECT_GE(json::parse(queue.out)["events"], 4);
    auto deleted = daemon.http().request("DELETE", "/v1/functions/sleeper");
    ASSERT_EQ(deleted.status, 200) << deleted.body;
    EXPECT_GE(json::parse(deleted.body)["events_dropped"], 4);
    // A new function of the same name inherits nothing.
    ASSERT_EQ(daemon.deploy("sleeper", fixture_library("print_event")).exit_code, 0);
    std::this_thread::sleep_for(500ms);
    EXPECT_TRUE(printed_events(daemon, "sleeper").empty());
}

// An event for ?version=N runs with that version's timeout: its lease must outlast it even
// when $LATEST has a shorter one, or the event is claimed again while it runs.
TEST(Events, AnEventForAnOlderVersionWithALongerTimeoutRunsOnce) {
    DaemonProcess daemon(json{{"limits", {{"init_timeout_s", 3}}}});
    daemon.start();
    ASSERT_EQ(daemon.deploy("sleeper", function_library("sleep"), {"--timeout", "20"}).exit_code, 0);
    ASSERT_EQ(daemon.deploy("sleeper", function_library("sleep"), {"--timeout", "1"}).exit_code, 0);
    // Version 1 runs 16 s; a lease from $LATEST's timeout (2 x 1 s, the 3 s init, 10 s) ends after 15 s.
    auto queued = daemon.http().request("POST", "/v1/functions/sleeper/invoke?version=1", "16000",
                                        {{"X-Sofaas-Invocation-Type", "Event"}});
    ASSERT_EQ(queued.status, 202) << queued.body;
    ASSERT_TRUE(eventually([&] { return daemon.billing_records("sleeper").size() == 1; }, 30s));
    std::this_thread::sleep_for(1s);
    const auto records = daemon.billing_records("sleeper");
    ASSERT_EQ(records.size(), 1u) << "claimed again while it ran";
    EXPECT_EQ(records[0]["attempt"], 1);
    EXPECT_EQ(records[0]["status"], "ok");
}

// A firing's event is queued under a key of its own, per due time; a caller's idempotency
// key must not be able to take it first, or any invoke key could cancel a schedule's runs.
TEST(Events, ACallersIdempotencyKeyCannotCancelAScheduledFiring) {
    DaemonProcess daemon;
    daemon.start();
    ASSERT_EQ(daemon.deploy("ticker", fixture_library("print_event")).exit_code, 0);
    auto added = daemon.cli({"schedule", "add", "ticker", "--every", "rate(3 seconds)", "--id", "tick", "--json"});
    ASSERT_EQ(added.exit_code, 0) << added;
    const auto next = time_of(json::parse(added.out)["next_fire_at"]);
    const int64_t due_ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(next.time_since_epoch()).count();
    for (int k = 0; k < 3; ++k) {
        const std::string key = "schedule/tick/" + std::to_string(due_ms + k * 3000);
        ASSERT_EQ(enqueue(daemon, "ticker", "caller", {{"X-Sofaas-Idempotency-Key", key}}).status, 202);
    }
    ASSERT_TRUE(eventually(
        [&] {
            const auto events = printed_events(daemon, "ticker");
            return std::any_of(events.begin(), events.end(),
                               [](const std::string& event) { return event.find("Scheduled Event") != std::string::npos; });
        },
        8s));
}

}  // namespace
}  // namespace sofaas::testing
