// The registry a cluster's nodes share (cluster/shared_registry.h): two nodes, each with
// its own data directory, on one real PostgreSQL database (support/postgres_server.h).
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <mutex>
#include <set>
#include <thread>

#include "cluster/shared_registry.h"
#include "common/sha256.h"
#include "registry/registry.h"
#include "store/postgres_connection.h"
#include "support/eventually.h"
#include "support/postgres_server.h"
#include "support/temp_dir.h"
#include "support/test_data.h"

using namespace sofaas;
using namespace sofaas::testing;
namespace fs = std::filesystem;

namespace {

// One node: its registry on its own disk, following the cluster's journal.
class Node {
public:
    Node(const std::string& url, const fs::path& directory, bool follow = true)
        : registry_(directory / "functions"), keys_(directory / "keys.json") {
        registry_.load();
        shared_ = std::make_unique<SharedRegistry>(url, registry_, keys_, directory / "cluster");
        registry_.use_journal(shared_.get());
        keys_.use_journal(shared_.get());
        if (follow) {
            shared_->start([this](const AppliedRegistryChange& change) {
                std::lock_guard lock(mutex_);
                applied_.push_back(change);
            });
        }
    }

    ~Node() { shared_->stop(); }  // before the hook's members go

    Registry& registry() { return registry_; }
    KeyStore& keys() { return keys_; }
    SharedRegistry& shared() { return *shared_; }

    FunctionVersionPtr deploy(std::string_view function, std::string_view bytes) {
        return registry_.publish(registry_.stage(function, bytes, FunctionSettings{}));
    }

    uint32_t latest(std::string_view function) const {
        FunctionVersionPtr version = registry_.latest(function);
        return version ? version->spec.version : 0;
    }

    std::vector<AppliedRegistryChange> applied() const {
        std::lock_guard lock(mutex_);
        return applied_;
    }

private:
    Registry registry_;
    KeyStore keys_;
    std::unique_ptr<SharedRegistry> shared_;
    mutable std::mutex mutex_;
    std::vector<AppliedRegistryChange> applied_;
};

void write_file(const fs::path& file, std::string_view text) {
    std::ofstream(file, std::ios::trunc) << text;
}

class SharedRegistryTest : public ::testing::Test {
protected:
    std::string url = PostgresServer::shared().create_database();
    TempDir first_dir{"sofaas-node-a"};
    TempDir second_dir{"sofaas-node-b"};
};

}  // namespace

TEST_F(SharedRegistryTest, AVersionPublishedOnOneNodeIsServedByTheOtherWithItsBytes) {
    Node a(url, first_dir.path());
    Node b(url, second_dir.path());

    FunctionVersionPtr first = a.deploy("hello", "library one");
    EXPECT_EQ(first->spec.version, 1u);
    EXPECT_EQ(a.latest("hello"), 1u) << "the node that deployed serves it when it answers";
    ASSERT_TRUE(eventually([&] { return b.latest("hello") == 1; }));
    FunctionVersionPtr there = b.registry().latest("hello");
    EXPECT_EQ(file_text(there->library), "library one");
    EXPECT_EQ(there->spec.sha256, sha256_hex("library one"));
    EXPECT_EQ(there->spec.created_at, first->spec.created_at);
    EXPECT_EQ(fs::status(there->library).permissions() & fs::perms::others_read, fs::perms::others_read)
        << "a worker reopens its library after dropping privileges";

    a.deploy("hello", "library two");
    ASSERT_TRUE(eventually([&] { return b.latest("hello") == 2; }));
    EXPECT_EQ(file_text(b.registry().latest("hello")->library), "library two");
    EXPECT_EQ(file_text(b.registry().find("hello", 1)->library), "library one");

    // The version is served as soon as it is installed; the hook and the position follow.
    ASSERT_TRUE(eventually([&] { return b.shared().applied_position() == a.shared().applied_position(); }));
    const auto changes = b.applied();
    ASSERT_EQ(changes.size(), 2u);
    EXPECT_EQ(changes[0].kind, AppliedRegistryChange::Kind::version);
    EXPECT_EQ(changes[0].replaced, 0u);
    EXPECT_EQ(changes[1].version->spec.version, 2u);
    EXPECT_EQ(changes[1].replaced, 1u) << "the node retires the version it replaced";
}

TEST_F(SharedRegistryTest, VersionNumbersAreTheClustersUnderConcurrentDeploys) {
    Node a(url, first_dir.path());
    Node b(url, second_dir.path());
    std::vector<uint32_t> numbers_a, numbers_b;
    auto deploy_ten = [](Node& node, std::vector<uint32_t>& numbers, std::string_view tag) {
        for (int i = 0; i < 10; ++i) {
            numbers.push_back(node.deploy("busy", std::string(tag) + std::to_string(i))->spec.version);
        }
    };
    std::thread on_a([&] { deploy_ten(a, numbers_a, "a"); });
    std::thread on_b([&] { deploy_ten(b, numbers_b, "b"); });
    on_a.join();
    on_b.join();

    std::set<uint32_t> all(numbers_a.begin(), numbers_a.end());
    all.insert(numbers_b.begin(), numbers_b.end());
    EXPECT_EQ(all.size(), 20u) << "no number given twice";
    EXPECT_EQ(*all.begin(), 1u);
    EXPECT_EQ(*all.rbegin(), 20u);
    EXPECT_TRUE(std::is_sorted(numbers_a.begin(), numbers_a.end()));
    ASSERT_TRUE(eventually([&] { return a.latest("busy") == 20 && b.latest("busy") == 20; }));
    EXPECT_EQ(a.registry().versions("busy").size(), 20u);
    EXPECT_EQ(b.registry().versions("busy").size(), 20u);
    // Every node holds the same bytes under each number.
    for (uint32_t version = 1; version <= 20; ++version) {
        EXPECT_EQ(file_text(a.registry().find("busy", version)->library),
                  file_text(b.registry().find("busy", version)->library))
            << version;
    }
}

TEST_F(SharedRegistryTest, AliasesAndDeletionsReachEveryNode) {
    Node a(url, first_dir.path());
    Node b(url, second_dir.path());
    a.deploy("shop", "v1");
    a.deploy("shop", "v2");
    ASSERT_TRUE(eventually([&] { return b.latest("shop") == 2; }));

    Alias live{"live", 1, {{2, 0.25}}, "canary"};
    EXPECT_TRUE(b.registry().set_alias("shop", live).created);
    ASSERT_TRUE(eventually([&] { return a.registry().alias("shop", "live").has_value(); }));
    EXPECT_EQ(a.registry().alias("shop", "live")->additional_version_weights.at(2), 0.25);
    EXPECT_EQ(a.registry().alias("shop", "live")->description, "canary");

    live.additional_version_weights.clear();
    live.version = 2;
    EXPECT_FALSE(a.registry().set_alias("shop", live).created) << "replaced, not created";
    ASSERT_TRUE(eventually([&] {
        auto alias = b.registry().alias("shop", "live");
        return alias && alias->version == 2;
    }));

    try {
        b.registry().set_alias("shop", Alias{"old", 7, {}, ""});
        ADD_FAILURE() << "an alias to a version that does not exist";
    } catch (const RegistryError& e) {
        EXPECT_EQ(e.kind(), RegistryError::Kind::not_found);
    }
    EXPECT_TRUE(b.registry().remove_alias("shop", "live"));
    EXPECT_FALSE(b.registry().remove_alias("shop", "live"));
    ASSERT_TRUE(eventually([&] { return !a.registry().alias("shop", "live"); }));

    EXPECT_TRUE(a.registry().remove("shop"));
    EXPECT_FALSE(a.registry().remove("shop"));
    ASSERT_TRUE(eventually([&] { return b.latest("shop") == 0; }));
    EXPECT_FALSE(fs::exists(second_dir / "functions" / "shop"));
    // Numbers are never reused, on any node.
    EXPECT_EQ(b.deploy("shop", "v3")->spec.version, 3u);
    ASSERT_TRUE(eventually([&] { return a.latest("shop") == 3; }));
    EXPECT_EQ(a.registry().versions("shop"), std::vector<uint32_t>{3});
}

TEST_F(SharedRegistryTest, AnUpdateBasedOnAVersionNoLongerLatestIsRefused) {
    Node a(url, first_dir.path());
    Node b(url, second_dir.path());
    a.deploy("cfg", "library");
    ASSERT_TRUE(eventually([&] { return b.latest("cfg") == 1; }));

    StagedVersion update = b.registry().stage_settings(b.registry().latest("cfg"), FunctionSettings{});
    a.deploy("cfg", "newer library");
    try {
        b.registry().publish(std::move(update));
        ADD_FAILURE() << "version 2 came from the other node meanwhile";
    } catch (const RegistryError& e) {
        EXPECT_EQ(e.kind(), RegistryError::Kind::conflict) << e.what();
    }
    ASSERT_TRUE(eventually([&] { return b.latest("cfg") == 2; }));
    EXPECT_EQ(file_text(b.registry().latest("cfg")->library), "newer library");
}

TEST_F(SharedRegistryTest, ARestartedNodeAppliesWhatItMissedBeforeItServes) {
    Node a(url, first_dir.path());
    {
        Node b(url, second_dir.path());
        a.deploy("late", "first");
        ASSERT_TRUE(eventually([&] { return b.latest("late") == 1; }));
    }
    a.deploy("late", "second");
    a.registry().set_alias("late", Alias{"prod", 2, {}, ""});
    a.deploy("gone", "x");
    a.registry().remove("gone");

    Node b(url, second_dir.path(), false);  // not following: what it has, it had at start
    EXPECT_EQ(b.latest("late"), 2u);
    EXPECT_EQ(b.registry().alias("late", "prod")->version, 2u);
    EXPECT_EQ(b.latest("gone"), 0u);
    EXPECT_EQ(b.shared().applied_position(), a.shared().applied_position());
    EXPECT_EQ(file_text(second_dir / "cluster" / "registry-position"),
              std::to_string(a.shared().applied_position()) + "\n");
}

TEST_F(SharedRegistryTest, ALibraryIsStoredOnceAndCheckedWhenItArrives) {
    Node a(url, first_dir.path());
    a.deploy("one", "same bytes");
    a.deploy("two", "same bytes");
    PostgresConnection db(url);
    EXPECT_EQ(db.run("SELECT count(*) FROM registry_artifacts").integer(0, 0), 1);

    a.deploy("tampered", "genuine bytes");
    db.run("UPDATE registry_artifacts SET library = $1 WHERE sha256 = $2",
           {Bytes{"other bytes"}, sha256_hex("genuine bytes")});
    Node b(url, second_dir.path(), false);
    EXPECT_EQ(b.latest("one"), 1u);
    EXPECT_EQ(b.latest("tampered"), 0u) << "a library whose bytes are not its SHA-256's is never installed";
    EXPECT_EQ(b.shared().applied_position(), a.shared().applied_position()) << "and does not stop what follows";
}

TEST(SharedRegistry, WhileTheDatabaseIsAwayChangesAreRefusedAndWhatIsDeployedStaysServed) {
    PostgresServer server;
    const std::string url = server.create_database();
    TempDir first_dir{"sofaas-node-a"};
    TempDir second_dir{"sofaas-node-b"};
    Node a(url, first_dir.path());
    Node b(url, second_dir.path());
    a.deploy("steady", "v1");
    ASSERT_TRUE(eventually([&] { return b.latest("steady") == 1; }));

    server.stop();
    try {
        a.deploy("steady", "v2");
        ADD_FAILURE() << "published with no database";
    } catch (const RegistryError& e) {
        EXPECT_EQ(e.kind(), RegistryError::Kind::unavailable) << e.what();
    }
    EXPECT_EQ(a.latest("steady"), 1u);
    EXPECT_EQ(b.latest("steady"), 1u);

    server.start();
    EXPECT_EQ(a.deploy("steady", "v2")->spec.version, 2u) << "the connection is made again";
    EXPECT_TRUE(eventually([&] { return b.latest("steady") == 2; }, std::chrono::seconds(15)))
        << "the other node follows again";
}

TEST_F(SharedRegistryTest, AKeyMadeOnOneNodeSignsOnEveryNodeUntilItIsDeletedAnywhere) {
    Node a(url, first_dir.path());
    Node b(url, second_dir.path());
    const CreatedKey made = a.keys().create("ci", KeyScope::invoke, {"hello"});
    EXPECT_TRUE(a.keys().verify(made.key.access_key_id, made.secret_access_key)) << "in force where it was made";
    ASSERT_TRUE(eventually([&] { return b.keys().verify(made.key.access_key_id, made.secret_access_key).has_value(); }));
    const ApiKey there = *b.keys().verify(made.key.access_key_id, made.secret_access_key);
    EXPECT_EQ(there.name, "ci");
    EXPECT_EQ(there.scope, KeyScope::invoke);
    EXPECT_EQ(there.functions, std::vector<std::string>{"hello"});
    EXPECT_FALSE(b.keys().verify(made.key.access_key_id, "a guess"));

    try {
        b.keys().create("ci", KeyScope::admin, {});
        ADD_FAILURE() << "a name the cluster already has";
    } catch (const KeyError& e) {
        EXPECT_EQ(e.kind(), KeyError::Kind::exists);
    }
    b.keys().remove("ci");
    EXPECT_FALSE(b.keys().verify(made.key.access_key_id, made.secret_access_key));
    ASSERT_TRUE(eventually([&] { return !a.keys().verify(made.key.access_key_id, made.secret_access_key); }));
    try {
        a.keys().remove("ci");
        ADD_FAILURE() << "deleted twice";
    } catch (const KeyError& e) {
        EXPECT_EQ(e.kind(), KeyError::Kind::not_found);
    }

    PostgresConnection db(url);
    EXPECT_EQ(db.run("SELECT count(*) FROM registry_changes WHERE body LIKE $1", {"%" + made.secret_access_key + "%"})
                  .integer(0, 0),
              0)
        << "a deleted key's secret stays nowhere in the database";
    Node late(url, (first_dir / "late"), false);
    EXPECT_TRUE(late.keys().list().empty()) << "a node that joins later never sees it";
}

TEST_F(SharedRegistryTest, ANodeWithFunctionsOfItsOwnDoesNotJoin) {
    {
        Registry own(second_dir / "functions");
        own.load();
        own.publish(own.stage("mine", "its own library", FunctionSettings{}));
    }
    Registry registry(second_dir / "functions");
    registry.load();
    KeyStore keys(second_dir / "keys.json");
    try {
        SharedRegistry shared(url, registry, keys, second_dir / "cluster");
        ADD_FAILURE() << "joined with a version 1 the cluster would number again";
    } catch (const RegistryError& e) {
        EXPECT_EQ(e.kind(), RegistryError::Kind::invalid);
        EXPECT_NE(std::string(e.what()).find("empty data directory"), std::string::npos) << e.what();
    }
}

TEST_F(SharedRegistryTest, AVersionInstalledJustBeforeACrashBecomesLatestWhenItIsAppliedAgain) {
    Node a(url, first_dir.path());
    a.deploy("crashy", "one");
    a.deploy("crashy", "two");
    {
        Node b(url, second_dir.path(), false);
        ASSERT_EQ(b.latest("crashy"), 2u);
    }
    // The crash: version 2 renamed into place, but neither $LATEST nor the position moved.
    write_file(second_dir / "functions" / "crashy" / "latest.json", R"({"version": 1})");
    write_file(second_dir / "cluster" / "registry-position", std::to_string(a.shared().applied_position() - 1) + "\n");
    Node b(url, second_dir.path(), false);
    EXPECT_EQ(b.latest("crashy"), 2u);
    EXPECT_EQ(file_text(b.registry().latest("crashy")->library), "two");
}

TEST_F(SharedRegistryTest, APositionPastTheJournalsEndAppliesItAllAgain) {
    Node a(url, first_dir.path());
    a.deploy("restored", "bytes");
    // As after the database was restored from an older backup.
    fs::create_directories(second_dir / "cluster");
    write_file(second_dir / "cluster" / "registry-position", "999999\n");
    Node b(url, second_dir.path(), false);
    EXPECT_EQ(b.latest("restored"), 1u);
    EXPECT_EQ(b.shared().applied_position(), a.shared().applied_position());
}
