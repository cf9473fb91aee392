// The event store's contract (events/event_store.h) on both stores, the SQLite file and a
// PostgreSQL database: the queue with leases, settlements, idempotency keys, dead letters,
// schedules and their firings, what survives a reopen. Dead letters and schedules: event_store_admin.cpp; durability, disk faults and
// capacity: event_store_durability.cpp.
#include <gtest/gtest.h>

#include <sys/stat.h>

#include <atomic>
#include <fstream>
#include <future>
#include <set>
#include <thread>

#include <sqlite3.h>

#include "event_store_support.h"

using namespace sofaas;
using namespace sofaas::testing;

INSTANTIATE_TEST_SUITE_P(Stores, EventStoreTest, ::testing::Values(StoreKind::sqlite, StoreKind::postgres),
                         store_kind_name);

TEST_F(SqliteEventStoreTest, CreatesAPrivateFileAtTheCurrentSchemaVersion) {
    ASSERT_EQ(enqueue(*store, event("f", "r1")).outcome, EnqueueOutcome::queued);
    for (const char* suffix : {"", "-wal"}) {
        struct stat status {};
        ASSERT_EQ(::stat((file.string() + suffix).c_str(), &status), 0) << suffix;
        EXPECT_EQ(status.st_mode & 0777, 0600u) << suffix;
    }
    EXPECT_EQ(sql_integer(file, "SELECT MAX(version) FROM schema_version"), 2);
    EXPECT_EQ(sql_text(file, "PRAGMA journal_mode"), "wal");
}

TEST_F(SqliteEventStoreTest, RefusesAFileThatIsNotADatabase) {
    store.reset();
    std::ofstream(temp / "garbage.db") << std::string(8192, 'x');
    try {
        open_sqlite_event_store(temp / "garbage.db");
        FAIL() << "opened a file of garbage";
    } catch (const EventStoreError& error) {
        EXPECT_NE(std::string(error.what()).find("garbage.db"), std::string::npos) << error.what();
        EXPECT_NE(std::string(error.what()).find("not a database"), std::string::npos) << error.what();
    }
}

TEST_F(SqliteEventStoreTest, RefusesASchemaNewerThanItsOwn) {
    store.reset();
    sql_run(file, "INSERT INTO schema_version (version) VALUES (99)");
    EXPECT_THROW(open_sqlite_event_store(file), EventStoreError);
}

TEST_P(EventStoreTest, AnEventKeepsWhoQueuedItThroughItsDeadLetterAndRedrive) {
    NewEvent queued = event("f", "r1");
    queued.principal = {"ASIAEXAMPLE", "reader", "user-1", ""};
    enqueue(*store, queued);
    NewEvent fired = event("f", "r2");
    fired.trigger = Trigger::schedule;
    fired.principal.schedule = "nightly";
    enqueue(*store, fired);

    auto claimed = store->claim("f", "node-a", t0, t0 + 60'000, 10);
    ASSERT_EQ(claimed.size(), 2u);
    EXPECT_EQ(claimed[0].event.principal.key_id, "ASIAEXAMPLE");
    EXPECT_EQ(claimed[0].event.principal.role, "reader");
    EXPECT_EQ(claimed[0].event.principal.user_sub, "user-1");
    EXPECT_EQ(claimed[0].event.principal.schedule, "");
    EXPECT_EQ(claimed[1].event.principal.key_id, "");
    EXPECT_EQ(claimed[1].event.principal.schedule, "nightly");

    settle(*store, claimed[0].id, dead_letter_settlement(t0 + 1));
    auto letters = store->dead_letters("f", 0, 10);
    ASSERT_EQ(letters.size(), 1u);
    EXPECT_EQ(letters[0].event.principal.user_sub, "user-1");
    ASSERT_EQ(store->redrive("f", {}, t0 + 2), 1u);
    auto again = store->claim("f", "node-a", t0 + 2, t0 + 60'000, 10);
    ASSERT_EQ(again.size(), 1u);
    EXPECT_EQ(again[0].event.principal.key_id, "ASIAEXAMPLE");
    EXPECT_EQ(again[0].event.principal.role, "reader");
    EXPECT_EQ(again[0].event.principal.user_sub, "user-1");
}

TEST_F(SqliteEventStoreTest, AFileOfSchemaVersion1IsMigratedAndItsEventsRunWithNoPrincipal) {
    enqueue(*store, event("f", "old"));
    dead_letter_three(*store, "g");
    store.reset();
    // Back to version 1's tables, as a sofaasd before principals left the file.
    for (const char* table : {"events", "dead_letters"}) {
        for (const char* column : {"principal_key_id", "principal_role", "principal_user_sub", "principal_schedule"}) {
            sql_run(file, std::string("ALTER TABLE ") + table + " DROP COLUMN " + column);
        }
    }
    sql_run(file, "DELETE FROM schema_version WHERE version > 1");
    ASSERT_EQ(sql_text(file, "SELECT COUNT(*) FROM pragma_table_info('events') WHERE name LIKE 'principal%'"), "0");

    reopen();
    EXPECT_EQ(sql_integer(file, "SELECT MAX(version) FROM schema_version"), 2);
    auto claimed = store->claim("f", "node-a", t0, t0 + 60'000, 10);
    ASSERT_EQ(request_ids(claimed), (std::vector<std::string>{"old"}));
    EXPECT_EQ(claimed[0].event.principal.key_id, "");
    EXPECT_EQ(claimed[0].event.principal.schedule, "");
    EXPECT_EQ(store->dead_letters("g", 0, 10).size(), 3u);
    EXPECT_EQ(store->redrive("g", {}, t0 + 1), 3u);
}

TEST_P(EventStoreTest, ClaimTakesDueUnleasedEventsOldestFirstUpToTheLimit) {
    enqueue(*store, event("f", "r1"));
    enqueue(*store, event("f", "later", t0 + 5000));
    enqueue(*store, event("f", "r2"));
    enqueue(*store, event("f", "r3"));
    enqueue(*store, event("g", "other"));

    auto first = store->claim("f", "node-a", t0, t0 + 60'000, 2);
    EXPECT_EQ(request_ids(first), (std::vector<std::string>{"r1", "r2"}));
    EXPECT_LT(first[0].id, first[1].id);
    EXPECT_EQ(first[0].runs, 1u);
    EXPECT_EQ(first[0].event.payload, "{\"n\":\"r1\"}");

    // Leased ones are not claimed again while their lease lasts; "later" is not due yet.
    EXPECT_EQ(request_ids(store->claim("f", "node-b", t0 + 1000, t0 + 60'000, 10)), (std::vector<std::string>{"r3"}));
    EXPECT_EQ(request_ids(store->claim("f", "node-b", t0 + 5000, t0 + 60'000, 10)),
              (std::vector<std::string>{"later"}));
    EXPECT_TRUE(store->claim("f", "node-b", t0 + 59'999, t0 + 120'000, 10).empty());
}

TEST_P(EventStoreTest, AnExpiredLeaseIsClaimedAgainAsANewRun) {
    enqueue(*store, event("f", "r1"));
    ASSERT_EQ(store->claim("f", "node-a", t0, t0 + 1000, 10).size(), 1u);
    auto again = store->claim("f", "node-b", t0 + 1000, t0 + 2000, 10);
    ASSERT_EQ(again.size(), 1u);
    EXPECT_EQ(again[0].runs, 2u);
}

TEST_P(EventStoreTest, ReleasedLeasesAreClaimedAtOnce) {
    enqueue(*store, event("f", "mine"));
    enqueue(*store, event("f", "theirs"));
    store->claim("f", "node-a", t0, t0 + 60'000, 1);
    store->claim("f", "node-b", t0, t0 + 60'000, 1);
    store->release_leases("node-a");
    auto claimed = store->claim("f", "node-c", t0 + 1, t0 + 60'000, 10);
    EXPECT_EQ(request_ids(claimed), (std::vector<std::string>{"mine"}));
    EXPECT_EQ(claimed[0].runs, 2u);
}

TEST_P(EventStoreTest, EnqueueIsFullAtMaxQueuedCountingLeasedEvents) {
    EXPECT_EQ(enqueue(*store, event("f", "r1"), 2).outcome, EnqueueOutcome::queued);
    EXPECT_EQ(enqueue(*store, event("f", "r2"), 2).outcome, EnqueueOutcome::queued);
    store->claim("f", "node-a", t0, t0 + 60'000, 10);
    auto refused = enqueue(*store, event("f", "r3"), 2);
    EXPECT_EQ(refused.outcome, EnqueueOutcome::full);
    EXPECT_EQ(refused.request_id, "r3");
    EXPECT_EQ(enqueue(*store, event("g", "elsewhere"), 2).outcome, EnqueueOutcome::queued);

    auto claimed = store->claim("f", "node-a", t0 + 60'000, t0 + 120'000, 1);
    settle(*store, claimed.at(0).id, done_settlement());
    EXPECT_EQ(enqueue(*store, event("f", "r3"), 2).outcome, EnqueueOutcome::queued);
    EXPECT_EQ(depth_of(*store, "f"), 2u);
}

TEST_P(EventStoreTest, AnIdempotencyKeyAnswersWithTheFirstRequestIdFor24Hours) {
    auto first = event("f", "first");
    first.idempotency_key = "order-42";
    EXPECT_EQ(enqueue(*store, first).outcome, EnqueueOutcome::queued);

    auto again = event("f", "second");
    again.idempotency_key = "order-42";
    again.enqueued_ms = t0 + day_ms - 1;
    auto result = enqueue(*store, again);
    EXPECT_EQ(result.outcome, EnqueueOutcome::duplicate);
    EXPECT_EQ(result.request_id, "first");
    EXPECT_EQ(depth_of(*store, "f"), 1u);

    auto other_function = event("g", "third");
    other_function.idempotency_key = "order-42";
    EXPECT_EQ(enqueue(*store, other_function).outcome, EnqueueOutcome::queued);

    // A day later the key is free again, and the new event's.
    again.enqueued_ms = t0 + day_ms;
    EXPECT_EQ(enqueue(*store, again).outcome, EnqueueOutcome::queued);
    again.request_id = "fourth";
    again.enqueued_ms = t0 + day_ms + 1;
    EXPECT_EQ(enqueue(*store, again).request_id, "second");
}

TEST_P(EventStoreTest, AFullQueueDoesNotTakeTheIdempotencyKey) {
    enqueue(*store, event("f", "r1"), 1);
    auto keyed = event("f", "r2");
    keyed.idempotency_key = "k";
    EXPECT_EQ(enqueue(*store, keyed, 1).outcome, EnqueueOutcome::full);
    EXPECT_EQ(enqueue(*store, keyed, 2).outcome, EnqueueOutcome::queued);
}

TEST_P(EventStoreTest, ExpiredIdempotencyKeysAreForgotten) {
    auto keyed = event("f", "r1");
    keyed.idempotency_key = "k";
    enqueue(*store, keyed);
    store->expire_idempotency_keys(t0);
    keyed.request_id = "r2";
    EXPECT_EQ(enqueue(*store, keyed).outcome, EnqueueOutcome::duplicate);
    store->expire_idempotency_keys(t0 + 1);
    EXPECT_EQ(enqueue(*store, keyed).outcome, EnqueueOutcome::queued);
}

TEST_P(EventStoreTest, SettleDoneRemovesTheEvent) {
    enqueue(*store, event("f", "r1"));
    auto claimed = store->claim("f", "node-a", t0, t0 + 60'000, 1);
    EXPECT_EQ(settle(*store, claimed.at(0).id, done_settlement()), "");
    EXPECT_TRUE(store->depths().empty());
    EXPECT_FALSE(store->next_due("f"));
}

TEST_P(EventStoreTest, SettleRetryCountsAFailureAndRunsAgainLater) {
    enqueue(*store, event("f", "r1"));
    auto claimed = store->claim("f", "node-a", t0, t0 + 60'000, 1);
    Settlement retry{SettlementKind::retry, t0 + 30'000};
    retry.error_type = "Function.Error";
    retry.error_message = "bad input";
    EXPECT_EQ(settle(*store, claimed.at(0).id, retry), "");

    EXPECT_EQ(store->next_due("f"), t0 + 30'000);
    EXPECT_TRUE(store->claim("f", "node-a", t0 + 29'999, t0 + 60'000, 1).empty());
    auto again = store->claim("f", "node-a", t0 + 30'000, t0 + 60'000, 1);
    ASSERT_EQ(again.size(), 1u);
    EXPECT_EQ(again[0].failures, 1u);
    EXPECT_EQ(again[0].runs, 2u);
    EXPECT_EQ(again[0].last_error_type, "Function.Error");
    EXPECT_EQ(again[0].last_error_message, "bad input");
}

TEST_P(EventStoreTest, SettleRequeueRunsAgainLaterWithoutAFailure) {
    enqueue(*store, event("f", "r1"));
    auto claimed = store->claim("f", "node-a", t0, t0 + 60'000, 1);
    EXPECT_EQ(settle(*store, claimed.at(0).id, Settlement{SettlementKind::requeue, t0 + 500}), "");
    auto again = store->claim("f", "node-a", t0 + 500, t0 + 60'000, 1);
    ASSERT_EQ(again.size(), 1u);
    EXPECT_EQ(again[0].failures, 0u);
    EXPECT_EQ(again[0].runs, 2u);
}

TEST_P(EventStoreTest, SettleDeadLetterKeepsTheEventAndWhyItFailed) {
    auto original = event("f", "r1");
    original.version = 7;
    original.trigger = Trigger::schedule;
    enqueue(*store, original);
    store->claim("f", "node-a", t0, t0 + 1, 1);
    auto claimed = store->claim("f", "node-a", t0 + 1, t0 + 60'000, 1);
    EXPECT_EQ(settle(*store, claimed.at(0).id, dead_letter_settlement(t0 + 2)), "");

    EXPECT_TRUE(store->depths().empty());
    auto letters = store->dead_letters("f", 0, 10);
    ASSERT_EQ(letters.size(), 1u);
    const DeadLetter& letter = letters[0];
    EXPECT_EQ(letter.event.request_id, "r1");
    EXPECT_EQ(letter.event.payload, original.payload);
    EXPECT_EQ(letter.event.version, 7u);
    EXPECT_EQ(letter.event.trigger, Trigger::schedule);
    EXPECT_EQ(letter.event.enqueued_ms, t0);
    EXPECT_EQ(letter.runs, 2u);
    EXPECT_EQ(letter.condition, FailureCondition::event_age_exceeded);
    EXPECT_EQ(letter.error_type, "Function.Error");
    EXPECT_EQ(letter.error_message, "too old");
    EXPECT_EQ(letter.failed_ms, t0 + 2);
    EXPECT_EQ(store->dead_letter("f", letter.id)->event.request_id, "r1");
    EXPECT_FALSE(store->dead_letter("g", letter.id));
}

TEST_P(EventStoreTest, ASettlementsFollowUpIsStoredWithItPastTheLimit) {
    enqueue(*store, event("f", "r1"));
    enqueue(*store, event("destination", "full"), 1);
    auto claimed = store->claim("f", "node-a", t0, t0 + 60'000, 1);
    Settlement done = done_settlement();
    done.then_enqueue = event("destination", "record-of-r1");
    EXPECT_EQ(settle(*store, claimed.at(0).id, done), "");
    EXPECT_EQ(depth_of(*store, "destination"), 2u);
    EXPECT_EQ(depth_of(*store, "f"), 0u);

    // Settled twice (a lease expired meanwhile): no second follow-up, and no error.
    EXPECT_EQ(settle(*store, claimed.at(0).id, done), "");
    EXPECT_EQ(depth_of(*store, "destination"), 2u);
}

TEST_P(EventStoreTest, SettlingAnEventThatIsGoneIsNoError) {
    enqueue(*store, event("f", "r1"));
    auto claimed = store->claim("f", "node-a", t0, t0 + 60'000, 1);
    EXPECT_EQ(store->remove_function("f"), 1u);
    EXPECT_EQ(settle(*store, claimed.at(0).id, Settlement{SettlementKind::retry, t0}), "");
    EXPECT_EQ(settle(*store, claimed.at(0).id, dead_letter_settlement(t0)), "");
    EXPECT_TRUE(store->dead_letters("f", 0, 10).empty());
}

TEST_P(EventStoreTest, DepthsCountWaitingEventsAndTheirOldest) {
    enqueue(*store, event("b", "r1", 0, t0 + 5));
    enqueue(*store, event("a", "r2", 0, t0 + 9));
    enqueue(*store, event("a", "r3", 0, t0 + 3));
    store->claim("a", "node-a", t0, t0 + 60'000, 1);
    auto depths = store->depths();
    ASSERT_EQ(depths.size(), 2u);
    EXPECT_EQ(depths[0].first, "a");
    EXPECT_EQ(depths[0].second.events, 2u);
    EXPECT_EQ(depths[0].second.oldest_enqueued_ms, t0 + 3);
    EXPECT_EQ(depths[1].second.events, 1u);
}

TEST_P(EventStoreTest, NextDueIsTheEarliestTimeAnEventCanBeClaimed) {
    EXPECT_FALSE(store->next_due("f"));
    enqueue(*store, event("f", "soon", t0 + 100));
    enqueue(*store, event("f", "later", t0 + 900));
    EXPECT_EQ(store->next_due("f"), t0 + 100);
    // A leased event is due when its lease ends.
    store->claim("f", "node-a", t0 + 100, t0 + 500, 1);
    EXPECT_EQ(store->next_due("f"), t0 + 500);
    store->claim("f", "node-a", t0 + 900, t0 + 2000, 10);
    EXPECT_EQ(store->next_due("f"), t0 + 2000);
}

TEST_P(EventStoreTest, TwoThreadsNeverClaimTheSameEvent) {
    constexpr int events = 2000;
    std::vector<NewEvent> queue;
    for (int i = 0; i < events; ++i) queue.push_back(event("f", "r" + std::to_string(i)));
    enqueue_all(*store, std::move(queue));
    std::vector<int64_t> taken[2];
    std::vector<std::thread> claimers;
    for (int node = 0; node < 2; ++node) {
        claimers.emplace_back([&, node] {
            const std::string owner = "node-" + std::to_string(node);
            for (;;) {
                auto claimed = store->claim("f", owner, t0, t0 + 60'000, 7);
                if (claimed.empty()) return;
                for (const auto& queued : claimed) taken[node].push_back(queued.id);
            }
        });
    }
    for (auto& claimer : claimers) claimer.join();
    std::set<int64_t> all(taken[0].begin(), taken[0].end());
    all.insert(taken[1].begin(), taken[1].end());
    EXPECT_EQ(all.size(), static_cast<size_t>(events));
    EXPECT_EQ(taken[0].size() + taken[1].size(), static_cast<size_t>(events));
}

TEST_P(EventStoreTest, ClosingTheStoreWritesWhatWasQueuedFirst) {
    std::atomic<int> stored{0};
    for (int i = 0; i < 500; ++i) {
        store->enqueue(event("f", "r" + std::to_string(i)), 1000, [&](EnqueueResult result) {
            if (result.outcome == EnqueueOutcome::queued) ++stored;
        });
    }
    reopen();
    EXPECT_EQ(stored.load(), 500);
    EXPECT_EQ(depth_of(*store, "f"), 500u);
}

TEST_P(EventStoreTest, ACompletionCannotMakeABlockingCall) {
    std::promise<std::string> refused;
    store->enqueue(event("f", "r1"), 1000, [&](EnqueueResult) {
        try {
            store->claim("f", "node-a", t0, t0 + 1, 1);
            refused.set_value("");
        } catch (const std::logic_error& error) {
            refused.set_value(error.what());
        }
    });
    EXPECT_NE(refused.get_future().get(), "");
}
