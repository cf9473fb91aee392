// The PostgreSQL connection (store/postgres_connection.h) and schema migrations
// (store/postgres_schema.h) against a real server (support/postgres_server.h).
#include <gtest/gtest.h>

#include <array>
#include <future>
#include <thread>

#include "store/postgres_connection.h"
#include "store/postgres_schema.h"
#include "support/postgres_server.h"

using namespace sofaas;
using namespace sofaas::testing;

namespace {

class PostgresConnectionTest : public ::testing::Test {
protected:
    PostgresServer& server = PostgresServer::shared();
    std::string url = server.create_database();
};

PostgresError::Kind kind_of_failure(PostgresConnection& connection, const std::string& sql) {
    try {
        connection.run(sql);
    } catch (const PostgresError& error) {
        return error.kind();
    }
    ADD_FAILURE() << sql << " did not fail";
    return PostgresError::Kind::statement;
}

constexpr std::array<std::string_view, 2> two_steps{
    "CREATE TABLE notes (id BIGINT PRIMARY KEY, body TEXT NOT NULL)",
    "ALTER TABLE notes ADD COLUMN author TEXT NOT NULL DEFAULT ''",
};

}  // namespace

TEST_F(PostgresConnectionTest, ParametersCarryEveryKindOfValueUnchanged) {
    PostgresConnection connection(url);
    connection.run("CREATE TABLE kinds (n BIGINT, t TEXT, b BYTEA, maybe TEXT)");
    const std::string binary("a\0b\xff'\"\\", 7);
    const std::string quoted = "it's \"quoted\"; DROP TABLE kinds; --";
    connection.run("INSERT INTO kinds VALUES ($1, $2, $3, $4)",
                   {INT64_MIN, quoted, Bytes{binary}, std::optional<std::string>()});
    PostgresRows rows = connection.run("SELECT n, t, b, maybe FROM kinds");
    ASSERT_EQ(rows.size(), 1u);
    EXPECT_EQ(rows.integer(0, 0), INT64_MIN);
    EXPECT_EQ(rows.text(0, 1), quoted);
    EXPECT_EQ(rows.bytes(0, 2), binary);
    EXPECT_TRUE(rows.is_null(0, 3));
    EXPECT_EQ(rows.optional_text(0, 3), std::nullopt);
    EXPECT_EQ(connection.run("SELECT count(*) FROM kinds").integer(0, 0), 1);
}

TEST_F(PostgresConnectionTest, AServerThatStopsAnsweringFailsACallInsteadOfHangingIt) {
    PostgresConnection db(url);
    EXPECT_EQ(db.setting("connect_timeout"), "10");
    EXPECT_EQ(db.setting("keepalives_idle"), "10");
    EXPECT_EQ(db.setting("tcp_user_timeout"), "30000");
    // The URL's own settings win.
    PostgresConnection own(url + (url.find('?') == std::string::npos ? "?" : "&") + "connect_timeout=3");
    EXPECT_EQ(own.setting("connect_timeout"), "3");
}

TEST_F(PostgresConnectionTest, AffectedCountsTheRowsAStatementChanged) {
    PostgresConnection connection(url);
    connection.run("CREATE TABLE items (id BIGINT)");
    EXPECT_EQ(connection.run("INSERT INTO items SELECT generate_series(1, 5)").affected(), 5u);
    EXPECT_EQ(connection.run("DELETE FROM items WHERE id > $1", {3}).affected(), 2u);
}

TEST_F(PostgresConnectionTest, ErrorsAreTypedBySqlState) {
    PostgresConnection connection(url);
    connection.run("CREATE TABLE unique_ids (id BIGINT PRIMARY KEY)");
    connection.run("INSERT INTO unique_ids VALUES (1)");
    EXPECT_EQ(kind_of_failure(connection, "INSERT INTO unique_ids VALUES (1)"), PostgresError::Kind::conflict);
    EXPECT_EQ(kind_of_failure(connection, "SELEC 1"), PostgresError::Kind::statement);
    try {
        connection.run("SELECT * FROM no_such_table");
        FAIL();
    } catch (const PostgresError& error) {
        EXPECT_EQ(error.sqlstate(), "42P01");
        EXPECT_NE(std::string(error.what()).find("no_such_table"), std::string::npos) << error.what();
    }
}

TEST_F(PostgresConnectionTest, ATransactionCommitsWhenItsWorkReturnsAndRollsBackWhenItThrows) {
    PostgresConnection connection(url);
    connection.run("CREATE TABLE items (id BIGINT)");
    connection.transaction([&] { connection.run("INSERT INTO items VALUES (1)"); });
    EXPECT_THROW(connection.transaction([&] {
        connection.run("INSERT INTO items VALUES (2)");
        throw std::runtime_error("changed my mind");
    }),
                 std::runtime_error);
    EXPECT_FALSE(connection.in_transaction());
    EXPECT_EQ(connection.run("SELECT count(*), max(id) FROM items").integer(0, 1), 1);
    EXPECT_EQ(connection.transaction([&] { return connection.run("SELECT count(*) FROM items").integer(0, 0); }), 1);
}

TEST_F(PostgresConnectionTest, AMalformedOrUnreachableUrlIsAConnectionErrorWithoutThePassword) {
    for (const std::string bad : {"postgresql://user:s3cret@[::1/db", "postgresql://user@[::1/db?password=s3cret",
                                  "mysql://localhost/db",
                                  "postgresql://user:s3cret@/nodb?host=/nonexistent-socket-dir"}) {
        try {
            PostgresConnection connection(bad);
            FAIL() << bad;
        } catch (const PostgresError& error) {
            EXPECT_EQ(error.kind(), PostgresError::Kind::connection) << bad;
            EXPECT_EQ(std::string(error.what()).find("s3cret"), std::string::npos) << bad << ": " << error.what();
        }
    }
}

TEST(PostgresConnection, ADroppedConnectionFailsOneCallAndIsMadeAgainOnTheNext) {
    PostgresServer server;  // its own: restarted
    PostgresConnection connection(server.create_database());
    ASSERT_EQ(connection.run("SELECT 1").integer(0, 0), 1);
    server.restart();
    EXPECT_EQ(kind_of_failure(connection, "SELECT 2"), PostgresError::Kind::connection);
    EXPECT_EQ(connection.run("SELECT 3").integer(0, 0), 3);
}

TEST(PostgresConnection, AConnectionRefusedWhileTheServerIsDownWorksOnceItIsBack) {
    PostgresServer server;  // its own: stopped
    PostgresConnection connection(server.create_database());
    server.stop();
    EXPECT_EQ(kind_of_failure(connection, "SELECT 1"), PostgresError::Kind::connection);
    EXPECT_EQ(kind_of_failure(connection, "SELECT 1"), PostgresError::Kind::connection);
    server.start();
    EXPECT_EQ(connection.run("SELECT 4").integer(0, 0), 4);
}

TEST_F(PostgresConnectionTest, MigrationsBringTheSchemaToTheLatestVersionOnce) {
    PostgresConnection connection(url);
    EXPECT_EQ(postgres_schema_version(connection, "notes"), 0);
    migrate_postgres_schema(connection, "notes", std::span(two_steps).first(1));
    EXPECT_EQ(postgres_schema_version(connection, "notes"), 1);
    connection.run("INSERT INTO notes (id, body) VALUES (1, 'kept')");
    migrate_postgres_schema(connection, "notes", two_steps);
    migrate_postgres_schema(connection, "notes", two_steps);
    EXPECT_EQ(postgres_schema_version(connection, "notes"), 2);
    EXPECT_EQ(connection.run("SELECT body || author FROM notes").text(0, 0), "kept");
    EXPECT_EQ(postgres_schema_version(connection, "other"), 0);
}

TEST_F(PostgresConnectionTest, AFailedMigrationLeavesTheVersionItHad) {
    PostgresConnection connection(url);
    migrate_postgres_schema(connection, "notes", std::span(two_steps).first(1));
    const std::array<std::string_view, 2> broken{two_steps[0], "ALTER TABLE notes ADD COLUMN oops NO_SUCH_TYPE"};
    EXPECT_THROW(migrate_postgres_schema(connection, "notes", broken), PostgresError);
    EXPECT_EQ(postgres_schema_version(connection, "notes"), 1);
}

TEST_F(PostgresConnectionTest, ASchemaNewerThanTheBuildIsRefused) {
    PostgresConnection connection(url);
    migrate_postgres_schema(connection, "notes", two_steps);
    try {
        migrate_postgres_schema(connection, "notes", std::span(two_steps).first(1));
        FAIL();
    } catch (const PostgresError& error) {
        EXPECT_NE(std::string(error.what()).find("version 2, newer than this sofaasd's 1"), std::string::npos)
            << error.what();
    }
}

TEST_F(PostgresConnectionTest, NodesStartingAtOnceMigrateOnce) {
    // Without the lock, two CREATE TABLEs race and one node fails to start.
    std::vector<std::future<void>> nodes;
    for (int i = 0; i < 6; ++i) {
        nodes.push_back(std::async(std::launch::async, [&] {
            PostgresConnection connection(url);
            migrate_postgres_schema(connection, "notes", two_steps);
        }));
    }
    for (auto& node : nodes) EXPECT_NO_THROW(node.get());
    PostgresConnection connection(url);
    EXPECT_EQ(postgres_schema_version(connection, "notes"), 2);
}
