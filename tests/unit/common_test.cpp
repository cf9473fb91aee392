#include <gtest/gtest.h>

#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <thread>
#include <vector>

#include "common/config.h"
#include "common/csv.h"
#include "common/function_spec.h"
#include "common/invocation.h"
#include "common/invocation_report.h"
#include "common/number_text.h"
#include "common/private_directory.h"
#include "common/request_id.h"
#include "common/sha256.h"
#include "common/time.h"
#include "support/temp_dir.h"
#include "support/test_data.h"

using namespace sofaas;
using sofaas::testing::utc;
using namespace std::chrono;

namespace {

std::string config_error(std::string_view json) {
    try {
        parse_config(json);
    } catch (const ConfigError& e) {
        return e.what();
    }
    return "no error";
}

// tests/unit/common_test.cpp -> the repository root, where config/ lives.
std::filesystem::path source_dir() {
    return std::filesystem::path(__FILE__).parent_path().parent_path().parent_path();
}

}  // namespace

TEST(ConfigTest, EmptyObjectGivesDefaults) {
    Config config = parse_config("{}");
    EXPECT_EQ(config.listen_host, "127.0.0.1");
    EXPECT_EQ(config.listen_port, 8080);
    EXPECT_EQ(config.limits.max_timeout_s, 300u);
    EXPECT_EQ(config.defaults.memory_mb, 128u);
    EXPECT_TRUE(config.zygote);
    EXPECT_TRUE(config.cgroups);
    EXPECT_FALSE(config.allow_loader_environment);
    EXPECT_DOUBLE_EQ(config.prices.per_request, 0.0000002);
}

TEST(ConfigTest, ReadsEveryKey) {
    Config config = parse_config(R"({
        "listen": "0.0.0.0:9000", "data_dir": "/var/lib/sofaas", "io_threads": 4,
        "admin_token": "secret", "shutdown_grace_s": 5, "ledger_fsync_interval_ms": 0, "zygote": false,
        "cgroups": "off",
        "allow_loader_environment": true,
        "limits": {"max_timeout_s": 60, "max_payload_bytes": 1024, "max_header_bytes": 2048,
                   "read_timeout_s": 7, "init_timeout_s": 3, "max_memory_mb": 2048, "max_queue": 10},
        "defaults": {"memory_mb": 256, "timeout_s": 10, "max_concurrency": 4, "min_warm": 1,
                     "idle_timeout_s": 60},
        "prices": {"per_gb_second": 0.5, "per_request": 0.25}})");
    EXPECT_EQ(config.listen_host, "0.0.0.0");
    EXPECT_EQ(config.listen_port, 9000);
    EXPECT_EQ(config.data_dir, "/var/lib/sofaas");
    EXPECT_EQ(config.io_threads, 4u);
    EXPECT_EQ(config.admin_token, "secret");
    EXPECT_EQ(config.shutdown_grace_s, 5u);
    EXPECT_EQ(config.ledger_fsync_interval_ms, 0u);
    EXPECT_FALSE(config.zygote);
    EXPECT_FALSE(config.cgroups);
    EXPECT_TRUE(config.allow_loader_environment);
    EXPECT_EQ(config.limits.max_timeout_s, 60u);
    EXPECT_EQ(config.limits.max_payload_bytes, 1024u);
    EXPECT_EQ(config.limits.max_header_bytes, 2048u);
    EXPECT_EQ(config.limits.read_timeout_s, 7u);
    EXPECT_EQ(config.limits.init_timeout_s, 3u);
    EXPECT_EQ(config.limits.max_memory_mb, 2048u);
    EXPECT_EQ(config.limits.max_queue, 10u);
    EXPECT_EQ(config.defaults.memory_mb, 256u);
    EXPECT_EQ(config.defaults.timeout_s, 10u);
    EXPECT_EQ(config.defaults.max_concurrency, 4u);
    EXPECT_EQ(config.defaults.min_warm, 1u);
    EXPECT_EQ(config.defaults.idle_timeout_s, 60u);
    EXPECT_DOUBLE_EQ(config.prices.per_gb_second, 0.5);
    EXPECT_DOUBLE_EQ(config.prices.per_request, 0.25);
}

TEST(ConfigTest, TheStoreIsSqliteUnlessAPostgresUrlIsGiven) {
    EXPECT_EQ(parse_config("{}").store.kind, StoreKind::sqlite);
    EXPECT_EQ(parse_config(R"({"store": "sqlite"})").store.kind, StoreKind::sqlite);
    const Config cluster = parse_config(R"({"store": "postgresql://sofaas@db.internal:5432/sofaas?sslmode=require"})");
    EXPECT_EQ(cluster.store.kind, StoreKind::postgres);
    EXPECT_EQ(cluster.store.postgres_url, "postgresql://sofaas@db.internal:5432/sofaas?sslmode=require");
    EXPECT_EQ(parse_config(R"({"store": "postgres://h/db"})").store.kind, StoreKind::postgres);
    // The URL may hold a password: an error never quotes it.
    EXPECT_EQ(config_error(R"({"store": "mysql://u:s3cret@h/db"})"),
              "store: must be \"sqlite\" or a postgresql:// URL");
    EXPECT_EQ(config_error(R"({"store": ""})"), "store: must be \"sqlite\" or a postgresql:// URL");
    EXPECT_EQ(config_error(R"({"store": 5})"), "store: must be \"sqlite\" or a postgresql:// URL");
}

TEST(ConfigTest, LeasesAreHeldAsLocalAloneAndAsHostAndPortInACluster) {
    Config config;
    EXPECT_EQ(lease_owner_of(config), "local");
    config.store = parse_store("postgresql:///sofaas");
    config.listen_port = 8081;
    char host[256] = {};
    ::gethostname(host, sizeof host - 1);
    EXPECT_EQ(lease_owner_of(config), std::string(host) + ":8081");
    config.listen_port = 0;
    EXPECT_EQ(lease_owner_of(config), std::string(host) + ":pid-" + std::to_string(::getpid()));
    config.events.node_id = "node-7";
    EXPECT_EQ(lease_owner_of(config), "node-7");
}

TEST(ConfigTest, RejectsUnknownKeyNamingIt) {
    EXPECT_EQ(config_error(R"({"listen_port": 80})"), "listen_port: unknown key");
    EXPECT_EQ(config_error(R"({"limits": {"max_timout_s": 80}})"), "limits.max_timout_s: unknown key");
}

TEST(ConfigTest, RejectsTimeoutAbove300) {
    EXPECT_EQ(config_error(R"({"limits": {"max_timeout_s": 301}})"),
              "limits.max_timeout_s: must be between 1 and 300");
    EXPECT_NE(config_error(R"({"defaults": {"timeout_s": 301}})").find("defaults.timeout_s"), std::string::npos);
}

TEST(ConfigTest, IoThreadsAreHalfTheCoresUnlessCounted) {
    const uint32_t cores = std::thread::hardware_concurrency();
    EXPECT_EQ(auto_io_threads(), cores >= 2 ? cores / 2 : 1u);
    const Config by_default = parse_config("{}");
    EXPECT_FALSE(by_default.io_threads.has_value());
    EXPECT_EQ(io_thread_count(by_default), auto_io_threads());
    const Config automatic = parse_config(R"({"io_threads": "auto"})");
    EXPECT_FALSE(automatic.io_threads.has_value());
    EXPECT_EQ(io_thread_count(parse_config(R"({"io_threads": 3})")), 3u);
    EXPECT_EQ(config_error(R"({"io_threads": "Auto"})"), "io_threads: must be \"auto\" or between 1 and 256");
    EXPECT_EQ(config_error(R"({"io_threads": 257})"), "io_threads: must be \"auto\" or between 1 and 256");
}

TEST(ConfigTest, RejectsWrongTypesNegativesAndZeros) {
    EXPECT_NE(config_error(R"({"io_threads": "2"})").find("io_threads:"), std::string::npos);
    EXPECT_NE(config_error(R"({"io_threads": 0})").find("io_threads:"), std::string::npos);
    EXPECT_NE(config_error(R"({"limits": {"max_queue": -1}})").find("limits.max_queue:"), std::string::npos);
    EXPECT_NE(config_error(R"({"limits": {"max_payload_bytes": 1.5}})").find("limits.max_payload_bytes:"),
              std::string::npos);
    EXPECT_NE(config_error(R"({"prices": {"per_request": -0.1}})").find("prices.per_request:"), std::string::npos);
    EXPECT_NE(config_error(R"({"data_dir": ""})").find("data_dir:"), std::string::npos);
    EXPECT_EQ(config_error(R"({"zygote": 1})"), "zygote: must be true or false");
    EXPECT_EQ(config_error(R"({"cgroups": true})"), "cgroups: must be \"auto\" or \"off\"");
    EXPECT_EQ(config_error(R"({"cgroups": "v1"})"), "cgroups: must be \"auto\" or \"off\"");
    EXPECT_NE(config_error(R"({"limits": []})").find("limits:"), std::string::npos);
    EXPECT_NE(config_error("[1]").find("config:"), std::string::npos);
    EXPECT_NE(config_error("{not json").find("invalid JSON"), std::string::npos);
}

TEST(ConfigTest, UiDirIsAPathOrNull) {
    EXPECT_FALSE(parse_config("{}").ui_dir.has_value());
    EXPECT_FALSE(parse_config(R"({"ui_dir": null})").ui_dir.has_value());
    EXPECT_EQ(parse_config(R"({"ui_dir": "/srv/sofaas-ui"})").ui_dir, std::filesystem::path("/srv/sofaas-ui"));
    EXPECT_EQ(config_error(R"({"ui_dir": ""})"), "ui_dir: must be a directory's path or null");
    EXPECT_EQ(config_error(R"({"ui_dir": 3})"), "ui_dir: must be a directory's path or null");
}

TEST(ConfigTest, RejectsPortOutOfRange) {
    EXPECT_NE(config_error(R"({"listen": "127.0.0.1:65536"})").find("listen:"), std::string::npos);
    EXPECT_NE(config_error(R"({"listen": "127.0.0.1"})").find("listen:"), std::string::npos);
}

TEST(ConfigTest, RejectsDefaultsBeyondLimits) {
    EXPECT_NE(config_error(R"({"limits": {"max_timeout_s": 10}, "defaults": {"timeout_s": 20}})")
                  .find("defaults.timeout_s"),
              std::string::npos);
    EXPECT_NE(config_error(R"({"defaults": {"min_warm": 5, "max_concurrency": 2}})").find("defaults.min_warm"),
              std::string::npos);
}

TEST(ConfigTest, LoadConfigNamesMissingFile) {
    try {
        load_config("/nonexistent/sofaasd.json");
        FAIL() << "expected ConfigError";
    } catch (const ConfigError& e) {
        EXPECT_NE(std::string(e.what()).find("/nonexistent/sofaasd.json"), std::string::npos);
    }
}

TEST(ConfigTest, ShippedConfigFileParses) {
    Config config = load_config(source_dir() / "config" / "sofaasd.json");
    EXPECT_EQ(config.listen_port, 8080);
    EXPECT_EQ(config.data_dir, "data");
    // The file documents the defaults (README's configuration section shows it).
    const Config defaults;
    EXPECT_EQ(config.io_threads, defaults.io_threads);
    EXPECT_EQ(config.shutdown_grace_s, defaults.shutdown_grace_s);
    EXPECT_EQ(config.ledger_fsync_interval_ms, defaults.ledger_fsync_interval_ms);
    EXPECT_EQ(config.zygote, defaults.zygote);
    EXPECT_EQ(config.cgroups, defaults.cgroups);
    EXPECT_EQ(config.store.kind, StoreKind::sqlite);
    EXPECT_EQ(config.logs.max_bytes_per_function, defaults.logs.max_bytes_per_function);
    EXPECT_EQ(config.logs.max_age_days, defaults.logs.max_age_days);
    EXPECT_EQ(config.logs.max_followers, defaults.logs.max_followers);
}

// The one log-retention setting, for what the logs store and for who watches them.
TEST(ConfigTest, ReadsLogRetention) {
    const Config defaults;
    EXPECT_EQ(defaults.logs.max_bytes_per_function, 100u * 1024 * 1024);
    EXPECT_EQ(defaults.logs.max_age_days, 7u);
    const Config config =
        parse_config(R"({"logs": {"max_bytes_per_function": 1048576, "max_age_days": 2, "max_followers": 3}})");
    EXPECT_EQ(config.logs.max_bytes_per_function, 1048576u);
    EXPECT_EQ(config.logs.max_age_days, 2u);
    EXPECT_EQ(config.logs.max_followers, 3u);
    EXPECT_NE(config_error(R"({"logs": {"max_age_days": 0}})").find("logs.max_age_days"), std::string::npos);
    EXPECT_NE(config_error(R"({"logs": {"max_bytes_per_function": 10}})").find("logs.max_bytes_per_function"),
              std::string::npos);
    EXPECT_NE(config_error(R"({"logs": {"keep_forever": true}})").find("logs.keep_forever"), std::string::npos);
}

TEST(ConfigTest, ApplyListenParsesHostAndPort) {
    Config config;
    apply_listen(config, "localhost:0");
    EXPECT_EQ(config.listen_host, "localhost");
    EXPECT_EQ(config.listen_port, 0);
    apply_listen(config, "[::1]:65535");
    EXPECT_EQ(config.listen_host, "::1");
    EXPECT_EQ(config.listen_port, 65535);
    EXPECT_THROW(apply_listen(config, ":80"), ConfigError);
    EXPECT_THROW(apply_listen(config, "host:"), ConfigError);
    EXPECT_THROW(apply_listen(config, "host:-1"), ConfigError);
    EXPECT_THROW(apply_listen(config, "host:80x"), ConfigError);
}

TEST(ConfigTest, MetricsAreOnByDefaultAndListenOnlyWhereAsked) {
    const Config by_default = parse_config("{}");
    EXPECT_TRUE(by_default.metrics.enabled);
    EXPECT_FALSE(by_default.metrics.listen_host);
    EXPECT_FALSE(parse_config(R"({"metrics_listen": ""})").metrics.listen_host);
    const Config listening = parse_config(R"({"metrics_listen": "10.0.0.5:9101"})");
    EXPECT_EQ(listening.metrics.listen_host, "10.0.0.5");
    EXPECT_EQ(listening.metrics.listen_port, 9101);
    EXPECT_FALSE(parse_config(R"({"metrics": {"enabled": false}})").metrics.enabled);
    EXPECT_NE(config_error(R"({"metrics_listen": "10.0.0.5"})").find("metrics_listen:"), std::string::npos);
    EXPECT_NE(config_error(R"({"metrics": {"enabled": "yes"}})").find("metrics.enabled"), std::string::npos);
    EXPECT_NE(config_error(R"({"metrics": {"enabled": false}, "metrics_listen": "127.0.0.1:9101"})").find("metrics_listen:"),
              std::string::npos);
}

TEST(FunctionSpecTest, ValidatesFunctionNames) {
    EXPECT_TRUE(is_valid_function_name("hello"));
    EXPECT_TRUE(is_valid_function_name("My_fn-2"));
    EXPECT_TRUE(is_valid_function_name(std::string(64, 'a')));
    EXPECT_FALSE(is_valid_function_name(std::string(65, 'a')));
    EXPECT_FALSE(is_valid_function_name(""));
    EXPECT_FALSE(is_valid_function_name(".."));
    EXPECT_FALSE(is_valid_function_name("a/b"));
    EXPECT_FALSE(is_valid_function_name("a b"));
}

TEST(FunctionSpecTest, RoundTripsThroughJson) {
    FunctionSpec spec;
    spec.name = "api";
    spec.version = 7;
    spec.handler = "handle";
    spec.memory_mb = 512;
    spec.timeout_s = 30;
    spec.ephemeral_storage_mb = 10240;
    spec.env = {{"A", "1"}, {"B", "two"}};
    spec.routes = {{"GET", "/items/{id}"}, {"ANY", "/x"}};
    spec.min_warm = 1;
    spec.max_concurrency = 8;
    spec.auth = AuthMode::key;
    spec.expose_errors = true;
    spec.sha256 = std::string(64, 'f');
    spec.size_bytes = 12345;
    spec.created_at = "2026-11-27T18:43:49.123456Z";

    FunctionSpec back = spec_from_json(spec_to_json(spec));
    EXPECT_EQ(back.name, spec.name);
    EXPECT_EQ(back.version, spec.version);
    EXPECT_EQ(back.handler, spec.handler);
    EXPECT_EQ(back.memory_mb, spec.memory_mb);
    EXPECT_EQ(back.timeout_s, spec.timeout_s);
    EXPECT_EQ(back.ephemeral_storage_mb, spec.ephemeral_storage_mb);
    EXPECT_EQ(back.env, spec.env);
    EXPECT_EQ(back.routes, spec.routes);
    EXPECT_EQ(back.min_warm, spec.min_warm);
    EXPECT_EQ(back.max_concurrency, spec.max_concurrency);
    EXPECT_EQ(back.auth, spec.auth);
    EXPECT_EQ(back.expose_errors, spec.expose_errors);
    EXPECT_EQ(back.sha256, spec.sha256);
    EXPECT_EQ(back.size_bytes, spec.size_bytes);
    EXPECT_EQ(back.created_at, spec.created_at);
}

TEST(FunctionSpecTest, FromJsonNamesTheBadField) {
    FunctionSpec spec;
    spec.name = "f";
    std::string good = spec_to_json(spec);
    auto error_of = [](const std::string& json) -> std::string {
        try {
            spec_from_json(json);
        } catch (const std::runtime_error& e) {
            return e.what();
        }
        return "no error";
    };
    EXPECT_EQ(error_of(good), "no error");
    std::string bad_memory = std::regex_replace(good, std::regex(R"("memory_mb":128)"), R"("memory_mb":"big")");
    EXPECT_NE(error_of(bad_memory).find("memory_mb"), std::string::npos);
    std::string bad_auth = std::regex_replace(good, std::regex(R"("auth":"none")"), R"("auth":"maybe")");
    EXPECT_NE(error_of(bad_auth).find("auth"), std::string::npos);
    std::string bad_expose = std::regex_replace(good, std::regex(R"("expose_errors":false)"), R"("expose_errors":1)");
    EXPECT_NE(error_of(bad_expose).find("expose_errors"), std::string::npos);
    // A spec.json written before the setting existed keeps generic errors.
    std::string older = std::regex_replace(good, std::regex(R"("expose_errors":false,)"), "");
    ASSERT_EQ(error_of(older), "no error");
    EXPECT_FALSE(spec_from_json(older).expose_errors);
    std::string no_handler = std::regex_replace(good, std::regex(R"("handler":"sofaas_handler",)"), "");
    EXPECT_NE(error_of(no_handler).find("handler"), std::string::npos);
    EXPECT_NE(error_of("{").find("invalid JSON"), std::string::npos);
}

// A version deployed before ephemeral_storage_mb existed gets Lambda's default.
TEST(FunctionSpecTest, AnOlderSpecWithoutEphemeralStorageGetsTheDefault) {
    FunctionSpec spec;
    spec.name = "old";
    spec.ephemeral_storage_mb = 2048;
    const std::string older = std::regex_replace(spec_to_json(spec), std::regex(R"("ephemeral_storage_mb":2048,)"), "");
    ASSERT_EQ(older.find("ephemeral_storage_mb"), std::string::npos) << older;
    EXPECT_EQ(spec_from_json(older).ephemeral_storage_mb, 512u);
}

TEST(InvocationTest, NamesEnums) {
    EXPECT_EQ(to_string(Trigger::http), "http");
    EXPECT_EQ(to_string(Trigger::invoke), "invoke");
    EXPECT_EQ(to_string(InvocationStatus::ok), "ok");
    EXPECT_EQ(to_string(InvocationStatus::oom), "oom");
    EXPECT_EQ(to_string(InvocationStatus::throttled), "throttled");
    EXPECT_EQ(to_string(AuthMode::key), "key");
}

TEST(InvocationTest, TimeoutMessageFollowsLambda) {
    EXPECT_EQ(timeout_message(1.0), "Task timed out after 1.00 seconds");
    EXPECT_EQ(timeout_message(300), "Task timed out after 300.00 seconds");
}

// The worker or its sandbox could not be set up: the host's fault, told as the service's.
TEST(InvocationTest, AHostFaultIsToldAsAServiceException) {
    InvocationReport report;
    report.status = InvocationStatus::host_fault;
    report.error_message = "The host could not start the function's sandbox; see the daemon log.";
    const InvocationError error = error_of(report);
    EXPECT_EQ(error.error_type, "ServiceException");
    EXPECT_EQ(error.error_message, report.error_message);
}

TEST(InvocationTest, EachFailureHasLambdasDefaultErrorTypeAndMessage) {
    InvocationReport report;
    report.memory_mb = 128;
    report.status = InvocationStatus::error;
    EXPECT_EQ(error_of(report).error_type, "FunctionError");

    report.status = InvocationStatus::timeout;
    report.error_message = timeout_message(1);
    InvocationError timeout = error_of(report);
    EXPECT_EQ(timeout.error_type, "Sandbox.Timedout");
    EXPECT_EQ(timeout.error_message, "Task timed out after 1.00 seconds");

    report.error_message.clear();
    report.status = InvocationStatus::crash;
    EXPECT_EQ(error_of(report).error_type, "Runtime.ExitError");

    report.status = InvocationStatus::oom;
    EXPECT_EQ(error_of(report).error_type, "Runtime.OutOfMemory");
    EXPECT_EQ(error_of(report).error_message, "Runtime exited with error: out of memory (memory_mb 128)");

    report.status = InvocationStatus::throttled;
    EXPECT_EQ(error_of(report).error_type, "TooManyRequestsException");
    EXPECT_EQ(error_of(report).error_message, "Rate Exceeded.");
}

TEST(InvocationTest, AFailureKeepsTheFunctionsOwnError) {
    InvocationReport report;
    report.status = InvocationStatus::error;
    report.error_type = "ValidationError";
    report.error_message = "name is required";
    const InvocationError error = error_of(report);
    EXPECT_EQ(error.error_type, "ValidationError");
    EXPECT_EQ(error.error_message, "name is required");
}

TEST(RequestIdTest, IsAUniqueVersion4Uuid) {
    std::regex uuid("^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$");
    std::set<std::string> seen;
    for (int i = 0; i < 1000; ++i) {
        std::string id = new_request_id();
        EXPECT_TRUE(std::regex_match(id, uuid)) << id;
        seen.insert(id);
    }
    EXPECT_EQ(seen.size(), 1000u);
}

TEST(ConfigTest, WorkerUidsIsARangeOfUserIds) {
    EXPECT_EQ(parse_config("{}").worker_uids.first, default_worker_uids.first);
    const Config config = parse_config(R"({"worker_uids": "200000-265535"})");
    EXPECT_EQ(config.worker_uids.first, 200000u);
    EXPECT_EQ(config.worker_uids.last, 265535u);
    EXPECT_EQ(parse_uid_range("7-7").last, 7u);
    for (const char* bad : {"", "-", "5", "5-", "-5", "0-10", "10-5", "1-4294967295", "a-b", "1 - 2", "1-2-3",
                            "99999999999-99999999999"}) {
        EXPECT_THROW(parse_uid_range(bad), ConfigError) << bad;
    }
    EXPECT_THROW(parse_config(R"({"worker_uids": 5})"), ConfigError);
    EXPECT_THROW(parse_config(R"({"worker_uids": "10-5"})"), ConfigError);
}

TEST(TimeTest, FormatsRfc3339InUtcWithMicroseconds) {
    EXPECT_EQ(format_rfc3339(utc(2026, 11, 27, 18, 43, 49, 123456)), "2026-11-27T18:43:49.123456Z");
    EXPECT_EQ(format_rfc3339(utc(2024, 2, 29)), "2024-02-29T00:00:00.000000Z");
    EXPECT_EQ(format_date(utc(2026, 11, 27, 23, 59, 59, 999999)), "2026-11-27");
    EXPECT_EQ(format_rfc3339(utc(9999, 12, 31, 23, 59, 59, 999999)), "9999-12-31T23:59:59.999999Z");
    EXPECT_EQ(format_rfc3339(utc(1, 1, 1, 0, 0, 0, 7)), "0001-01-01T00:00:00.000007Z");
    std::string appended = "start=";
    append_rfc3339(appended, utc(2026, 1, 2, 3, 4, 5, 60));
    EXPECT_EQ(appended, "start=2026-01-02T03:04:05.000060Z");
}

TEST(NumberTextTest, FixedDecimalsMatchPrintf) {
    for (double value : {0.0, 0.005, 0.015, 1.005, 2.675, 12.345678, 999.995, 1e9 + 0.125, -3.14159, 1e300}) {
        for (int decimals : {0, 2, 3}) {
            char expected[512];
            std::snprintf(expected, sizeof expected, "%.*f", decimals, value);
            EXPECT_EQ(format_fixed(value, decimals), expected) << value << " " << decimals;
        }
    }
    std::string text = "took ";
    append_fixed(text, 1.5, 2);
    EXPECT_EQ(text, "took 1.50");
}

TEST(TimeTest, ParsesRfc3339WithAndWithoutFraction) {
    WallTime now = utc(2030, 1, 1);
    EXPECT_EQ(parse_time_spec("2026-11-27T18:43:49Z", now), utc(2026, 11, 27, 18, 43, 49));
    EXPECT_EQ(parse_time_spec("2026-11-27T18:43:49.5Z", now), utc(2026, 11, 27, 18, 43, 49, 500000));
    EXPECT_EQ(parse_time_spec("2026-11-27T18:43:49.123456Z", now), utc(2026, 11, 27, 18, 43, 49, 123456));
}

TEST(TimeTest, ParsesOffsets) {
    WallTime now = utc(2030, 1, 1);
    EXPECT_EQ(parse_time_spec("2026-11-27T20:43:49+02:00", now), utc(2026, 11, 27, 18, 43, 49));
    EXPECT_EQ(parse_time_spec("2026-11-27T13:13:49-05:30", now), utc(2026, 11, 27, 18, 43, 49));
}

TEST(TimeTest, ParsesDateAsMidnightUtc) {
    EXPECT_EQ(parse_time_spec("2026-11-27", utc(2030, 1, 1)), utc(2026, 11, 27));
}

TEST(TimeTest, ParsesRelativeTimesBeforeNow) {
    WallTime now = utc(2026, 11, 27, 12);
    EXPECT_EQ(parse_time_spec("90s", now), now - seconds(90));
    EXPECT_EQ(parse_time_spec("15m", now), now - minutes(15));
    EXPECT_EQ(parse_time_spec("1h", now), now - hours(1));
    EXPECT_EQ(parse_time_spec("2d", now), now - hours(48));
    EXPECT_EQ(parse_time_spec("1w", now), now - hours(168));
}

TEST(TimeTest, FormatAndParseRoundTrip) {
    WallTime t = utc(2026, 3, 1, 0, 0, 0, 1);
    EXPECT_EQ(parse_time_spec(format_rfc3339(t), utc(2030, 1, 1)), t);
}

TEST(TimeTest, RejectsGarbage) {
    WallTime now = utc(2030, 1, 1);
    for (const char* bad : {"", "h", "1y", "-1h", "1.5h", "yesterday", "2026-13-01", "2026-02-30",
                            "2026-11-27T25:00:00Z", "2026-11-27T18:43:49", "2026-11-27T18:43:49.Z",
                            "2026-11-27T18:43:49Zjunk", "2026-11-27T18:43:49+0200", "99999999999999999999d"}) {
        EXPECT_EQ(parse_time_spec(bad, now), std::nullopt) << bad;
    }
}

TEST(Sha256Test, MatchesKnownDigests) {
    EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    // 56 bytes: the padding spills into a second block.
    EXPECT_EQ(sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
              "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    EXPECT_EQ(sha256_hex(std::string(1000000, 'a')),
              "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

// RFC 4231, test cases 1 and 2; and the empty key, which must not read as "no key".
TEST(HmacSha256Test, MatchesRfc4231) {
    EXPECT_EQ(lowercase_hex(hmac_sha256(std::string(20, '\x0b'), "Hi There")),
              "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
    EXPECT_EQ(lowercase_hex(hmac_sha256("Jefe", "what do ya want for nothing?")),
              "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    EXPECT_EQ(hmac_sha256("Jefe", "what do ya want for nothing?").size(), 32u);
    EXPECT_EQ(lowercase_hex(hmac_sha256("", "")),
              "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad");
}

// Each thread keeps a MAC context of its own: threads computing at once, each with keys
// of its own in turn, get the MACs one thread gets.
TEST(HmacSha256Test, ThreadsComputingAtOnceAgree) {
    const std::string jefe = hmac_sha256("Jefe", "what do ya want for nothing?");
    std::vector<std::string> own;
    for (int t = 0; t < 4; ++t) own.push_back(hmac_sha256(std::string(static_cast<size_t>(t), 'k'), "other"));
    std::atomic<int> wrong{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&, t] {
            for (int i = 0; i < 2000; ++i) {
                if (hmac_sha256(std::string(static_cast<size_t>(t), 'k'), "other") != own[t]) ++wrong;
                if (hmac_sha256("Jefe", "what do ya want for nothing?") != jefe) ++wrong;
            }
        });
    }
    for (auto& thread : threads) thread.join();
    EXPECT_EQ(wrong.load(), 0);
}

TEST(HmacSha256Test, HexIsTwoLowercaseDigitsPerByte) {
    EXPECT_EQ(lowercase_hex(std::string_view("\x00\x0f\xa0\xff", 4)), "000fa0ff");
    EXPECT_EQ(lowercase_hex(""), "");
}

// A data directory is private to the daemon's user, including what an older sofaasd left
// readable; the named world-readable files keep only their read permission; a symbolic
// link is never followed out.
TEST(PrivateDirectoryTest, TakesGroupAndOtherPermissionsAwayFromEverything) {
    namespace fs = std::filesystem;
    sofaas::testing::TempDir root("private-dir");
    const fs::path data = root / "data";
    fs::create_directories(data / "billing");
    fs::create_directories(data / "functions" / "f" / "versions" / "1");
    std::ofstream(data / "billing" / "2020-01-01.jsonl") << "{}\n";
    std::ofstream(data / "functions" / "f" / "versions" / "1" / "function.so") << "ELF";
    std::ofstream(root / "outside") << "not the daemon's";
    fs::create_symlink(root / "outside", data / "link");
    for (const fs::path& path : {data, data / "billing", data / "functions"}) fs::permissions(path, fs::perms(0755));
    fs::permissions(data / "billing" / "2020-01-01.jsonl", fs::perms(0664));
    fs::permissions(data / "functions" / "f" / "versions" / "1" / "function.so", fs::perms(0755));
    fs::permissions(root / "outside", fs::perms(0644));

    EXPECT_GE(make_directory_private(data, "function.so"), 5u);
    EXPECT_EQ(fs::status(data).permissions(), fs::perms(0700));
    EXPECT_EQ(fs::status(data / "billing").permissions(), fs::perms(0700));
    EXPECT_EQ(fs::status(data / "functions" / "f" / "versions").permissions(), fs::perms(0700));
    EXPECT_EQ(fs::status(data / "billing" / "2020-01-01.jsonl").permissions(), fs::perms(0600));
    EXPECT_EQ(fs::status(data / "functions" / "f" / "versions" / "1" / "function.so").permissions(), fs::perms(0744));
    EXPECT_EQ(fs::status(root / "outside").permissions(), fs::perms(0644)) << "the link was followed";
    EXPECT_EQ(make_directory_private(data, "function.so"), 0u) << "nothing left to tighten";

    EXPECT_EQ(make_directory_private(root / "new" / "data"), 1u) << "created, then made private";
    EXPECT_EQ(fs::status(root / "new" / "data").permissions(), fs::perms(0700));
}

namespace {
std::string csv_field(std::string_view text) {
    std::string out;
    append_csv_field(out, text);
    return out;
}
}  // namespace

TEST(CsvTest, QuotesOnlyFieldsWithACommaQuoteOrLineBreak) {
    EXPECT_EQ(csv_field("hello"), "hello");
    EXPECT_EQ(csv_field(""), "");
    EXPECT_EQ(csv_field("a b;c"), "a b;c");
    EXPECT_EQ(csv_field("a,b"), "\"a,b\"");
    EXPECT_EQ(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
    EXPECT_EQ(csv_field("two\nlines"), "\"two\nlines\"");
    EXPECT_EQ(csv_field("cr\r"), "\"cr\r\"");
}

TEST(CsvTest, AppendsAfterWhatIsAlreadyWritten) {
    std::string row = "r1,";
    append_csv_field(row, "f,g");
    EXPECT_EQ(row, "r1,\"f,g\"");
}

