#include "registry/deploy_settings.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <utility>

#include "common/loader_variables.h"

namespace sofaas {
namespace {

[[noreturn]] void bad(std::string_view setting, std::string_view why) {
    throw DeploySettingsError(std::string(setting) + ": " + std::string(why));
}

uint32_t parse_unsigned(std::string_view setting, std::string_view text, uint64_t min, uint64_t max) {
    uint64_t value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || ec != std::errc() || end != text.data() + text.size() || value < min || value > max) {
        bad(setting, "must be an integer between " + std::to_string(min) + " and " + std::to_string(max) +
                         ", got \"" + std::string(text) + "\"");
    }
    return static_cast<uint32_t>(value);
}

bool is_identifier(std::string_view text) {
    if (text.empty() || text.size() > 255) return false;
    auto head = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; };
    if (!head(text.front())) return false;
    return std::all_of(text.begin(), text.end(), [&](char c) { return head(c) || (c >= '0' && c <= '9'); });
}

bool is_literal_segment(std::string_view segment) {
    return !segment.empty() && std::all_of(segment.begin(), segment.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
               c == '_' || c == '~' || c == '-';
    });
}

bool starts_with_segment(std::string_view path, std::string_view prefix) {
    return path == prefix || path.starts_with(std::string(prefix) + "/");
}

// "K=V": K is a shell-style variable name; SOFAAS_* belongs to the runtime.
std::pair<std::string, std::string> parse_env(std::string_view text, bool allow_loader_environment) {
    auto equals = text.find('=');
    if (equals == std::string_view::npos) bad("env", "must be KEY=VALUE, got \"" + std::string(text) + "\"");
    std::string_view key = text.substr(0, equals);
    if (!is_identifier(key)) bad("env", "invalid variable name \"" + std::string(key) + "\"");
    if (key.starts_with("SOFAAS_")) bad("env", "\"" + std::string(key) + "\" is reserved for the runtime");
    if (!allow_loader_environment && is_loader_variable(key)) {
        bad("env", "\"" + std::string(key) +
                       "\" is read by the dynamic loader or libc (LD_*, GLIBC_*, MALLOC_*): this sofaasd does not "
                       "allow such variables (allow_loader_environment)");
    }
    return {std::string(key), std::string(text.substr(equals + 1))};
}

// "METHOD /path/{param}": paths under /fn, /v1 and /healthz belong to the daemon.
Route parse_route(std::string_view text) {
    static constexpr std::array methods = {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "ANY"};
    auto space = text.find(' ');
    if (space == std::string_view::npos) bad("route", "must be \"METHOD /path\", got \"" + std::string(text) + "\"");
    std::string_view method = text.substr(0, space);
    std::string_view path = text.substr(space + 1);
    if (std::find(methods.begin(), methods.end(), method) == methods.end()) {
        bad("route", "unknown method \"" + std::string(method) + "\" (GET POST PUT PATCH DELETE HEAD OPTIONS ANY)");
    }
    if (!path.starts_with('/')) bad("route", "path must start with '/', got \"" + std::string(path) + "\"");
    if (path.size() > 1024) bad("route", "path is too long");
    if (path != "/") {
        std::vector<std::string_view> params;
        std::string_view rest = path.substr(1);
        while (true) {
            auto slash = rest.find('/');
            std::string_view segment = rest.substr(0, slash);
            if (segment.empty()) bad("route", "empty path segment in \"" + std::string(path) + "\"");
            if (segment == "." || segment == "..") bad("route", "\"..\" and \".\" are not allowed in a path");
            bool is_param = segment.size() > 2 && segment.front() == '{' && segment.back() == '}';
            if (is_param) {
                std::string_view name = segment.substr(1, segment.size() - 2);
                if (!is_identifier(name)) bad("route", "bad parameter name \"" + std::string(segment) + "\"");
                if (std::find(params.begin(), params.end(), name) != params.end()) {
                    bad("route", "parameter \"" + std::string(segment) + "\" appears twice");
                }
                params.push_back(name);
            } else if (!is_literal_segment(segment)) {
                bad("route", "bad path segment \"" + std::string(segment) + "\"");
            }
            if (slash == std::string_view::npos) break;
            rest = rest.substr(slash + 1);
        }
    }
    // The daemon's own paths: a route under one would never be reached.
    for (std::string_view reserved : {"/fn", "/v1", "/healthz", "/metrics", "/ui", "/2015-03-31"}) {
        if (starts_with_segment(path, reserved)) {
            bad("route", "paths under " + std::string(reserved) + " are reserved");
        }
    }
    return Route{std::string(method), std::string(path)};
}

// Applies `params` over `settings`. An update replaces the environment and the routes
// whole when it names any (an empty value names none, to clear them).
void apply_settings(FunctionSettings& settings, const std::vector<std::pair<std::string, std::string>>& params,
                    const Limits& limits, bool allow_loader_environment, bool update) {
    bool min_warm_given = false;
    bool env_given = false;
    bool routes_given = false;
    bool jwt_given = false;

    for (const auto& [key, value] : params) {
        if (update && key == "env" && !std::exchange(env_given, true)) settings.env.clear();
        if (update && key == "route" && !std::exchange(routes_given, true)) settings.routes.clear();
        if (update && (key == "env" || key == "route") && value.empty()) continue;
        if (key == "handler") {
            if (!is_identifier(value)) bad("handler", "must be a C identifier, got \"" + value + "\"");
            settings.handler = value;
        } else if (key == "memory") {
            settings.memory_mb = parse_unsigned("memory", value, 128, limits.max_memory_mb);
        } else if (key == "timeout") {
            settings.timeout_s = parse_unsigned("timeout", value, 1, limits.max_timeout_s);
        } else if (key == "ephemeral_storage") {
            settings.ephemeral_storage_mb =
                parse_unsigned("ephemeral_storage", value, default_ephemeral_storage_mb, max_ephemeral_storage_mb);
        } else if (key == "max_concurrency") {
            settings.max_concurrency = parse_unsigned("max_concurrency", value, 1, 10000);
        } else if (key == "min_warm") {
            settings.min_warm = parse_unsigned("min_warm", value, 0, 10000);
            min_warm_given = true;
        } else if (key == "env") {
            auto variable = parse_env(value, allow_loader_environment);
            auto same_key = [&](const auto& e) { return e.first == variable.first; };
            if (std::any_of(settings.env.begin(), settings.env.end(), same_key)) {
                bad("env", "\"" + variable.first + "\" is given twice");
            }
            settings.env.push_back(std::move(variable));
        } else if (key == "route") {
            Route route = parse_route(value);
            if (std::find(settings.routes.begin(), settings.routes.end(), route) != settings.routes.end()) {
                bad("route", "\"" + value + "\" is given twice");
            }
            settings.routes.push_back(std::move(route));
        } else if (key == "auth") {
            if (value == "none") {
                settings.auth = AuthMode::none;
            } else if (value == "key") {
                settings.auth = AuthMode::key;
            } else if (value == "jwt") {
                settings.auth = AuthMode::jwt;
            } else if (value == "token") {
                bad("auth", "\"token\" is now \"key\": callers present an API key (or the admin token)");
            } else {
                bad("auth", "must be \"none\", \"key\" or \"jwt\", got \"" + value + "\"");
            }
        } else if (key == "jwt_pool") {
            if (!value.empty() && !is_valid_function_name(value)) {
                bad("jwt_pool", "must be a user pool's name ([A-Za-z0-9_-], 1 to 64), got \"" + value + "\"");
            }
            settings.jwt_pool = value;
            jwt_given = true;
        } else if (key == "jwt_scope") {
            const bool scope_text = std::all_of(value.begin(), value.end(), [](char c) {
                return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == ':' || c == '/' ||
                       c == '-';
            });
            if (value.size() > 64 || !scope_text) {
                bad("jwt_scope", "must be a scope of up to 64 letters, digits or ._:/- characters");
            }
            settings.jwt_scope = value;
            jwt_given = true;
        } else if (key == "expose_errors") {
            if (value != "true" && value != "false") {
                bad("expose_errors", "must be \"true\" or \"false\", got \"" + value + "\"");
            }
            settings.expose_errors = value == "true";
        } else if (key == "async_retries") {
            settings.async_retries = parse_unsigned("async_retries", value, 0, max_async_retries);
        } else if (key == "max_event_age") {
            settings.max_event_age_s = parse_unsigned("max_event_age", value, min_event_age_s, default_max_event_age_s);
        } else if (key == "on_success" || key == "on_failure") {
            if (!value.empty() && !is_valid_function_name(value)) {
                bad(key, "must be a function name ([A-Za-z0-9_-], 1 to 64), got \"" + value + "\"");
            }
            (key == "on_success" ? settings.on_success : settings.on_failure) = value;
        } else {
            bad(key, "unknown setting (handler, memory, timeout, ephemeral_storage, env, route, min_warm, "
                     "max_concurrency, auth, jwt_pool, jwt_scope, expose_errors, async_retries, max_event_age, on_success, "
                     "on_failure)");
        }
    }

    if (settings.auth == AuthMode::jwt && settings.jwt_pool.empty()) {
        bad("jwt_pool", "is required with auth jwt: the user pool whose access tokens are accepted");
    }
    if (settings.auth != AuthMode::jwt) {
        if (jwt_given) bad(settings.jwt_pool.empty() ? "jwt_scope" : "jwt_pool", "needs auth jwt");
        // A version that stops taking tokens keeps no pool of its old authorizer.
        settings.jwt_pool.clear();
        settings.jwt_scope.clear();
    }

    if (settings.min_warm > settings.max_concurrency) {
        // A default min_warm above an explicit max_concurrency is the operator's default, not
        // the user's mistake: clamp it rather than reject the deploy.
        if (!min_warm_given) {
            settings.min_warm = settings.max_concurrency;
        } else {
            bad("min_warm", "must not exceed max_concurrency (" + std::to_string(settings.max_concurrency) + ")");
        }
    }
}

}  // namespace

FunctionSettings parse_deploy_settings(const std::vector<std::pair<std::string, std::string>>& params,
                                       const FunctionDefaults& defaults, const Limits& limits,
                                       bool allow_loader_environment) {
    FunctionSettings settings;
    settings.memory_mb = defaults.memory_mb;
    settings.timeout_s = defaults.timeout_s;
    settings.max_concurrency = defaults.max_concurrency;
    settings.min_warm = defaults.min_warm;
    apply_settings(settings, params, limits, allow_loader_environment, false);
    return settings;
}

FunctionSettings parse_settings_update(const std::vector<std::pair<std::string, std::string>>& params,
                                       const FunctionSpec& current, const Limits& limits,
                                       bool allow_loader_environment) {
    FunctionSettings settings = current;
    apply_settings(settings, params, limits, allow_loader_environment, true);
    return settings;
}

}  // namespace sofaas
