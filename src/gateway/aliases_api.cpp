// /v1/functions/NAME/aliases[/ALIAS]: Lambda's aliases (registry/registry.h). Admin only;
// the registry writes and fsyncs, so this runs on the disk-work thread.
#include <charconv>
#include <variant>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "gateway/control_api.h"
#include "gateway/responses.h"
#include "registry/registry.h"

namespace sofaas {
namespace {

using nlohmann::json;

json alias_json(const GatewayServices& services, const std::string& function, const Alias& alias) {
    json weights = json::object();
    for (const auto& [version, weight] : alias.additional_version_weights) weights[std::to_string(version)] = weight;
    return {{"name", alias.name},
            {"function", function},
            {"version", alias.version},
            {"weights", weights},
            {"description", alias.description},
            {"arn", fmt::format("arn:aws:lambda:{}:{}:function:{}:{}", services.config.region,
                                services.config.account_id, function, alias.name)}};
}

std::optional<uint32_t> version_key(std::string_view text) {
    uint32_t version = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), version);
    if (text.empty() || ec != std::errc() || end != text.data() + text.size() || version == 0) return std::nullopt;
    return version;
}

// {"version": 3, "weights": {"4": 0.1}, "description": "..."}; the bounds are the registry's.
std::variant<Alias, HttpResponseParts> parse_alias_body(std::string_view body, const std::string& name) {
    const json object = json::parse(body, nullptr, false);
    if (!object.is_object()) {
        return bad_request("The body must be a JSON object: {\"version\", \"weights\", \"description\"}");
    }
    Alias alias;
    alias.name = name;
    for (const auto& [key, value] : object.items()) {
        if (key == "version") {
            if (!value.is_number_unsigned() || value.get<uint64_t>() == 0 || value.get<uint64_t>() > UINT32_MAX) {
                return bad_request("\"version\" must be a version number (1 or more)");
            }
            alias.version = value.get<uint32_t>();
        } else if (key == "weights") {
            if (!value.is_object()) return bad_request("\"weights\" must be an object: {\"VERSION\": WEIGHT}");
            for (const auto& [version, weight] : value.items()) {
                const auto number = version_key(version);
                if (!number || !weight.is_number()) {
                    return bad_request("\"weights\" must map version numbers to weights: {\"4\": 0.1}");
                }
                alias.additional_version_weights[*number] = weight.get<double>();
            }
        } else if (key == "description") {
            if (!value.is_string()) return bad_request("\"description\" must be a string");
            alias.description = value.get<std::string>();
        } else {
            return bad_request(fmt::format("Unknown field \"{}\" (version, weights, description)", key));
        }
    }
    if (alias.version == 0) return bad_request("\"version\" is required");
    return alias;
}

HttpResponseParts alias_not_found(const std::string& function, const std::string& name) {
    return not_found(fmt::format("Function not found: {} alias {}", function, name));
}

}  // namespace

HttpResponseParts aliases_api(HandlerContext& context, const IncomingRequest& request,
                              const std::vector<std::string>& path, const std::string& function) {
    const GatewayServices& services = context.services;
    Registry& registry = services.registry;
    const std::string& method = request.method;
    if (!registry.latest(function)) return not_found(fmt::format("Function not found: {}", function));

    if (path.size() == 4) {
        if (method != "GET") return method_not_allowed(method, request.path());
        json list = json::array();
        for (const Alias& alias : registry.aliases(function)) list.push_back(alias_json(services, function, alias));
        return json_response(200, json{{"aliases", list}}.dump());
    }
    const std::string& name = path[4];
    try {
        if (method == "PUT") {
            auto parsed = parse_alias_body(request.body, name);
            if (auto* refusal = std::get_if<HttpResponseParts>(&parsed)) return std::move(*refusal);
            const AliasChange change = registry.set_alias(function, std::move(std::get<Alias>(parsed)));
            spdlog::info("[{}] alias {}:{} -> version {}", request.request_id, function, name, change.alias.version);
            return json_response(change.created ? 201 : 200, alias_json(services, function, change.alias).dump());
        }
        if (!is_valid_alias_name(name)) {
            return bad_request(fmt::format("Invalid alias name ({} bytes): names are 1 to 128 characters of A-Z, "
                                           "a-z, 0-9, _ and -, not only digits",
                                           name.size()));
        }
        if (method == "GET") {
            const auto alias = registry.alias(function, name);
            if (!alias) return alias_not_found(function, name);
            return json_response(200, alias_json(services, function, *alias).dump());
        }
        if (method == "DELETE") {
            if (!registry.remove_alias(function, name)) return alias_not_found(function, name);
            return json_response(200, json{{"deleted", name}}.dump());
        }
    } catch (const RegistryError& error) {
        if (error.kind() == RegistryError::Kind::storage || error.kind() == RegistryError::Kind::unavailable) {
            spdlog::error("[{}] {}", request.request_id, error.what());
        }
        return registry_error(error);
    }
    return method_not_allowed(method, request.path());
}

}  // namespace sofaas
