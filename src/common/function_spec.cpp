#include "common/function_spec.h"

#include <stdexcept>

#include <nlohmann/json.hpp>

namespace sofaas {
namespace {

using nlohmann::json;

[[noreturn]] void bad_field(std::string_view field, std::string_view why) {
    throw std::runtime_error("spec.json: " + std::string(field) + ": " + std::string(why));
}

const json& required(const json& object, const char* field) {
    auto it = object.find(field);
    if (it == object.end()) bad_field(field, "missing");
    return *it;
}

std::string string_field(const json& object, const char* field) {
    const json& value = required(object, field);
    if (!value.is_string()) bad_field(field, "must be a string");
    return value.get<std::string>();
}

uint64_t unsigned_field(const json& object, const char* field, uint64_t max) {
    const json& value = required(object, field);
    if (!value.is_number_unsigned() || value.get<uint64_t>() > max) {
        bad_field(field, "must be a non-negative integer");
    }
    return value.get<uint64_t>();
}

uint32_t u32_field(const json& object, const char* field) {
    return static_cast<uint32_t>(unsigned_field(object, field, UINT32_MAX));
}

}  // namespace

bool is_valid_function_name(std::string_view name) {
    if (name.empty() || name.size() > 64) return false;
    for (char c : name) {
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
                  c == '-';
        if (!ok) return false;
    }
    return true;
}

std::string_view to_string(AuthMode mode) {
    switch (mode) {
        case AuthMode::key: return "key";
        case AuthMode::jwt: return "jwt";
        case AuthMode::none: break;
    }
    return "none";
}

std::string spec_to_json(const FunctionSpec& spec) {
    json env = json::object();
    for (const auto& [key, value] : spec.env) env[key] = value;
    json routes = json::array();
    for (const auto& route : spec.routes) routes.push_back({{"method", route.method}, {"path", route.path}});
    json object = {
        {"name", spec.name},
        {"version", spec.version},
        {"handler", spec.handler},
        {"memory_mb", spec.memory_mb},
        {"timeout_s", spec.timeout_s},
        {"ephemeral_storage_mb", spec.ephemeral_storage_mb},
        {"env", std::move(env)},
        {"routes", std::move(routes)},
        {"min_warm", spec.min_warm},
        {"max_concurrency", spec.max_concurrency},
        {"auth", to_string(spec.auth)},
        {"jwt_pool", spec.jwt_pool},
        {"jwt_scope", spec.jwt_scope},
        {"expose_errors", spec.expose_errors},
        {"async_retries", spec.async_retries},
        {"max_event_age_s", spec.max_event_age_s},
        {"on_success", spec.on_success},
        {"on_failure", spec.on_failure},
        {"sha256", spec.sha256},
        {"size_bytes", spec.size_bytes},
        {"created_at", spec.created_at},
    };
    // Env values come from the client: invalid UTF-8 becomes U+FFFD rather than an exception.
    return object.dump(-1, ' ', false, json::error_handler_t::replace);
}

FunctionSpec spec_from_json(std::string_view text) {
    json object;
    try {
        object = json::parse(text);
    } catch (const json::exception& e) {  // parse_error, or out_of_range for 1E534
        throw std::runtime_error(std::string("spec.json: invalid JSON: ") + e.what());
    }
    if (!object.is_object()) throw std::runtime_error("spec.json: must be a JSON object");

    FunctionSpec spec;
    spec.name = string_field(object, "name");
    if (!is_valid_function_name(spec.name)) bad_field("name", "not a valid function name");
    spec.version = u32_field(object, "version");
    spec.handler = string_field(object, "handler");
    spec.memory_mb = u32_field(object, "memory_mb");
    spec.timeout_s = u32_field(object, "timeout_s");
    // Versions deployed before the setting existed get Lambda's default.
    if (object.contains("ephemeral_storage_mb")) spec.ephemeral_storage_mb = u32_field(object, "ephemeral_storage_mb");

    const json& env = required(object, "env");
    if (!env.is_object()) bad_field("env", "must be an object");
    for (const auto& [key, value] : env.items()) {
        if (!value.is_string()) bad_field("env." + key, "must be a string");
        spec.env.emplace_back(key, value.get<std::string>());
    }

    const json& routes = required(object, "routes");
    if (!routes.is_array()) bad_field("routes", "must be an array");
    for (const json& route : routes) {
        if (!route.is_object()) bad_field("routes", "entries must be objects {method, path}");
        spec.routes.push_back(Route{string_field(route, "method"), string_field(route, "path")});
    }

    spec.min_warm = u32_field(object, "min_warm");
    spec.max_concurrency = u32_field(object, "max_concurrency");
    std::string auth = string_field(object, "auth");
    if (auth == "none") {
        spec.auth = AuthMode::none;
    } else if (auth == "key" || auth == "token") {  // "token": versions deployed before API keys
        spec.auth = AuthMode::key;
    } else if (auth == "jwt") {
        spec.auth = AuthMode::jwt;
        spec.jwt_pool = string_field(object, "jwt_pool");
        if (spec.jwt_pool.empty()) bad_field("jwt_pool", "must name a user pool when auth is jwt");
    } else {
        bad_field("auth", "must be \"none\", \"key\" or \"jwt\"");
    }
    // Absent from versions deployed before JWT authorizers.
    if (spec.auth == AuthMode::jwt && object.contains("jwt_scope")) spec.jwt_scope = string_field(object, "jwt_scope");
    // Absent from versions deployed before the setting existed: they keep the default.
    if (const auto expose_errors = object.find("expose_errors"); expose_errors != object.end()) {
        if (!expose_errors->is_boolean()) bad_field("expose_errors", "must be true or false");
        spec.expose_errors = expose_errors->get<bool>();
    }
    // Absent from versions deployed before queued events: Lambda's defaults, no destinations.
    if (object.contains("async_retries")) spec.async_retries = u32_field(object, "async_retries");
    if (object.contains("max_event_age_s")) spec.max_event_age_s = u32_field(object, "max_event_age_s");
    for (auto [key, destination] : {std::pair{"on_success", &spec.on_success}, std::pair{"on_failure", &spec.on_failure}}) {
        if (!object.contains(key)) continue;
        *destination = string_field(object, key);
        if (!destination->empty() && !is_valid_function_name(*destination)) bad_field(key, "not a valid function name");
    }
    spec.sha256 = string_field(object, "sha256");
    spec.size_bytes = unsigned_field(object, "size_bytes", UINT64_MAX);
    spec.created_at = string_field(object, "created_at");
    return spec;
}

}  // namespace sofaas
