// What only the PostgreSQL event store does: its server restarts under it, a URL it cannot
// use, its schema shared with other nodes.
#include <gtest/gtest.h>

#include "event_store_support.h"
#include "store/postgres_schema.h"

using namespace sofaas;
using namespace sofaas::testing;

namespace {

class PostgresEventStoreTest : public ::testing::Test {
protected:
    PostgresServer& server = PostgresServer::shared();
    std::string database = server.create_database();
    std::unique_ptr<EventStore> store = open_postgres_event_store(database);
};

// With a server of its own, to stop and restart.
class PostgresOutageTest : public ::testing::Test {
protected:
    PostgresServer server;
    std::unique_ptr<EventStore> store = open_postgres_event_store(server.create_database());
};

}  // namespace

TEST_F(PostgresOutageTest, AServerRestartFailsTheWritesUnderWayAndTheNextOnesWork) {
    ASSERT_EQ(enqueue(*store, event("f", "before")).outcome, EnqueueOutcome::queued);
    server.restart();

    // The write that finds the connection gone fails whole, saying why; the next one makes
    // the connection again. Reads likewise.
    EnqueueResult lost = enqueue(*store, event("f", "during"));
    EXPECT_EQ(lost.outcome, EnqueueOutcome::failed);
    EXPECT_NE(lost.error.find("connection"), std::string::npos) << lost.error;
    EXPECT_THROW(store->depths(), EventStoreError);

    EXPECT_EQ(enqueue(*store, event("f", "after")).outcome, EnqueueOutcome::queued);
    EXPECT_EQ(request_ids(store->claim("f", "node-a", t0, t0 + 60'000, 10)),
              (std::vector<std::string>{"before", "after"}));
    EXPECT_EQ(depth_of(*store, "f"), 2u);
}

TEST_F(PostgresOutageTest, ABlockingCallDuringAnOutageThrowsAndTheStoreCarriesOn) {
    server.stop();
    EXPECT_THROW(store->claim("f", "node-a", t0, t0 + 60'000, 10), EventStoreError);
    EXPECT_THROW(store->schedules(std::nullopt), EventStoreError);
    server.start();
    EXPECT_TRUE(store->add_schedule(schedule("f", "s")));
    EXPECT_EQ(store->schedules(std::nullopt).size(), 1u);
}

TEST_F(PostgresEventStoreTest, AnUnreachableServerOrBadUrlIsAnEventStoreErrorWithoutThePassword) {
    for (const std::string url : {"postgresql://sofaas:s3cret@/missing?host=/nonexistent",
                                  "postgresql://sofaas:s3cret@[::1/db", "sqlite"}) {
        try {
            open_postgres_event_store(url);
            FAIL() << url;
        } catch (const EventStoreError& error) {
            EXPECT_EQ(std::string(error.what()).find("s3cret"), std::string::npos) << error.what();
        }
    }
    try {
        open_postgres_event_store(server.url("no_such_database"));
        FAIL();
    } catch (const EventStoreError& error) {
        EXPECT_NE(std::string(error.what()).find("no_such_database"), std::string::npos) << error.what();
    }
}

TEST_F(PostgresEventStoreTest, NodesOpeningAtOnceShareOneSchema) {
    const std::string fresh = server.create_database();
    std::vector<std::future<std::unique_ptr<EventStore>>> nodes;
    for (int i = 0; i < 4; ++i) {
        nodes.push_back(std::async(std::launch::async, [&] { return open_postgres_event_store(fresh); }));
    }
    std::vector<std::unique_ptr<EventStore>> opened;
    for (auto& node : nodes) ASSERT_NO_THROW(opened.push_back(node.get()));
    ASSERT_EQ(enqueue(*opened[0], event("f", "r1")).outcome, EnqueueOutcome::queued);
    EXPECT_EQ(depth_of(*opened[3], "f"), 1u);
    PostgresConnection connection(fresh);
    EXPECT_EQ(postgres_schema_version(connection, "events"), 1);
}

TEST_F(PostgresEventStoreTest, ASchemaNewerThanItsOwnIsRefused) {
    store.reset();
    PostgresConnection(database).run("UPDATE sofaas_schema SET version = 99 WHERE component = 'events'");
    try {
        open_postgres_event_store(database);
        FAIL();
    } catch (const EventStoreError& error) {
        EXPECT_NE(std::string(error.what()).find("version 99"), std::string::npos) << error.what();
    }
}
