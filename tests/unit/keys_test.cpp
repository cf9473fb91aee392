// API keys: created with a secret shown once, verified in constant time, scoped, kept in a
// private file across restarts.
#include "keys/api_keys.h"

#include <sys/stat.h>

#include <filesystem>

#include <gtest/gtest.h>

#include "support/temp_dir.h"

namespace sofaas {
namespace {

TEST(KeyStore, CreatedKeyVerifiesWithItsSecretOnly) {
    testing::TempDir dir("keys-test");
    KeyStore keys(dir / "keys.json");
    const CreatedKey created = keys.create("ci", KeyScope::invoke, {"hello"});
    EXPECT_EQ(created.key.access_key_id.rfind("SOFA", 0), 0u);
    EXPECT_EQ(created.key.access_key_id.size(), 20u);
    EXPECT_EQ(created.secret_access_key.size(), 40u);

    const auto verified = keys.verify(created.key.access_key_id, created.secret_access_key);
    ASSERT_TRUE(verified);
    EXPECT_EQ(verified->name, "ci");
    std::string wrong = created.secret_access_key;
    wrong.back() = wrong.back() == 'a' ? 'b' : 'a';
    EXPECT_FALSE(keys.verify(created.key.access_key_id, wrong));
    EXPECT_FALSE(keys.verify(created.key.access_key_id, created.secret_access_key + "x"));
    EXPECT_FALSE(keys.verify(created.key.access_key_id, ""));
    EXPECT_FALSE(keys.verify("SOFAAAAAAAAAAAAAAAAA", created.secret_access_key));
}

TEST(KeyStore, TwoKeysNeverShareAnIdOrSecret) {
    testing::TempDir dir("keys-test");
    KeyStore keys(dir / "keys.json");
    const CreatedKey a = keys.create("a", KeyScope::admin, {});
    const CreatedKey b = keys.create("b", KeyScope::admin, {});
    EXPECT_NE(a.key.access_key_id, b.key.access_key_id);
    EXPECT_NE(a.secret_access_key, b.secret_access_key);
}

TEST(KeyStore, ScopeDecidesWhatMayBeInvoked) {
    testing::TempDir dir("keys-test");
    KeyStore keys(dir / "keys.json");
    EXPECT_TRUE(keys.create("one", KeyScope::invoke, {"hello"}).key.may_invoke("hello"));
    EXPECT_FALSE(keys.create("two", KeyScope::invoke, {"hello"}).key.may_invoke("echo"));
    EXPECT_TRUE(keys.create("all", KeyScope::invoke, {}).key.may_invoke("echo"));
    EXPECT_TRUE(keys.create("root", KeyScope::admin, {}).key.may_invoke("echo"));
}

// A metrics key is what a Prometheus server holds: it reads /metrics and invokes nothing.
TEST(KeyStore, MetricsKeyInvokesNothingAndNamesNoFunction) {
    testing::TempDir dir("keys-test");
    KeyStore keys(dir / "keys.json");
    const CreatedKey created = keys.create("prometheus", KeyScope::metrics, {});
    EXPECT_FALSE(created.key.may_invoke("echo"));
    EXPECT_EQ(parse_key_scope("metrics"), KeyScope::metrics);
    EXPECT_EQ(to_string(KeyScope::metrics), "metrics");
    EXPECT_THROW(keys.create("scoped", KeyScope::metrics, {"hello"}), KeyError);
    KeyStore reloaded(dir / "keys.json");
    const auto verified = reloaded.verify(created.key.access_key_id, created.secret_access_key);
    ASSERT_TRUE(verified);
    EXPECT_EQ(verified->scope, KeyScope::metrics);
}

TEST(KeyStore, RefusesBadNamesDuplicatesAndScopedAdmins) {
    testing::TempDir dir("keys-test");
    KeyStore keys(dir / "keys.json");
    const auto kind_of = [&](auto create) {
        try {
            create();
        } catch (const KeyError& error) {
            return std::optional(error.kind());
        }
        return std::optional<KeyError::Kind>();
    };
    EXPECT_EQ(kind_of([&] { keys.create("../x", KeyScope::invoke, {}); }), KeyError::Kind::invalid);
    EXPECT_EQ(kind_of([&] { keys.create("x", KeyScope::invoke, {"no/such"}); }), KeyError::Kind::invalid);
    EXPECT_EQ(kind_of([&] { keys.create("x", KeyScope::admin, {"hello"}); }), KeyError::Kind::invalid);
    keys.create("taken", KeyScope::invoke, {});
    EXPECT_EQ(kind_of([&] { keys.create("taken", KeyScope::invoke, {}); }), KeyError::Kind::exists);
    EXPECT_EQ(kind_of([&] { keys.remove("absent"); }), KeyError::Kind::not_found);
}

TEST(KeyStore, KeysPersistPrivatelyAndDeletedOnesStayDeleted) {
    testing::TempDir dir("keys-test");
    CreatedKey kept, dropped;
    {
        KeyStore keys(dir / "keys.json");
        kept = keys.create("kept", KeyScope::invoke, {"hello"});
        dropped = keys.create("dropped", KeyScope::admin, {});
        keys.remove("dropped");
    }
    struct stat status {};
    ASSERT_EQ(::stat((dir / "keys.json").c_str(), &status), 0);
    EXPECT_EQ(status.st_mode & 0777, 0600u);
    KeyStore reloaded(dir / "keys.json");
    ASSERT_EQ(reloaded.list().size(), 1u);
    EXPECT_EQ(reloaded.list()[0].functions, std::vector<std::string>{"hello"});
    EXPECT_TRUE(reloaded.verify(kept.key.access_key_id, kept.secret_access_key));
    EXPECT_FALSE(reloaded.verify(dropped.key.access_key_id, dropped.secret_access_key));
}

TEST(SecretsEqual, ComparesWholeSecrets) {
    EXPECT_TRUE(secrets_equal("abc", "abc"));
    EXPECT_FALSE(secrets_equal("abd", "abc"));
    EXPECT_FALSE(secrets_equal("ab", "abc"));
    EXPECT_FALSE(secrets_equal("abcd", "abc"));
    EXPECT_FALSE(secrets_equal("", "abc"));
}

}  // namespace
}  // namespace sofaas
