#include "common/config.h"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstring>
#include <fstream>
#include <limits>
#include <sstream>
#include <thread>
#include <tuple>

#include <nlohmann/json.hpp>

#include "common/money.h"

namespace sofaas {
namespace {

using nlohmann::json;

[[noreturn]] void reject(const std::string& key, std::string_view why) {
    throw ConfigError(key + ": " + std::string(why));
}

// Reads one JSON object section, erroring on any key nobody asked for, so a typo in the
// config ("max_timout_s") is reported instead of silently keeping the default.
class Section {
public:
    Section(const json& object, std::string prefix) : object_(object), prefix_(std::move(prefix)) {
        if (!object_.is_object()) {
            reject(prefix_.empty() ? std::string("config") : prefix_, "must be a JSON object");
        }
    }

    std::string key(std::string_view name) const {
        return prefix_.empty() ? std::string(name) : prefix_ + "." + std::string(name);
    }

    const json* find(std::string_view name) {
        known_.emplace_back(name);
        auto it = object_.find(std::string(name));
        return it == object_.end() ? nullptr : &*it;
    }

    // Integers within [min, max]; the message names the accepted range.
    template <typename T>
    void integer(std::string_view name, T& out, uint64_t min, uint64_t max) {
        const json* value = find(name);
        if (!value) return;
        // nlohmann parses every non-negative integer literal as unsigned.
        if (!value->is_number_unsigned()) range_error(name, min, max);
        auto n = value->get<uint64_t>();
        if (n < min || n > max) range_error(name, min, max);
        out = static_cast<T>(n);
    }

    void number(std::string_view name, double& out, double max) {
        const json* value = find(name);
        if (!value) return;
        if (!value->is_number() || value->get<double>() < 0 || value->get<double>() > max) {
            reject(key(name), "must be a number from 0 to " + std::to_string(static_cast<long long>(max)));
        }
        out = value->get<double>();
    }

    void boolean(std::string_view name, bool& out) {
        const json* value = find(name);
        if (!value) return;
        if (!value->is_boolean()) reject(key(name), "must be true or false");
        out = value->get<bool>();
    }

    void string(std::string_view name, std::string& out, bool allow_empty) {
        const json* value = find(name);
        if (!value) return;
        if (!value->is_string()) reject(key(name), "must be a string");
        if (!allow_empty && value->get_ref<const std::string&>().empty()) {
            reject(key(name), "must not be empty");
        }
        out = value->get<std::string>();
    }

    // Call after all reads: anything not asked for is unknown.
    void reject_unknown() const {
        for (const auto& [name, _] : object_.items()) {
            bool known = false;
            for (const auto& k : known_) known = known || k == name;
            if (!known) reject(key(name), "unknown key");
        }
    }

private:
    [[noreturn]] void range_error(std::string_view name, uint64_t min, uint64_t max) const {
        if (max == std::numeric_limits<uint32_t>::max() || max == std::numeric_limits<uint64_t>::max()) {
            reject(key(name), "must be an integer >= " + std::to_string(min));
        }
        reject(key(name), "must be between " + std::to_string(min) + " and " + std::to_string(max));
    }

    const json& object_;
    std::string prefix_;
    std::vector<std::string> known_;
};

constexpr uint64_t u32_max = std::numeric_limits<uint32_t>::max();
constexpr uint64_t size_max = std::numeric_limits<uint64_t>::max();

void read_limits(const json& value, Limits& limits) {
    Section s(value, "limits");
    s.integer("max_timeout_s", limits.max_timeout_s, 1, 300);
    s.integer("max_payload_bytes", limits.max_payload_bytes, 1, size_max);
    s.integer("max_header_bytes", limits.max_header_bytes, 1, size_max);
    s.integer("read_timeout_s", limits.read_timeout_s, 1, 3600);
    s.integer("init_timeout_s", limits.init_timeout_s, 1, 3600);
    s.integer("max_memory_mb", limits.max_memory_mb, 128, u32_max);
    s.integer("max_queue", limits.max_queue, 0, u32_max);
    s.reject_unknown();
}

void read_defaults(const json& value, FunctionDefaults& defaults) {
    Section s(value, "defaults");
    s.integer("memory_mb", defaults.memory_mb, 128, u32_max);
    s.integer("timeout_s", defaults.timeout_s, 1, 300);
    s.integer("max_concurrency", defaults.max_concurrency, 1, 10000);
    s.integer("min_warm", defaults.min_warm, 0, 10000);
    s.integer("idle_timeout_s", defaults.idle_timeout_s, 1, u32_max);
    s.reject_unknown();
}

void read_prices(const json& value, Prices& prices) {
    Section s(value, "prices");
    // A record's cost is integer pico-dollars (common/money.h): the bound keeps it in 64 bits.
    s.number("per_gb_second", prices.per_gb_second, max_price_usd);
    s.number("per_request", prices.per_request, max_price_usd);
    s.reject_unknown();
}

void read_sites(const json& value, SitesSettings& sites) {
    Section s(value, "sites");
    s.integer("max_files", sites.max_files, 1, 1'000'000);
    s.integer("max_total_bytes", sites.max_total_bytes, 1, 1ull << 40);
    s.integer("cache_mb", sites.cache_mb, 0, 1ull << 20);
    s.boolean("behind_tls", sites.behind_tls);
    s.integer("hsts_max_age_s", sites.hsts_max_age_s, 0, u32_max);
    s.boolean("hsts_include_subdomains", sites.hsts_include_subdomains);
    if (const json* headers = s.find("headers")) {
        if (!headers->is_object()) reject(s.key("headers"), "must be an object of header names and values");
        for (const auto& [name, text] : headers->items()) {
            const std::string key = s.key("headers") + "." + name;
            if (!text.is_string()) reject(key, "must be a string (\"\" removes the header)");
            const std::string& header_value = text.get_ref<const std::string&>();
            const bool token = !name.empty() && name.find_first_not_of(
                "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&'*+-.^_`|~") == std::string::npos;
            if (!token) reject(key, "is not a header name");
            for (const char c : header_value) {
                if ((static_cast<unsigned char>(c) < 0x20 && c != '\t') || c == 0x7f) reject(key, "has a control character");
            }
            auto& list = sites.headers;
            const auto same = [&](const auto& header) {
                return std::equal(header.first.begin(), header.first.end(), name.begin(), name.end(),
                                  [](char a, char b) { return std::tolower(a) == std::tolower(b); });
            };
            list.erase(std::remove_if(list.begin(), list.end(), same), list.end());
            if (!header_value.empty()) list.emplace_back(name, header_value);
        }
    }
    s.reject_unknown();
}

void read_cors(const json& value, CorsSettings& cors) {
    Section s(value, "cors");
    if (const json* origins = s.find("allowed_origins")) {
        if (!origins->is_array()) reject(s.key("allowed_origins"), "must be a list of origins");
        for (const json& origin : *origins) {
            if (!origin.is_string()) reject(s.key("allowed_origins"), "must be a list of strings");
            const std::string& text = origin.get_ref<const std::string&>();
            // An origin is scheme://host[:port], nothing after: no path, no trailing slash.
            const size_t scheme_end = text.find("://");
            const bool origin_form = scheme_end != std::string::npos && scheme_end > 0 &&
                                     text.size() > scheme_end + 3 &&
                                     text.find('/', scheme_end + 3) == std::string::npos &&
                                     text.find_first_of(" \t\r\n,*") == std::string::npos;
            if (text != "*" && !origin_form) {
                reject(s.key("allowed_origins"),
                       "each must be \"*\" or an origin such as \"https://app.example.com\" (scheme, host, port; no path): got \"" +
                           text + "\"");
            }
            cors.allowed_origins.push_back(text);
        }
    }
    s.integer("max_age_s", cors.max_age_s, 0, 86400);
    s.reject_unknown();
}

void read_metrics(const json& value, MetricsSettings& metrics) {
    Section s(value, "metrics");
    s.boolean("enabled", metrics.enabled);
    s.reject_unknown();
}

void read_events(const json& value, EventSettings& events) {
    Section s(value, "events");
    s.integer("retry_delay_s", events.retry_delay_s, 1, 3600);
    s.integer("max_queued_per_function", events.max_queued_per_function, 1, size_max);
    s.integer("concurrency_share_percent", events.concurrency_share_percent, 1, 100);
    s.integer("max_running", events.max_running, 1, 100000);
    s.string("node_id", events.node_id, true);
    s.reject_unknown();
}

void read_logs(const json& value, LogSettings& logs) {
    Section s(value, "logs");
    s.integer("max_bytes_per_function", logs.max_bytes_per_function, 4096, size_max);
    s.integer("max_age_days", logs.max_age_days, 1, 36500);
    s.integer("max_followers", logs.max_followers, 0, 100000);
    s.reject_unknown();
}

void read_oidc_provider(const json& value, size_t index, OidcProviderSettings& provider) {
    Section s(value, "users.oidc_providers[" + std::to_string(index) + "]");
    s.string("name", provider.name, false);
    s.string("issuer", provider.issuer, false);
    s.string("jwks_url", provider.jwks_url, false);
    s.string("audience", provider.audience, false);
    s.reject_unknown();
    for (const auto& [name, text] : {std::pair{"name", provider.name}, std::pair{"issuer", provider.issuer},
                                     std::pair{"jwks_url", provider.jwks_url}, std::pair{"audience", provider.audience}}) {
        if (text.empty()) reject(s.key(name), "is required");
    }
    if (!provider.jwks_url.starts_with("https://") && !provider.jwks_url.starts_with("http://")) {
        reject(s.key("jwks_url"), "must be an http:// or https:// URL");
    }
}

void read_users(const json& value, UserSettings& users) {
    Section s(value, "users");
    if (const json* issuer = s.find("issuer_url"); issuer && !issuer->is_null()) {
        if (!issuer->is_string()) reject("users.issuer_url", "must be a URL string or null");
        std::string url = issuer->get<std::string>();
        while (url.ends_with('/')) url.pop_back();
        if (!url.starts_with("https://") && !url.starts_with("http://")) {
            reject("users.issuer_url", "must be an http:// or https:// URL");
        }
        users.issuer_url = url;
    }
    s.integer("token_lifetime_s", users.token_lifetime_s, 300, 86400);
    s.integer("refresh_lifetime_days", users.refresh_lifetime_days, 1, 3650);
    s.integer("max_failed_sign_ins", users.max_failed_sign_ins, 1, 1000);
    s.integer("lockout_s", users.lockout_s, 1, 86400);
    s.integer("max_failed_sign_ins_per_address", users.max_failed_sign_ins_per_address, 1, 1000000);
    if (const json* providers = s.find("oidc_providers")) {
        if (!providers->is_array()) reject("users.oidc_providers", "must be an array of {name, issuer, jwks_url, audience}");
        for (size_t i = 0; i < providers->size(); ++i) {
            OidcProviderSettings provider;
            read_oidc_provider((*providers)[i], i, provider);
            for (const auto& other : users.oidc_providers) {
                if (other.name == provider.name || other.issuer == provider.issuer) {
                    reject("users.oidc_providers[" + std::to_string(i) + "]", "names a provider or issuer twice");
                }
            }
            users.oidc_providers.push_back(std::move(provider));
        }
    }
    s.reject_unknown();
}

// Cross-field rules that no single key can check.
void check_consistency(const Config& config) {
    if (config.defaults.timeout_s > config.limits.max_timeout_s) {
        reject("defaults.timeout_s", "must not exceed limits.max_timeout_s");
    }
    if (config.defaults.memory_mb > config.limits.max_memory_mb) {
        reject("defaults.memory_mb", "must not exceed limits.max_memory_mb");
    }
    if (config.defaults.min_warm > config.defaults.max_concurrency) {
        reject("defaults.min_warm", "must not exceed defaults.max_concurrency");
    }
}

}  // namespace

uint32_t auto_io_threads() {
    return std::max(1u, std::thread::hardware_concurrency() / 2);
}

uint32_t io_thread_count(const Config& config) {
    return config.io_threads.value_or(auto_io_threads());
}

Config parse_config(std::string_view json_text) {
    json document;
    try {
        document = json::parse(json_text);
    } catch (const json::exception& e) {
        // Not only parse_error: a number too large for a double ("1E534") is out_of_range.
        // Found by tests/fuzz/config_fuzz.cpp.
        throw ConfigError(std::string("config: invalid JSON: ") + e.what());
    }

    Config config;
    Section s(document, "");
    if (const json* listen = s.find("listen")) {
        if (!listen->is_string()) reject("listen", "must be a string \"HOST:PORT\"");
        try {
            apply_listen(config, listen->get<std::string>());
        } catch (const ConfigError& e) {
            reject("listen", e.what());
        }
    }
    std::string data_dir = config.data_dir.string();
    s.string("data_dir", data_dir, false);
    config.data_dir = data_dir;
    if (const json* threads = s.find("io_threads"); threads && !(threads->is_string() && *threads == "auto")) {
        if (!threads->is_number_unsigned() || threads->get<uint64_t>() < 1 || threads->get<uint64_t>() > 256) {
            reject("io_threads", "must be \"auto\" or between 1 and 256");
        }
        config.io_threads = threads->get<uint32_t>();
    }
    s.string("admin_token", config.admin_token, true);
    s.integer("shutdown_grace_s", config.shutdown_grace_s, 0, 3600);
    s.integer("ledger_fsync_interval_ms", config.ledger_fsync_interval_ms, 0, 60000);
    s.integer("ledger_reserve_mb", config.ledger_reserve_mb, 0, 1048576);
    std::string archive_dir;
    s.string("ledger_archive_dir", archive_dir, true);
    config.ledger_archive_dir = archive_dir;
    s.integer("ledger_archive_after_days", config.ledger_archive_after_days, 0, 36500);
    if (config.ledger_archive_after_days > 0 && archive_dir.empty()) {
        reject("ledger_archive_after_days", "needs ledger_archive_dir, which is empty");
    }
    s.string("worker_user", config.worker_user, true);
    if (const json* range = s.find("worker_uids")) {
        if (!range->is_string()) reject("worker_uids", "must be a string \"FIRST-LAST\"");
        try {
            config.worker_uids = parse_uid_range(range->get<std::string>());
        } catch (const ConfigError& e) {
            reject("worker_uids", e.what());
        }
    }
    s.boolean("zygote", config.zygote);
    if (const json* cgroups = s.find("cgroups")) {
        if (!cgroups->is_string() || (*cgroups != "auto" && *cgroups != "off")) reject("cgroups", "must be \"auto\" or \"off\"");
        config.cgroups = *cgroups == "auto";
    }
    s.boolean("allow_loader_environment", config.allow_loader_environment);
    if (const json* store = s.find("store")) {
        if (!store->is_string()) reject("store", "must be \"sqlite\" or a postgresql:// URL");
        config.store = parse_store(store->get<std::string>());
    }
    if (const json* v = s.find("limits")) read_limits(*v, config.limits);
    if (const json* v = s.find("defaults")) read_defaults(*v, config.defaults);
    if (const json* v = s.find("prices")) read_prices(*v, config.prices);
    if (const json* v = s.find("events")) read_events(*v, config.events);
    if (const json* v = s.find("logs")) read_logs(*v, config.logs);
    if (const json* v = s.find("metrics")) read_metrics(*v, config.metrics);
    if (const json* v = s.find("sites")) read_sites(*v, config.sites);
    if (const json* v = s.find("cors")) read_cors(*v, config.cors);
    if (const json* v = s.find("users")) read_users(*v, config.users);
    // "" (the shipped config's value) is no second address.
    const json* metrics_listen = s.find("metrics_listen");
    if (metrics_listen && !(metrics_listen->is_string() && metrics_listen->get_ref<const std::string&>().empty())) {
        if (!metrics_listen->is_string()) reject("metrics_listen", "must be a string \"HOST:PORT\" (or \"\": none)");
        try {
            std::tie(config.metrics.listen_host, config.metrics.listen_port) =
                parse_host_port(metrics_listen->get<std::string>());
        } catch (const ConfigError& e) {
            reject("metrics_listen", e.what());
        }
        if (!config.metrics.enabled) reject("metrics_listen", "needs metrics.enabled, which is false");
    }
    if (const json* ui_dir = s.find("ui_dir"); ui_dir && !ui_dir->is_null()) {
        if (!ui_dir->is_string() || ui_dir->get<std::string>().empty()) reject("ui_dir", "must be a directory's path or null");
        config.ui_dir = ui_dir->get<std::string>();
    }
    s.string("region", config.region, false);
    s.string("account_id", config.account_id, false);
    if (config.region.size() > 32 || config.region.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789-") != std::string::npos) {
        reject("region", "must be lower-case letters, digits and '-' (us-east-1), at most 32");
    }
    if (config.account_id.size() != 12 ||
        config.account_id.find_first_not_of("0123456789") != std::string::npos) {
        reject("account_id", "must be 12 digits");
    }
    s.reject_unknown();
    check_consistency(config);
    return config;
}

Config load_config(const std::filesystem::path& file) {
    std::ifstream in(file, std::ios::binary);
    if (!in) throw ConfigError(file.string() + ": cannot open config file");
    std::ostringstream text;
    text << in.rdbuf();
    if (in.bad()) throw ConfigError(file.string() + ": cannot read config file");
    try {
        return parse_config(text.str());
    } catch (const ConfigError& e) {
        throw ConfigError(file.string() + ": " + e.what());
    }
}

std::string function_arn(const Config& config, std::string_view function) {
    return "arn:aws:lambda:" + config.region + ":" + config.account_id + ":function:" + std::string(function);
}

StoreSettings parse_store(std::string_view text) {
    if (text == "sqlite") return StoreSettings{};
    if (text.rfind("postgresql://", 0) == 0 || text.rfind("postgres://", 0) == 0) {
        return StoreSettings{StoreKind::postgres, std::string(text)};
    }
    reject("store", "must be \"sqlite\" or a postgresql:// URL");
}

std::string lease_owner_of(const Config& config) {
    if (!config.events.node_id.empty()) return config.events.node_id;
    if (config.store.kind == StoreKind::sqlite) return "local";
    char host[256] = {};
    if (::gethostname(host, sizeof host - 1) != 0) std::strcpy(host, "localhost");
    if (config.listen_port == 0) return std::string(host) + ":pid-" + std::to_string(::getpid());
    return std::string(host) + ":" + std::to_string(config.listen_port);
}

UidRange parse_uid_range(std::string_view text) {
    const auto invalid = [&] {
        return ConfigError("a uid range is \"FIRST-LAST\" with user ids from 1 to 4294967294, got \"" +
                           std::string(text) + "\"");
    };
    const auto number = [&](std::string_view digits) {
        uint64_t value = 0;
        const auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
        if (digits.empty() || error != std::errc() || end != digits.data() + digits.size() || value == 0 ||
            value >= UINT32_MAX) {
            throw invalid();
        }
        return static_cast<uid_t>(value);
    };
    const size_t dash = text.find('-');
    if (dash == std::string_view::npos) throw invalid();
    const UidRange range{number(text.substr(0, dash)), number(text.substr(dash + 1))};
    if (range.first > range.last) {
        throw ConfigError("the uid range \"" + std::string(text) + "\" ends before it starts");
    }
    return range;
}

void apply_listen(Config& config, std::string_view host_port) {
    std::tie(config.listen_host, config.listen_port) = parse_host_port(host_port);
}

std::pair<std::string, uint16_t> parse_host_port(std::string_view host_port) {
    // rfind: the port is after the last colon ("[::1]:8080" keeps its brackets in the host).
    auto colon = host_port.rfind(':');
    if (colon == std::string_view::npos || colon == 0) {
        throw ConfigError("listen address must be HOST:PORT, got \"" + std::string(host_port) + "\"");
    }
    std::string_view host = host_port.substr(0, colon);
    std::string_view port_text = host_port.substr(colon + 1);
    unsigned port = 0;
    auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (port_text.empty() || ec != std::errc() || end != port_text.data() + port_text.size() || port > 65535) {
        throw ConfigError("listen port must be between 0 and 65535, got \"" + std::string(port_text) + "\"");
    }
    if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
    return {std::string(host), static_cast<uint16_t>(port)};
}

}  // namespace sofaas
