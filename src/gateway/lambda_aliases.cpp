// The Lambda API's aliases: CreateAlias, GetAlias, UpdateAlias, DeleteAlias, ListAliases,
// over the registry's aliases (registry/registry.h).
#include <charconv>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "gateway/awaitable_calls.h"
#include "gateway/lambda_operations.h"
#include "gateway/responses.h"
#include "registry/registry.h"

namespace sofaas {
namespace {

using nlohmann::json;

std::string alias_json(const Alias& alias, const std::string& function, const Config& config) {
    json weights = json::object();
    for (const auto& [version, weight] : alias.additional_version_weights) weights[std::to_string(version)] = weight;
    json body = {{"AliasArn", function_arn(config, function) + ":" + alias.name},
                 {"Name", alias.name},
                 {"FunctionVersion", std::to_string(alias.version)},
                 {"Description", alias.description},
                 {"RevisionId", fmt::format("{}-{}", alias.name, alias.version)}};
    if (!weights.empty()) body["RoutingConfig"] = {{"AdditionalVersionWeights", std::move(weights)}};
    return body.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::optional<uint32_t> version_number(const std::string& text) {
    uint32_t number = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), number);
    if (ec != std::errc() || end != text.data() + text.size() || number == 0) return std::nullopt;
    return number;
}

// CreateAlias / UpdateAlias: {"Name"?, "FunctionVersion", "Description", "RoutingConfig":
// {"AdditionalVersionWeights": {"4": 0.1}}}; an update keeps what it does not name.
std::variant<Alias, HttpResponseParts> alias_from(const json& body, Alias alias) {
    const auto invalid = [](std::string message) {
        return HttpResponseParts(lambda_error(400, "InvalidParameterValueException", message));
    };
    try {
        if (const auto version = body.find("FunctionVersion"); version != body.end()) {
            const auto number = version_number(version->get<std::string>());
            if (!number) return invalid("FunctionVersion must be a version number (sofaas aliases name no $LATEST)");
            alias.version = *number;
        }
        if (const auto description = body.find("Description"); description != body.end()) {
            alias.description = description->get<std::string>();
        }
        if (const auto routing = body.find("RoutingConfig"); routing != body.end()) {
            alias.additional_version_weights.clear();
            const json weights = routing->value("AdditionalVersionWeights", json::object());
            for (const auto& [version, weight] : weights.items()) {
                const auto number = version_number(version);
                if (!number) return invalid("AdditionalVersionWeights keys are version numbers, not " + version);
                alias.additional_version_weights[*number] = weight.get<double>();
            }
        }
    } catch (const json::exception& e) {
        return invalid(std::string("A parameter has the wrong type: ") + e.what());
    }
    return alias;
}

}  // namespace

boost::asio::awaitable<HttpResponseParts> lambda_alias_operation(LambdaCall& call, const FunctionVersionPtr& latest) {
    Registry& registry = call.context.services.registry;
    const Config& config = call.context.services.config;
    const std::string& function = latest->spec.name;
    const std::string& method = call.request.method;
    const auto not_found = [&](const std::string& name) {
        return lambda_error(404, "ResourceNotFoundException",
                            "Alias not found: " + function_arn(config, function) + ":" + name);
    };
    json body = json::object();
    if (method == "POST" || method == "PUT") {
        body = call.request.body.empty() ? json::object() : json::parse(call.request.body, nullptr, false);
        if (!body.is_object()) co_return lambda_error(400, "InvalidRequestContentException", "Could not parse request body into json");
    }
    // Writes fsync: off the io thread.
    HttpResponseParts answer;
    co_await run_blocking(call.context.disk_work, [&] {
        try {
            if (call.path.size() == 4) {
                if (method == "GET") {
                    json list = json::array();
                    for (const Alias& alias : registry.aliases(function)) list.push_back(json::parse(alias_json(alias, function, config)));
                    answer = json_response(200, json{{"Aliases", std::move(list)}}.dump(-1, ' ', false, json::error_handler_t::replace));
                    return;
                }
                if (method != "POST") {
                    answer = lambda_error(405, "InvalidParameterValueException", "Aliases: GET or POST");
                    return;
                }
                Alias alias;
                alias.name = body.value("Name", "");
                if (registry.alias(function, alias.name)) {
                    answer = lambda_error(409, "ResourceConflictException",
                                          "Alias already exists: " + function_arn(config, function) + ":" + alias.name);
                    return;
                }
                auto parsed = alias_from(body, std::move(alias));
                if (auto* refusal = std::get_if<HttpResponseParts>(&parsed)) {
                    answer = std::move(*refusal);
                    return;
                }
                const AliasChange change = registry.set_alias(function, std::get<Alias>(std::move(parsed)));
                answer = json_response(201, alias_json(change.alias, function, config));
                return;
            }
            if (call.path.size() != 5) {
                answer = lambda_error(404, "UnknownOperationException", "No such alias operation");
                return;
            }
            const std::string& name = call.path[4];
            const std::optional<Alias> current = registry.alias(function, name);
            if (method == "DELETE") {
                if (registry.remove_alias(function, name)) {
                    answer = HttpResponseParts{204, {}, {}};
                } else {
                    answer = not_found(name);
                }
                return;
            }
            if (!current) {
                answer = not_found(name);
                return;
            }
            if (method == "GET") {
                answer = json_response(200, alias_json(*current, function, config));
                return;
            }
            if (method != "PUT") {
                answer = lambda_error(405, "InvalidParameterValueException", "An alias: GET, PUT or DELETE");
                return;
            }
            auto parsed = alias_from(body, *current);
            if (auto* refusal = std::get_if<HttpResponseParts>(&parsed)) {
                answer = std::move(*refusal);
                return;
            }
            const AliasChange change = registry.set_alias(function, std::get<Alias>(std::move(parsed)));
            answer = json_response(200, alias_json(change.alias, function, config));
        } catch (const RegistryError& error) {
            answer = as_lambda_error(registry_error(error));
        }
    });
    co_return answer;
}

}  // namespace sofaas
