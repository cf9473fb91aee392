// The event store's dead letters, schedules and firings, a function's removal, what a
// reopen keeps, and two stores on one storage (two nodes).
#include <gtest/gtest.h>

#include "event_store_support.h"

using namespace sofaas;
using namespace sofaas::testing;

namespace {

std::vector<std::string> letter_ids(const std::vector<DeadLetter>& letters) {
    std::vector<std::string> ids;
    for (const auto& letter : letters) ids.push_back(letter.event.request_id);
    return ids;
}

}  // namespace

TEST_P(EventStoreTest, DeadLettersArePagedOldestFirst) {
    dead_letter_three(*store, "f");
    dead_letter_three(*store, "g");
    auto first_page = store->dead_letters("f", 0, 2);
    EXPECT_EQ(letter_ids(first_page), (std::vector<std::string>{"d1", "d2"}));
    auto second_page = store->dead_letters("f", first_page.back().id, 2);
    EXPECT_EQ(letter_ids(second_page), (std::vector<std::string>{"d3"}));
    EXPECT_TRUE(store->dead_letters("f", second_page.back().id, 2).empty());
}

TEST_P(EventStoreTest, RedriveMovesTheListedDeadLettersBackAsNewArrivals) {
    dead_letter_three(*store, "f");
    auto letters = store->dead_letters("f", 0, 10);
    EXPECT_EQ(store->redrive("f", {letters[2].id, letters[0].id, 12345}, t0 + 5000), 2u);
    EXPECT_EQ(letter_ids(store->dead_letters("f", 0, 10)), (std::vector<std::string>{"d2"}));

    auto claimed = store->claim("f", "node-b", t0 + 5000, t0 + 60'000, 10);
    EXPECT_EQ(request_ids(claimed), (std::vector<std::string>{"d1", "d3"}));
    EXPECT_EQ(claimed[0].runs, 2u);  // its first run, and this one
    EXPECT_EQ(claimed[0].failures, 0u);
    EXPECT_EQ(claimed[0].event.enqueued_ms, t0 + 5000);
    EXPECT_EQ(claimed[0].event.payload, "{\"n\":\"d1\"}");
}

TEST_P(EventStoreTest, RedriveWithoutIdsMovesThemAllAndCountsThemWaiting) {
    dead_letter_three(*store, "f");
    EXPECT_EQ(store->redrive("f", {}, t0 + 5000), 3u);
    EXPECT_TRUE(store->dead_letters("f", 0, 10).empty());
    EXPECT_EQ(depth_of(*store, "f"), 3u);
    EXPECT_EQ(enqueue(*store, event("f", "one more"), 3).outcome, EnqueueOutcome::full);
}

TEST_P(EventStoreTest, PurgeDropsOnlyThatFunctionsDeadLetters) {
    dead_letter_three(*store, "f");
    dead_letter_three(*store, "g");
    EXPECT_EQ(store->purge_dead_letters("f"), 3u);
    EXPECT_TRUE(store->dead_letters("f", 0, 10).empty());
    EXPECT_EQ(store->dead_letters("g", 0, 10).size(), 3u);
}

TEST_P(EventStoreTest, SchedulesAreListedByFunctionThenId) {
    EXPECT_TRUE(store->add_schedule(schedule("b", "nightly")));
    auto with_payload = schedule("a", "zeta");
    with_payload.payload = std::string("\0binary", 7);
    with_payload.timezone = "Europe/Paris";
    EXPECT_TRUE(store->add_schedule(with_payload));
    EXPECT_TRUE(store->add_schedule(schedule("a", "alpha")));
    EXPECT_FALSE(store->add_schedule(schedule("a", "alpha")));

    auto all = store->schedules(std::nullopt);
    ASSERT_EQ(all.size(), 3u);
    EXPECT_EQ(all[0].id, "alpha");
    EXPECT_FALSE(all[0].payload);
    EXPECT_EQ(all[1].id, "zeta");
    EXPECT_EQ(all[1].payload, with_payload.payload);
    EXPECT_EQ(all[1].timezone, "Europe/Paris");
    EXPECT_EQ(all[1].created_ms, t0);
    EXPECT_EQ(all[2].function, "b");
    EXPECT_EQ(store->schedules("b").size(), 1u);
}

TEST_P(EventStoreTest, SchedulesPauseResumeAndDelete) {
    store->add_schedule(schedule("f", "s"));
    EXPECT_TRUE(store->set_paused("f", "s", true));
    EXPECT_TRUE(store->schedules("f").at(0).paused);
    EXPECT_TRUE(store->set_paused("f", "s", false));
    EXPECT_FALSE(store->schedules("f").at(0).paused);
    EXPECT_FALSE(store->set_paused("f", "missing", true));
    EXPECT_TRUE(store->delete_schedule("f", "s"));
    EXPECT_FALSE(store->delete_schedule("f", "s"));
    EXPECT_TRUE(store->schedules(std::nullopt).empty());
}

TEST_P(EventStoreTest, EachDueTimeFiresOnce) {
    store->add_schedule(schedule("f", "s"));
    EXPECT_TRUE(store->fire("f", "s", t0 + 300'000, 2, firing("f", "s", t0 + 300'000)));
    EXPECT_FALSE(store->fire("f", "s", t0 + 300'000, 2, firing("f", "s", t0 + 300'000)));
    EXPECT_FALSE(store->fire("f", "s", t0 + 100, 0, firing("f", "s", t0 + 100)));

    Schedule fired = store->schedules("f").at(0);
    EXPECT_EQ(fired.last_due_ms, t0 + 300'000);
    EXPECT_EQ(fired.fired, 1u);
    EXPECT_EQ(fired.missed, 2u);
    auto claimed = store->claim("f", "node-a", t0 + 300'000, t0 + 360'000, 10);
    ASSERT_EQ(claimed.size(), 1u);
    EXPECT_EQ(claimed[0].event.trigger, Trigger::schedule);
    EXPECT_EQ(claimed[0].event.request_id, "fire-" + std::to_string(t0 + 300'000));
}

TEST_P(EventStoreTest, APausedOrMissingScheduleDoesNotFire) {
    EXPECT_FALSE(store->fire("f", "s", t0, 0, firing("f", "s", t0)));
    store->add_schedule(schedule("f", "s"));
    store->set_paused("f", "s", true);
    EXPECT_FALSE(store->fire("f", "s", t0, 0, firing("f", "s", t0)));
    EXPECT_EQ(store->schedules("f").at(0).fired, 0u);
    EXPECT_TRUE(store->depths().empty());
}

TEST_P(EventStoreTest, AScheduleAddedAgainDoesNotFireADueTimeTwice) {
    store->add_schedule(schedule("f", "s"));
    EXPECT_TRUE(store->fire("f", "s", t0, 0, firing("f", "s", t0)));
    store->delete_schedule("f", "s");
    store->add_schedule(schedule("f", "s"));
    // Its idempotency key remembers the firing; the schedule moves past it all the same.
    EXPECT_FALSE(store->fire("f", "s", t0, 0, firing("f", "s", t0)));
    EXPECT_EQ(depth_of(*store, "f"), 1u);
    EXPECT_EQ(store->schedules("f").at(0).last_due_ms, t0);
}

TEST_P(EventStoreTest, RemovingAFunctionDropsAllItHad) {
    dead_letter_three(*store, "f");
    store->add_schedule(schedule("f", "s"));
    store->add_schedule(schedule("g", "s"));
    auto keyed = event("f", "r1");
    keyed.idempotency_key = "k";
    enqueue(*store, keyed, 2);
    enqueue(*store, event("f", "r2"), 2);
    enqueue(*store, event("g", "r3"));

    EXPECT_EQ(store->remove_function("f"), 2u);
    EXPECT_EQ(depth_of(*store, "f"), 0u);
    EXPECT_EQ(depth_of(*store, "g"), 1u);
    EXPECT_TRUE(store->dead_letters("f", 0, 10).empty());
    EXPECT_EQ(store->schedules(std::nullopt).size(), 1u);
    // Its key and its count are gone with it.
    keyed.request_id = "r4";
    EXPECT_EQ(enqueue(*store, keyed, 2).outcome, EnqueueOutcome::queued);
    EXPECT_EQ(enqueue(*store, event("f", "r5"), 2).outcome, EnqueueOutcome::queued);
}

TEST_P(EventStoreTest, EverythingIsThereAfterAReopen) {
    dead_letter_three(*store, "f");
    store->add_schedule(schedule("f", "s"));
    store->fire("f", "s", t0, 1, firing("f", "s", t0));
    auto keyed = event("f", "r1");
    keyed.idempotency_key = "k";
    enqueue(*store, keyed);
    auto leased = store->claim("f", "node-a", t0, t0 + 60'000, 1);

    reopen();
    EXPECT_EQ(depth_of(*store, "f"), 2u);
    EXPECT_EQ(store->dead_letters("f", 0, 10).size(), 3u);
    EXPECT_EQ(store->schedules("f").at(0).last_due_ms, t0);
    keyed.request_id = "r2";
    EXPECT_EQ(enqueue(*store, keyed).request_id, "r1");
    // The counts too: two waiting, one of them still leased.
    EXPECT_EQ(enqueue(*store, event("f", "r3"), 2).outcome, EnqueueOutcome::full);
    EXPECT_EQ(request_ids(store->claim("f", "node-b", t0, t0 + 60'000, 10)), (std::vector<std::string>{"r1"}));
}

TEST_P(EventStoreTest, TwoStoresOnOneStorageShareLeasesAndCounts) {
    auto other_node = open_store();
    enqueue(*store, event("f", "r1"), 2);
    enqueue(*other_node, event("f", "r2"), 2);
    EXPECT_EQ(enqueue(*store, event("f", "r3"), 2).outcome, EnqueueOutcome::full);

    auto mine = store->claim("f", "node-a", t0, t0 + 60'000, 1);
    auto theirs = other_node->claim("f", "node-b", t0, t0 + 60'000, 10);
    EXPECT_EQ(request_ids(mine), (std::vector<std::string>{"r1"}));
    EXPECT_EQ(request_ids(theirs), (std::vector<std::string>{"r2"}));
    EXPECT_TRUE(store->claim("f", "node-a", t0 + 59'999, t0 + 60'000, 10).empty());

    settle(*other_node, theirs.at(0).id, done_settlement());
    EXPECT_EQ(enqueue(*store, event("f", "r3"), 2).outcome, EnqueueOutcome::queued);
}

TEST_P(EventStoreTest, OneFaultyWriteFailsAloneNotItsBatch) {
    // A trigger makes the storage refuse one function's events (as a constraint would).
    run_sql("CREATE TRIGGER refuse_poison BEFORE INSERT ON events WHEN NEW.function_name = 'poison' "
            "BEGIN SELECT RAISE(ABORT, 'poisoned event'); END",
            "CREATE FUNCTION refuse_poison() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            "IF NEW.function_name = 'poison' THEN RAISE EXCEPTION 'poisoned event'; END IF; RETURN NEW; END $$; "
            "CREATE TRIGGER refuse_poison BEFORE INSERT ON events FOR EACH ROW EXECUTE FUNCTION refuse_poison()");
    std::vector<NewEvent> events;
    for (int i = 0; i < 300; ++i) events.push_back(event(i % 3 == 1 ? "poison" : "f", "r" + std::to_string(i)));
    auto results = enqueue_all(*store, std::move(events), 200);
    for (size_t i = 0; i < results.size(); ++i) {
        if (i % 3 == 1) {
            EXPECT_EQ(results[i].outcome, EnqueueOutcome::failed) << i;
            EXPECT_NE(results[i].error.find("poisoned event"), std::string::npos) << results[i].error;
        } else {
            EXPECT_EQ(results[i].outcome, EnqueueOutcome::queued) << i << ": " << results[i].error;
        }
    }
    reopen();
    EXPECT_EQ(depth_of(*store, "f"), 200u);
    EXPECT_EQ(depth_of(*store, "poison"), 0u);
    EXPECT_EQ(enqueue(*store, event("f", "one more"), 200).outcome, EnqueueOutcome::full);
}
