// Several nodes on one store (two stores on one SQLite file, two on one PostgreSQL
// database): claims racing for the same events, a schedule's due time fired by both, the
// runs a dead node left; and every field of the interface's structs kept as it was given.
#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <set>
#include <thread>

#include "event_store_support.h"

using namespace sofaas;
using namespace sofaas::testing;

TEST_P(EventStoreTest, TwoNodesClaimingAtOnceNeverGetTheSameEvent) {
    auto other_node = open_store();
    std::vector<NewEvent> events;
    for (int i = 0; i < 400; ++i) events.push_back(event("f", "r" + std::to_string(i)));
    enqueue_all(*store, std::move(events));

    // Each node claims a few at a time, as its dispatcher does, until none are left.
    auto drain = [](EventStore& node, const std::string& owner) {
        std::vector<std::string> mine;
        for (;;) {
            auto claimed = node.claim("f", owner, t0, t0 + 60'000, 7);
            if (claimed.empty()) return mine;
            for (const auto& queued : claimed) mine.push_back(queued.event.request_id);
        }
    };
    auto a = std::async(std::launch::async, drain, std::ref(*store), "node-a");
    auto b = std::async(std::launch::async, drain, std::ref(*other_node), "node-b");
    std::vector<std::string> claimed_a = a.get();
    std::vector<std::string> claimed_b = b.get();

    std::set<std::string> all(claimed_a.begin(), claimed_a.end());
    for (const auto& id : claimed_b) EXPECT_TRUE(all.insert(id).second) << id << " claimed by both nodes";
    EXPECT_EQ(all.size(), 400u);
    EXPECT_EQ(claimed_a.size() + claimed_b.size(), 400u);
}

TEST_P(EventStoreTest, ADueTimeFiresOnceWhenTwoNodesRace) {
    auto other_node = open_store();
    ASSERT_TRUE(store->add_schedule(schedule("f", "s")));
    std::atomic<int> fired{0};
    for (int slot = 1; slot <= 20; ++slot) {
        const UnixMillis due = t0 + slot * 300'000;
        auto race = [&](EventStore& node) {
            if (node.fire("f", "s", due, 0, firing("f", "s", due))) ++fired;
        };
        std::thread a(race, std::ref(*store));
        std::thread b(race, std::ref(*other_node));
        a.join();
        b.join();
    }
    EXPECT_EQ(fired.load(), 20);
    EXPECT_EQ(depth_of(*store, "f"), 20u);
    EXPECT_EQ(store->schedules("f").at(0).fired, 20u);
    EXPECT_EQ(other_node->schedules("f").at(0).last_due_ms, t0 + 20 * 300'000);
}

TEST_P(EventStoreTest, AnEventADeadNodeWasRunningRunsAgainOnAnotherOnceItsLeaseEnds) {
    auto dead_node = open_store();
    enqueue(*store, event("f", "r1"));
    ASSERT_EQ(dead_node->claim("f", "node-dead", t0, t0 + 30'000, 10).size(), 1u);
    dead_node.reset();  // it never settles

    EXPECT_TRUE(store->claim("f", "node-b", t0 + 29'999, t0 + 90'000, 10).empty());
    EXPECT_EQ(store->next_due("f"), t0 + 30'000);
    auto again = store->claim("f", "node-b", t0 + 30'000, t0 + 90'000, 10);
    ASSERT_EQ(again.size(), 1u);
    EXPECT_EQ(again[0].event.request_id, "r1");
    EXPECT_EQ(again[0].runs, 2u);
    EXPECT_EQ(settle(*store, again[0].id, done_settlement()), "");
    EXPECT_EQ(depth_of(*store, "f"), 0u);
}

TEST_P(EventStoreTest, EveryFieldIsKeptAsGivenBytesIncluded) {
    // Bytes no text column would take: a NUL, a lone UTF-8 continuation byte, quotes.
    const std::string bytes("\x00\x80'\"\\ \xff end", 11);
    NewEvent original = event("f", "r1", t0 + 5, t0 + 1);
    original.version = 7;
    original.trigger = Trigger::schedule;
    original.payload = bytes;
    original.idempotency_key = "key " + bytes;
    original.principal = {"ASIAEXAMPLE", "reader", "sub " + bytes, "nightly"};
    ASSERT_EQ(enqueue(*store, original).outcome, EnqueueOutcome::queued);

    auto claimed = store->claim("f", "node-a", t0 + 5, t0 + 60'000, 1);
    ASSERT_EQ(claimed.size(), 1u);
    const NewEvent& kept = claimed[0].event;
    EXPECT_EQ(kept.request_id, original.request_id);
    EXPECT_EQ(kept.function, original.function);
    EXPECT_EQ(kept.version, original.version);
    EXPECT_EQ(kept.trigger, original.trigger);
    EXPECT_EQ(kept.payload, original.payload);
    EXPECT_EQ(kept.idempotency_key, original.idempotency_key);
    EXPECT_EQ(kept.enqueued_ms, original.enqueued_ms);
    EXPECT_EQ(kept.not_before_ms, original.not_before_ms);
    EXPECT_EQ(kept.principal.key_id, original.principal.key_id);
    EXPECT_EQ(kept.principal.role, original.principal.role);
    EXPECT_EQ(kept.principal.user_sub, original.principal.user_sub);
    EXPECT_EQ(kept.principal.schedule, original.principal.schedule);

    Settlement retry{SettlementKind::retry};
    retry.not_before_ms = t0 + 10;
    retry.error_type = "Type " + bytes;
    retry.error_message = "Message " + bytes;
    ASSERT_EQ(settle(*store, claimed[0].id, retry), "");
    auto retried = store->claim("f", "node-a", t0 + 10, t0 + 60'000, 1);
    ASSERT_EQ(retried.size(), 1u);
    EXPECT_EQ(retried[0].failures, 1u);
    EXPECT_EQ(retried[0].last_error_type, retry.error_type);
    EXPECT_EQ(retried[0].last_error_message, retry.error_message);
    EXPECT_EQ(retried[0].event.not_before_ms, t0 + 10);

    Settlement dead = dead_letter_settlement(t0 + 20);
    dead.error_message = "Dead " + bytes;
    ASSERT_EQ(settle(*store, retried[0].id, dead), "");
    auto letter = store->dead_letter("f", store->dead_letters("f", 0, 1).at(0).id);
    ASSERT_TRUE(letter);
    EXPECT_EQ(letter->event.payload, bytes);
    EXPECT_EQ(letter->event.idempotency_key, original.idempotency_key);
    EXPECT_EQ(letter->event.trigger, Trigger::schedule);
    EXPECT_EQ(letter->event.version, 7u);
    EXPECT_EQ(letter->event.enqueued_ms, t0 + 1);
    EXPECT_EQ(letter->event.principal.user_sub, original.principal.user_sub);
    EXPECT_EQ(letter->event.principal.schedule, "nightly");
    EXPECT_EQ(letter->runs, 2u);
    EXPECT_EQ(letter->condition, FailureCondition::event_age_exceeded);
    EXPECT_EQ(letter->error_type, dead.error_type);
    EXPECT_EQ(letter->error_message, dead.error_message);
    EXPECT_EQ(letter->failed_ms, t0 + 20);

    Schedule given = schedule("f", "s");
    given.expression = "cron(0 12 * * ? *)";
    given.timezone = "Europe/Paris";
    given.payload = bytes;
    given.paused = true;
    given.last_due_ms = t0 - 1;
    given.fired = 3;
    given.missed = 2;
    ASSERT_TRUE(store->add_schedule(given));
    Schedule read = store->schedules("f").at(0);
    EXPECT_EQ(read.function, given.function);
    EXPECT_EQ(read.id, given.id);
    EXPECT_EQ(read.expression, given.expression);
    EXPECT_EQ(read.timezone, given.timezone);
    EXPECT_EQ(read.payload, given.payload);
    EXPECT_EQ(read.paused, given.paused);
    EXPECT_EQ(read.created_ms, given.created_ms);
    EXPECT_EQ(read.last_due_ms, given.last_due_ms);
    EXPECT_EQ(read.fired, given.fired);
    EXPECT_EQ(read.missed, given.missed);
}
