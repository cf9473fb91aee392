#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <functional>
#include <set>
#include <sstream>
#include <thread>

#include "common/sha256.h"
#include "registry/deploy_settings.h"
#include "registry/registry.h"
#include "support/temp_dir.h"
#include "support/test_data.h"

using namespace sofaas;
using sofaas::testing::file_text;
namespace fs = std::filesystem;
using Params = std::vector<std::pair<std::string, std::string>>;

namespace {

FunctionSettings parse(const Params& params) {
    return parse_deploy_settings(params, FunctionDefaults{}, Limits{});
}

std::string settings_error(const Params& params) {
    try {
        parse(params);
    } catch (const DeploySettingsError& e) {
        return e.what();
    }
    return "no error";
}

void write(const fs::path& file, std::string_view bytes) {
    std::ofstream(file, std::ios::binary) << bytes;
}

FunctionSettings with_routes(std::vector<Route> routes) {
    FunctionSettings settings;
    settings.routes = std::move(routes);
    return settings;
}

class RegistryTest : public ::testing::Test {
protected:
    FunctionVersionPtr deploy(std::string_view name, std::string_view bytes = "\x7f" "ELF library",
                              const FunctionSettings& settings = {}) {
        return registry.publish(registry.stage(name, bytes, settings));
    }

    sofaas::testing::TempDir temp{"sofaas-registry"};
    fs::path functions = temp / "functions";
    Registry registry{functions};
};

}  // namespace

TEST(DeploySettings, AppliesDefaultsWhenEmpty) {
    FunctionDefaults defaults;
    defaults.memory_mb = 256;
    defaults.timeout_s = 9;
    defaults.max_concurrency = 7;
    defaults.min_warm = 2;
    FunctionSettings settings = parse_deploy_settings({}, defaults, Limits{});
    EXPECT_EQ(settings.handler, "sofaas_handler");
    EXPECT_EQ(settings.memory_mb, 256u);
    EXPECT_EQ(settings.timeout_s, 9u);
    EXPECT_EQ(settings.max_concurrency, 7u);
    EXPECT_EQ(settings.min_warm, 2u);
    EXPECT_EQ(settings.auth, AuthMode::none);
    EXPECT_FALSE(settings.expose_errors);
    EXPECT_TRUE(settings.env.empty());
    EXPECT_TRUE(settings.routes.empty());
}

TEST(DeploySettings, ParsesEverySetting) {
    FunctionSettings settings = parse({{"handler", "handle_event"},
                                       {"memory", "512"},
                                       {"timeout", "300"},
                                       {"ephemeral_storage", "10240"},
                                       {"env", "GREETING=hello=world"},
                                       {"env", "EMPTY="},
                                       {"route", "GET /items/{id}"},
                                       {"route", "ANY /"},
                                       {"min_warm", "1"},
                                       {"max_concurrency", "10"},
                                       {"auth", "key"},
                                       {"expose_errors", "true"}});
    EXPECT_EQ(settings.handler, "handle_event");
    EXPECT_EQ(settings.memory_mb, 512u);
    EXPECT_EQ(settings.timeout_s, 300u);
    EXPECT_EQ(settings.ephemeral_storage_mb, 10240u);
    EXPECT_EQ(settings.env, (std::vector<std::pair<std::string, std::string>>{{"GREETING", "hello=world"},
                                                                             {"EMPTY", ""}}));
    EXPECT_EQ(settings.routes, (std::vector<Route>{{"GET", "/items/{id}"}, {"ANY", "/"}}));
    EXPECT_EQ(settings.min_warm, 1u);
    EXPECT_EQ(settings.max_concurrency, 10u);
    EXPECT_EQ(settings.auth, AuthMode::key);
    EXPECT_TRUE(settings.expose_errors);
}

TEST(DeploySettings, ExposeErrorsIsTrueOrFalse) {
    EXPECT_FALSE(parse({{"expose_errors", "false"}}).expose_errors);
    EXPECT_EQ(settings_error({{"expose_errors", "yes"}}), "expose_errors: must be \"true\" or \"false\", got \"yes\"");
    EXPECT_NE(settings_error({{"expose_errors", ""}}).find("expose_errors:"), std::string::npos);
}

TEST(DeploySettings, RejectsTimeoutAbove300) {
    EXPECT_EQ(settings_error({{"timeout", "301"}}), "timeout: must be an integer between 1 and 300, got \"301\"");
    EXPECT_NE(settings_error({{"timeout", "0"}}).find("timeout:"), std::string::npos);
    EXPECT_NE(settings_error({{"timeout", "1.5"}}).find("timeout:"), std::string::npos);
    EXPECT_NE(settings_error({{"timeout", ""}}).find("timeout:"), std::string::npos);
}

TEST(DeploySettings, RejectsMemoryOutsideLimits) {
    EXPECT_NE(settings_error({{"memory", "127"}}).find("memory:"), std::string::npos);
    EXPECT_NE(settings_error({{"memory", "10241"}}).find("memory:"), std::string::npos);
    EXPECT_NE(settings_error({{"memory", "-128"}}).find("memory:"), std::string::npos);
    EXPECT_NE(settings_error({{"memory", "99999999999999999999"}}).find("memory:"), std::string::npos);
}

TEST(DeploySettings, EphemeralStorageIsLambdas512To10240Megabytes) {
    EXPECT_EQ(parse({}).ephemeral_storage_mb, 512u);
    EXPECT_EQ(settings_error({{"ephemeral_storage", "511"}}),
              "ephemeral_storage: must be an integer between 512 and 10240, got \"511\"");
    EXPECT_NE(settings_error({{"ephemeral_storage", "10241"}}).find("ephemeral_storage:"), std::string::npos);
}

// Variables the dynamic loader or libc reads at startup are refused, naming the variable,
// unless the daemon allows them.
TEST(DeploySettings, LoaderVariablesAreRefusedUnlessAllowed) {
    for (const char* variable : {"LD_PRELOAD", "LD_AUDIT", "LD_LIBRARY_PATH", "GLIBC_TUNABLES", "MALLOC_CHECK_"}) {
        const std::string error = settings_error({{"env", std::string(variable) + "=x"}});
        EXPECT_EQ(error.rfind("env: \"" + std::string(variable) + "\" is read by the dynamic loader", 0), 0u) << error;
        EXPECT_NE(error.find("allow_loader_environment"), std::string::npos) << error;
        const auto allowed = parse_deploy_settings({{"env", std::string(variable) + "=x"}}, FunctionDefaults{}, Limits{},
                                                   /*allow_loader_environment=*/true);
        EXPECT_EQ(allowed.env.size(), 1u);
    }
    EXPECT_EQ(parse({{"env", "LDAP_URI=ldap://x"}, {"env", "GLIB_DEBUG=1"}}).env.size(), 2u) << "only the prefixes";
}

TEST(DeploySettings, RejectsUnknownKeyNamingIt) {
    EXPECT_NE(settings_error({{"memroy", "256"}}).find("memroy: unknown setting"), std::string::npos);
}

TEST(DeploySettings, RejectsHandlerThatIsNotACIdentifier) {
    EXPECT_NE(settings_error({{"handler", "1abc"}}).find("handler:"), std::string::npos);
    EXPECT_NE(settings_error({{"handler", "a-b"}}).find("handler:"), std::string::npos);
    EXPECT_NE(settings_error({{"handler", ""}}).find("handler:"), std::string::npos);
}

TEST(DeploySettings, RejectsBadAndReservedEnvironment) {
    EXPECT_NE(settings_error({{"env", "NOVALUE"}}).find("env:"), std::string::npos);
    EXPECT_NE(settings_error({{"env", "1X=a"}}).find("env:"), std::string::npos);
    EXPECT_NE(settings_error({{"env", "=a"}}).find("env:"), std::string::npos);
    EXPECT_NE(settings_error({{"env", "SOFAAS_FUNCTION_NAME=x"}}).find("reserved"), std::string::npos);
    EXPECT_NE(settings_error({{"env", "A=1"}, {"env", "A=2"}}).find("twice"), std::string::npos);
}

TEST(DeploySettings, RejectsBadRoutes) {
    for (const char* bad : {"GET", "FETCH /x", "get /x", "GET x", "GET /a//b", "GET /a/", "GET /a/../b",
                            "GET /a/./b", "GET /a b", "GET /{}", "GET /{1x}", "GET /{id}/{id}", "GET /caf%C3%A9"}) {
        EXPECT_NE(settings_error({{"route", bad}}).find("route:"), std::string::npos) << bad;
    }
}

TEST(DeploySettings, RejectsRoutesUnderDaemonPaths) {
    for (const char* reserved : {"GET /fn", "GET /fn/x", "ANY /v1/functions", "GET /healthz", "GET /metrics",
                                 "GET /ui/app", "POST /2015-03-31/functions/x/invocations"}) {
        EXPECT_NE(settings_error({{"route", reserved}}).find("reserved"), std::string::npos) << reserved;
    }
    EXPECT_EQ(settings_error({{"route", "GET /fnord"}}), "no error");
    EXPECT_NE(settings_error({{"route", "GET /x"}, {"route", "GET /x"}}).find("twice"), std::string::npos);
}

TEST(DeploySettings, RejectsMinWarmAboveMaxConcurrency) {
    EXPECT_NE(settings_error({{"min_warm", "5"}, {"max_concurrency", "2"}}).find("min_warm:"), std::string::npos);
    EXPECT_NE(settings_error({{"max_concurrency", "0"}}).find("max_concurrency:"), std::string::npos);
    EXPECT_NE(settings_error({{"max_concurrency", "10001"}}).find("max_concurrency:"), std::string::npos);
}

TEST(DeploySettings, RejectsUnknownAuthMode) {
    EXPECT_NE(settings_error({{"auth", "iam"}}).find("auth:"), std::string::npos);
}

TEST(DeploySettings, UpdateKeepsWhatIsNotGiven) {
    FunctionSpec current;
    current.name = "hello";
    current.version = 4;
    current.handler = "handle";
    current.memory_mb = 512;
    current.timeout_s = 30;
    current.env = {{"A", "1"}, {"B", "2"}};
    current.routes = {{"GET", "/items"}};
    current.auth = AuthMode::key;
    current.sha256 = "abc";
    FunctionSettings updated = parse_settings_update({{"memory", "256"}}, current, Limits{});
    EXPECT_EQ(updated.memory_mb, 256u);
    EXPECT_EQ(updated.handler, "handle");
    EXPECT_EQ(updated.timeout_s, 30u);
    EXPECT_EQ(updated.env, current.env);
    EXPECT_EQ(updated.routes, current.routes);
    EXPECT_EQ(updated.auth, AuthMode::key);
    EXPECT_EQ(updated.sha256, "abc");
}

TEST(DeploySettings, UpdateReplacesOrClearsTheEnvironmentAndRoutesWhole) {
    FunctionSpec current;
    current.env = {{"A", "1"}, {"B", "2"}};
    current.routes = {{"GET", "/items"}};
    FunctionSettings replaced = parse_settings_update({{"env", "C=3"}, {"env", "D=4"}}, current, Limits{});
    EXPECT_EQ(replaced.env, (std::vector<std::pair<std::string, std::string>>{{"C", "3"}, {"D", "4"}}));
    EXPECT_EQ(replaced.routes, current.routes);
    FunctionSettings cleared = parse_settings_update({{"env", ""}, {"route", ""}}, current, Limits{});
    EXPECT_TRUE(cleared.env.empty());
    EXPECT_TRUE(cleared.routes.empty());
}

TEST(DeploySettings, UpdateValidatesAsADeployDoes) {
    auto update_error = [](const Params& params) {
        try {
            parse_settings_update(params, FunctionSpec{}, Limits{});
        } catch (const DeploySettingsError& e) {
            return std::string(e.what());
        }
        return std::string("no error");
    };
    for (const Params& params : {Params{{"memory", "64"}}, Params{{"timeout", "0"}}, Params{{"handler", "1x"}},
                                 Params{{"env", "SOFAAS_X=1"}}, Params{{"route", "GET /v1/x"}},
                                 Params{{"colour", "red"}}}) {
        EXPECT_EQ(update_error(params), settings_error(params)) << params.front().first;
        EXPECT_NE(update_error(params), "no error");
    }
}

TEST(DeploySettings, UpdateLowersAMinWarmAboveANewMaxConcurrency) {
    FunctionSpec current;
    current.min_warm = 5;
    current.max_concurrency = 10;
    EXPECT_EQ(parse_settings_update({{"max_concurrency", "2"}}, current, Limits{}).min_warm, 2u);
    EXPECT_THROW(parse_settings_update({{"max_concurrency", "2"}, {"min_warm", "3"}}, current, Limits{}),
                 DeploySettingsError);
}

TEST_F(RegistryTest, PublishWritesTheOnDiskLayout) {
    FunctionSettings settings;
    settings.memory_mb = 256;
    auto version = deploy("hello", "library bytes", settings);
    ASSERT_TRUE(version);
    EXPECT_EQ(version->spec.name, "hello");
    EXPECT_EQ(version->spec.version, 1u);
    EXPECT_EQ(version->spec.memory_mb, 256u);
    EXPECT_EQ(version->spec.size_bytes, 13u);
    EXPECT_EQ(version->spec.sha256, sha256_hex("library bytes"));
    EXPECT_FALSE(version->spec.created_at.empty());
    EXPECT_EQ(version->library, functions / "hello" / "versions" / "1" / "function.so");
    EXPECT_EQ(file_text(version->library), "library bytes");
    EXPECT_EQ(spec_from_json(file_text(functions / "hello" / "versions" / "1" / "spec.json")).version, 1u);
    EXPECT_EQ(file_text(functions / "hello" / "latest.json"), "{\"version\":1}\n");
}

TEST_F(RegistryTest, StagedVersionIsInvisibleUntilPublished) {
    StagedVersion staged = registry.stage("hello", "bytes", {});
    EXPECT_TRUE(fs::exists(staged.candidate->library));
    EXPECT_EQ(staged.candidate->spec.version, 0u);
    EXPECT_EQ(registry.latest("hello"), nullptr);
    fs::path directory = staged.directory;
    registry.discard(std::move(staged));
    EXPECT_FALSE(fs::exists(directory));
    EXPECT_EQ(registry.latest("hello"), nullptr);
}

TEST_F(RegistryTest, RejectsInvalidFunctionName) {
    for (const char* bad : {"", "..", "a/b", "../escape"}) {
        try {
            registry.stage(bad, "bytes", {});
            ADD_FAILURE() << "accepted " << bad;
        } catch (const RegistryError& e) {
            EXPECT_EQ(e.kind(), RegistryError::Kind::invalid);
        }
    }
}

TEST_F(RegistryTest, RedeployMakesANewLatestVersion) {
    deploy("hello", "v1");
    deploy("hello", "v2");
    EXPECT_EQ(registry.latest("hello")->spec.version, 2u);
    EXPECT_EQ(file_text(registry.find("hello", 1)->library), "v1");
    EXPECT_EQ(file_text(registry.find("hello", 2)->library), "v2");
    EXPECT_EQ(registry.find("hello", 3), nullptr);
    EXPECT_EQ(registry.versions("hello"), (std::vector<uint32_t>{1, 2}));
}

TEST_F(RegistryTest, ConcurrentPublishesGetIncreasingVersions) {
    constexpr int deploys = 8;
    std::vector<uint32_t> assigned(deploys);
    std::vector<std::thread> threads;
    for (int i = 0; i < deploys; ++i) {
        threads.emplace_back([&, i] { assigned[i] = deploy("busy", "library " + std::to_string(i))->spec.version; });
    }
    for (auto& thread : threads) thread.join();
    std::set<uint32_t> unique(assigned.begin(), assigned.end());
    EXPECT_EQ(unique.size(), size_t(deploys));
    EXPECT_EQ(*unique.begin(), 1u);
    EXPECT_EQ(*unique.rbegin(), uint32_t(deploys));
    EXPECT_EQ(registry.latest("busy")->spec.version, uint32_t(deploys));
}

TEST_F(RegistryTest, ListsLatestSortedByName) {
    deploy("zeta");
    deploy("alpha");
    deploy("alpha");
    auto all = registry.list_latest();
    ASSERT_EQ(all.size(), 2u);
    EXPECT_EQ(all[0]->spec.name, "alpha");
    EXPECT_EQ(all[0]->spec.version, 2u);
    EXPECT_EQ(all[1]->spec.name, "zeta");
}

TEST_F(RegistryTest, ReloadsFromDisk) {
    FunctionSettings settings;
    settings.env = {{"K", "V"}};
    deploy("hello", "v1", settings);
    deploy("hello", "v2", settings);
    deploy("other");

    Registry reloaded(functions);
    EXPECT_EQ(reloaded.load(), 2u);
    auto latest = reloaded.latest("hello");
    ASSERT_TRUE(latest);
    EXPECT_EQ(latest->spec.version, 2u);
    EXPECT_EQ(latest->spec.env, settings.env);
    EXPECT_EQ(file_text(latest->library), "v2");
    EXPECT_EQ(reloaded.versions("hello"), (std::vector<uint32_t>{1, 2}));
    EXPECT_EQ(reloaded.publish(reloaded.stage("hello", "v3", {}))->spec.version, 3u);
}

TEST_F(RegistryTest, LoadSkipsBrokenEntriesAndCleansUnfinishedDeploys) {
    deploy("good");
    deploy("good");
    fs::path good = functions / "good";
    write(good / "versions" / "2" / "spec.json", "{torn");          // broken version: skipped
    fs::create_directories(good / ".staging-abc123");                // interrupted deploy
    fs::create_directories(functions / "empty" / "versions" / "1");  // no spec at all
    fs::create_directories(functions / ".trash-gone-1");             // interrupted remove
    write(functions / "stray.txt", "not a function");

    Registry reloaded(functions);
    EXPECT_EQ(reloaded.load(), 1u);
    EXPECT_EQ(reloaded.versions("good"), (std::vector<uint32_t>{1}));
    EXPECT_EQ(reloaded.latest("good")->spec.version, 1u);  // latest.json pointed at the broken one
    EXPECT_EQ(reloaded.latest("empty"), nullptr);
    EXPECT_FALSE(fs::exists(good / ".staging-abc123"));
    EXPECT_FALSE(fs::exists(functions / ".trash-gone-1"));
    // The broken version's number stays taken.
    EXPECT_EQ(reloaded.publish(reloaded.stage("good", "new", {}))->spec.version, 3u);
}

TEST_F(RegistryTest, LoadDetectsLibraryOfWrongSize) {
    auto version = deploy("hello", "twelve bytes");
    write(version->library, "short");
    Registry reloaded(functions);
    EXPECT_EQ(reloaded.load(), 0u);
}

TEST_F(RegistryTest, RemoveDeletesEveryVersion) {
    deploy("hello");
    deploy("hello");
    EXPECT_TRUE(registry.remove("hello"));
    EXPECT_EQ(registry.latest("hello"), nullptr);
    EXPECT_TRUE(registry.versions("hello").empty());
    EXPECT_FALSE(fs::exists(functions / "hello"));
    EXPECT_FALSE(registry.remove("hello"));
    EXPECT_FALSE(registry.remove("../etc"));
    Registry reloaded(functions);
    EXPECT_EQ(reloaded.load(), 0u);
}

TEST_F(RegistryTest, VersionNumbersAreNotReusedAfterRemoveInTheSameRun) {
    deploy("hello");
    deploy("hello");
    registry.remove("hello");
    EXPECT_EQ(deploy("hello")->spec.version, 3u);
}

TEST_F(RegistryTest, RejectsRouteDeclaredByAnotherFunction) {
    deploy("items", "x", with_routes({{"GET", "/items/{id}"}}));
    try {
        deploy("thief", "x", with_routes({{"ANY", "/items/{key}"}}));
        FAIL() << "expected a conflict";
    } catch (const RegistryError& e) {
        EXPECT_EQ(e.kind(), RegistryError::Kind::conflict);
        EXPECT_NE(std::string(e.what()).find("items"), std::string::npos);
    }
    EXPECT_EQ(registry.latest("thief"), nullptr);
    EXPECT_FALSE(fs::exists(functions / "thief" / "versions" / "1"));
    // Other methods on the same path, and the owner's own redeploy, are fine.
    EXPECT_NO_THROW(deploy("writer", "x", with_routes({{"POST", "/items/{id}"}})));
    EXPECT_NO_THROW(deploy("items", "x", with_routes({{"GET", "/items/{id}"}})));
}

TEST_F(RegistryTest, StagedDeployOfARemovedFunctionFailsCleanly) {
    deploy("hello");
    StagedVersion staged = registry.stage("hello", "bytes", {});
    registry.remove("hello");
    try {
        registry.publish(std::move(staged));
        FAIL() << "expected an error";
    } catch (const RegistryError& e) {
        EXPECT_EQ(e.kind(), RegistryError::Kind::conflict);
    }
    EXPECT_EQ(registry.latest("hello"), nullptr);
}

// Aliases and settings updates.
namespace {

Alias alias_to(std::string name, uint32_t version, std::map<uint32_t, double> weights = {}) {
    return Alias{std::move(name), version, std::move(weights), ""};
}

RegistryError::Kind refusal(const std::function<void()>& call) {
    try {
        call();
    } catch (const RegistryError& e) {
        return e.kind();
    }
    ADD_FAILURE() << "no RegistryError";
    return RegistryError::Kind::storage;
}

}  // namespace

TEST(AliasNames, FollowLambdasPattern) {
    for (const char* good : {"live", "a", "v2", "blue-green_1", "2x"}) EXPECT_TRUE(is_valid_alias_name(good)) << good;
    for (const std::string& bad : {std::string(), std::string("12"), std::string("$LATEST"), std::string("a:b"),
                                  std::string("a/b"), std::string("..") , std::string(129, 'a')}) {
        EXPECT_FALSE(is_valid_alias_name(bad)) << bad;
    }
    EXPECT_TRUE(is_valid_alias_name(std::string(128, 'a')));
}

TEST_F(RegistryTest, AliasesArePersistedAcrossReload) {
    deploy("hello", "v1");
    deploy("hello", "v2");
    Alias live = alias_to("live", 1, {{2, 0.25}});
    live.description = "production";
    EXPECT_TRUE(registry.set_alias("hello", live).created);
    EXPECT_TRUE(registry.set_alias("hello", alias_to("beta", 2)).created);
    EXPECT_FALSE(registry.set_alias("hello", alias_to("beta", 1)).created);
    EXPECT_EQ(fs::status(functions / "hello" / "aliases.json").permissions() & fs::perms::all,
              fs::perms::owner_read | fs::perms::owner_write);

    Registry reloaded(functions);
    reloaded.load();
    auto aliases = reloaded.aliases("hello");
    ASSERT_EQ(aliases.size(), 2u);
    EXPECT_EQ(aliases[0].name, "beta");  // sorted by name
    EXPECT_EQ(aliases[0].version, 1u);
    auto loaded = reloaded.alias("hello", "live");
    ASSERT_TRUE(loaded);
    EXPECT_EQ(loaded->version, 1u);
    EXPECT_EQ(loaded->additional_version_weights, (std::map<uint32_t, double>{{2, 0.25}}));
    EXPECT_EQ(loaded->description, "production");
    EXPECT_FALSE(reloaded.alias("hello", "gamma"));
}

TEST_F(RegistryTest, RefusesBadAliasNamesWeightsAndDescriptions) {
    deploy("hello");
    deploy("hello");
    deploy("hello");
    using Kind = RegistryError::Kind;
    for (const char* bad : {"", "42", "$LATEST", "a b", "a:b"}) {
        EXPECT_EQ(refusal([&] { registry.set_alias("hello", alias_to(bad, 1)); }), Kind::invalid) << bad;
    }
    EXPECT_EQ(refusal([&] { registry.set_alias("hello", alias_to("live", 1, {{2, 1.0}})); }), Kind::invalid);
    EXPECT_EQ(refusal([&] { registry.set_alias("hello", alias_to("live", 1, {{2, -0.1}})); }), Kind::invalid);
    EXPECT_EQ(refusal([&] { registry.set_alias("hello", alias_to("live", 1, {{1, 0.5}})); }), Kind::invalid);
    EXPECT_EQ(refusal([&] { registry.set_alias("hello", alias_to("live", 1, {{2, 0.1}, {3, 0.1}})); }), Kind::invalid);
    Alias wordy = alias_to("live", 1);
    wordy.description = std::string(257, 'x');
    EXPECT_EQ(refusal([&] { registry.set_alias("hello", wordy); }), Kind::invalid);
    EXPECT_NO_THROW(registry.set_alias("hello", alias_to("live", 1, {{2, 0.0}})));
    EXPECT_NO_THROW(registry.set_alias("hello", alias_to("live", 1, {{2, 0.999}})));
}

TEST_F(RegistryTest, RefusesAliasesOfMissingFunctionsOrVersions) {
    deploy("hello");
    using Kind = RegistryError::Kind;
    EXPECT_EQ(refusal([&] { registry.set_alias("nobody", alias_to("live", 1)); }), Kind::not_found);
    EXPECT_EQ(refusal([&] { registry.set_alias("hello", alias_to("live", 2)); }), Kind::not_found);
    EXPECT_EQ(refusal([&] { registry.set_alias("hello", alias_to("live", 1, {{7, 0.5}})); }), Kind::not_found);
    EXPECT_TRUE(registry.aliases("hello").empty());
    EXPECT_FALSE(fs::exists(functions / "hello" / "aliases.json"));
}

TEST_F(RegistryTest, RemovesAnAlias) {
    deploy("hello");
    registry.set_alias("hello", alias_to("live", 1));
    EXPECT_TRUE(registry.remove_alias("hello", "live"));
    EXPECT_FALSE(registry.remove_alias("hello", "live"));
    EXPECT_FALSE(registry.remove_alias("nobody", "live"));
    Registry reloaded(functions);
    reloaded.load();
    EXPECT_TRUE(reloaded.aliases("hello").empty());
}

TEST_F(RegistryTest, ResolvesEachKindOfQualifier) {
    deploy("hello", "v1");
    deploy("hello", "v2");
    registry.set_alias("hello", alias_to("live", 1));
    EXPECT_EQ(registry.resolve("hello", "").version->spec.version, 2u);
    EXPECT_EQ(registry.resolve("hello", "$LATEST").version->spec.version, 2u);
    EXPECT_EQ(registry.resolve("hello", "1").version->spec.version, 1u);
    EXPECT_EQ(registry.resolve("hello", "live").version->spec.version, 1u);

    EXPECT_EQ(registry.resolve("nobody", "").failure, ResolveFailure::no_function);
    EXPECT_EQ(registry.resolve("nobody", "live").failure, ResolveFailure::no_function);
    EXPECT_EQ(registry.resolve("hello", "3").failure, ResolveFailure::no_version);
    EXPECT_EQ(registry.resolve("hello", "0").failure, ResolveFailure::no_version);
    EXPECT_EQ(registry.resolve("hello", "99999999999").failure, ResolveFailure::no_version);
    EXPECT_EQ(registry.resolve("hello", "beta").failure, ResolveFailure::no_alias);
    EXPECT_EQ(registry.resolve("hello", "a/b").failure, ResolveFailure::bad_qualifier);
    EXPECT_EQ(registry.resolve("hello", "beta").version, nullptr);
}

// 10,000 draws at 10%: the count is binomial, mean 1,000, sigma 30; 4 sigma either way
// fails once in about 16,000 runs.
TEST_F(RegistryTest, AliasWeightSplitsTheCalls) {
    deploy("hello", "v1");
    deploy("hello", "v2");
    registry.set_alias("hello", alias_to("canary", 1, {{2, 0.1}}));
    constexpr int draws = 10'000;
    constexpr double p = 0.1;
    int second = 0;
    for (int i = 0; i < draws; ++i) {
        const uint32_t version = registry.resolve("hello", "canary").version->spec.version;
        ASSERT_TRUE(version == 1 || version == 2);
        second += version == 2;
    }
    const double sigma = std::sqrt(draws * p * (1 - p));
    EXPECT_NEAR(second, draws * p, 4 * sigma);
}

TEST_F(RegistryTest, SettingsUpdateKeepsTheLibraryAndBumpsTheVersion) {
    FunctionSettings settings;
    settings.env = {{"K", "V"}};
    auto first = deploy("hello", "the library", settings);
    registry.set_alias("hello", alias_to("live", 1));
    FunctionSettings changed = first->spec;
    changed.memory_mb = 256;
    auto updated = registry.publish(registry.stage_settings(first, changed));
    EXPECT_EQ(updated->spec.version, 2u);
    EXPECT_EQ(updated->spec.memory_mb, 256u);
    EXPECT_EQ(updated->spec.env, settings.env);
    EXPECT_EQ(updated->spec.sha256, first->spec.sha256);
    EXPECT_EQ(updated->spec.size_bytes, first->spec.size_bytes);
    EXPECT_EQ(file_text(updated->library), "the library");
    EXPECT_EQ(registry.latest("hello"), updated);
    EXPECT_EQ(registry.find("hello", 1)->spec.memory_mb, 128u);
    EXPECT_EQ(registry.resolve("hello", "live").version->spec.version, 1u);  // deploys keep aliases

    Registry reloaded(functions);
    reloaded.load();
    EXPECT_EQ(reloaded.latest("hello")->spec.memory_mb, 256u);
    EXPECT_EQ(reloaded.alias("hello", "live")->version, 1u);
}

TEST_F(RegistryTest, SettingsUpdateRefusedWhenAnotherVersionCameFirst) {
    auto first = deploy("hello", "v1");
    StagedVersion staged = registry.stage_settings(first, first->spec);
    const fs::path directory = staged.directory;
    deploy("hello", "v2");
    EXPECT_EQ(refusal([&] { registry.publish(std::move(staged)); }), RegistryError::Kind::conflict);
    EXPECT_FALSE(fs::exists(directory));
    EXPECT_EQ(file_text(registry.latest("hello")->library), "v2");
}

TEST_F(RegistryTest, RemovingAFunctionDropsItsAliases) {
    deploy("hello");
    registry.set_alias("hello", alias_to("live", 1));
    registry.remove("hello");
    EXPECT_TRUE(registry.aliases("hello").empty());
    deploy("hello");
    deploy("hello");
    EXPECT_FALSE(registry.alias("hello", "live"));
    EXPECT_EQ(registry.resolve("hello", "live").failure, ResolveFailure::no_alias);
}
