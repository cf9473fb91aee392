// The Lambda API's functions, versions and concurrency: ListFunctions, GetFunction,
// GetFunctionConfiguration, CreateFunction, UpdateFunctionCode,
// UpdateFunctionConfiguration, DeleteFunction, PublishVersion, ListVersionsByFunction,
// Put/Get/DeleteFunctionConcurrency; and the routing of every operation.
#include <algorithm>
#include <fstream>
#include <iterator>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "gateway/awaitable_calls.h"
#include "gateway/base64.h"
#include "gateway/control_api.h"
#include "gateway/lambda_operations.h"
#include "gateway/lambda_zip.h"
#include "gateway/query_string.h"
#include "gateway/responses.h"
#include "registry/registry.h"

namespace sofaas {
namespace {

using nlohmann::json;

constexpr size_t default_page = 50;
constexpr size_t max_page = 10000;

HttpResponseParts invalid_parameter(std::string_view message) {
    return lambda_error(400, "InvalidParameterValueException", message);
}

HttpResponseParts function_not_found(const HandlerContext& context, std::string_view function) {
    return lambda_error(404, "ResourceNotFoundException",
                        "Function not found: " + function_arn(context.services.config, function));
}

HttpResponseParts configuration_response(const FunctionSpec& spec, const Config& config, bool as_latest,
                                         int status = 200) {
    return json_response(status, function_configuration(spec, config, as_latest));
}

// The request body as JSON, or the refusal Lambda gives for one that is not.
std::optional<json> json_body(const IncomingRequest& request, std::optional<HttpResponseParts>* refusal) {
    json body = request.body.empty() ? json::object() : json::parse(request.body, nullptr, false);
    if (!body.is_object()) {
        *refusal = lambda_error(400, "InvalidRequestContentException", "Could not parse request body into json");
        return std::nullopt;
    }
    return body;
}

// Paging of lists: Marker (where the previous page ended) and MaxItems.
struct Page {
    size_t start = 0;
    size_t size = default_page;
};
std::optional<Page> page_of(const IncomingRequest& request, std::optional<HttpResponseParts>* refusal) {
    const QueryParams params = parse_query(request.query());
    Page page;
    if (const auto max_items = find_param(params, "MaxItems")) {
        const auto number = parse_unsigned(*max_items);
        if (!number || *number == 0 || *number > max_page) {
            *refusal = invalid_parameter(fmt::format("MaxItems must be between 1 and {}", max_page));
            return std::nullopt;
        }
        page.size = *number;
    }
    if (const auto marker = find_param(params, "Marker")) {
        const auto number = parse_unsigned(*marker);
        if (!number) {
            *refusal = invalid_parameter("Marker is not one this API gave out");
            return std::nullopt;
        }
        page.start = *number;
    }
    return page;
}

template <typename Items, typename ToJson>
HttpResponseParts page_response(const Items& items, const Page& page, const char* key, ToJson to_json) {
    json list = json::array();
    const size_t end = std::min(items.size(), page.start + page.size);
    for (size_t i = std::min(page.start, items.size()); i < end; ++i) list.push_back(json::parse(to_json(items[i])));
    json body = {{key, std::move(list)}};
    if (end < items.size()) body["NextMarker"] = std::to_string(end);
    return json_response(200, body.dump(-1, ' ', false, json::error_handler_t::replace));
}

// The deploy settings a Lambda request body gives, as the control API's parameters.
std::optional<std::vector<std::pair<std::string, std::string>>> settings_params(
    const json& body, std::string* handler_file, std::optional<HttpResponseParts>* refusal) {
    std::vector<std::pair<std::string, std::string>> params;
    try {
        if (const auto runtime = body.find("Runtime"); runtime != body.end()) {
            const std::string name = runtime->get<std::string>();
            if (name != lambda_runtime && name != "provided.al2") {
                *refusal = invalid_parameter(fmt::format(
                    "Runtime {} is not one sofaas runs: functions are native shared libraries (Runtime {})", name,
                    lambda_runtime));
                return std::nullopt;
            }
        }
        if (const auto handler = body.find("Handler"); handler != body.end()) {
            // "hello.so" or "hello.so:symbol": the library in the zip, and its handler symbol.
            const std::string text = handler->get<std::string>();
            const size_t colon = text.find(':');
            *handler_file = text.substr(0, colon);
            if (handler_file->empty() || !handler_file->ends_with(".so")) {
                *refusal = invalid_parameter("Handler must be FILE.so or FILE.so:SYMBOL (the shared library in the "
                                             "zip, and its handler symbol), not " + text);
                return std::nullopt;
            }
            if (colon != std::string::npos) params.emplace_back("handler", text.substr(colon + 1));
        }
        if (const auto memory = body.find("MemorySize"); memory != body.end()) {
            params.emplace_back("memory", std::to_string(memory->get<uint32_t>()));
        }
        if (const auto timeout = body.find("Timeout"); timeout != body.end()) {
            params.emplace_back("timeout", std::to_string(timeout->get<uint32_t>()));
        }
        if (const auto storage = body.find("EphemeralStorage"); storage != body.end()) {
            params.emplace_back("ephemeral_storage", std::to_string(storage->at("Size").get<uint32_t>()));
        }
        if (const auto environment = body.find("Environment"); environment != body.end()) {
            const json variables = environment->value("Variables", json::object());
            for (const auto& [key, value] : variables.items()) {
                params.emplace_back("env", key + "=" + value.get<std::string>());
            }
        }
    } catch (const json::exception& e) {
        *refusal = invalid_parameter(std::string("A parameter has the wrong type: ") + e.what());
        return std::nullopt;
    }
    return params;
}

boost::asio::awaitable<HttpResponseParts> publish(LambdaCall& call, const std::string& function,
                                                  std::string_view library,
                                                  const std::vector<std::pair<std::string, std::string>>& params,
                                                  int status) {
    const Config& config = call.context.services.config;
    FunctionSettings settings;
    try {
        settings = parse_deploy_settings(params, config.defaults, config.limits, config.allow_loader_environment);
    } catch (const DeploySettingsError& error) {
        co_return invalid_parameter(error.what());
    }
    PublishResult result = co_await publish_library(call.context, call.request.request_id, function, library, settings);
    if (result.refusal) co_return as_lambda_error(*result.refusal);
    co_return configuration_response(result.version->spec, config, true, status);
}

// Code.ZipFile (base64 in JSON, as the SDKs send it) unpacked to the library the Handler names.
std::optional<std::string> library_from(const json& code, const std::string& handler_file,
                                        std::optional<HttpResponseParts>* refusal) {
    if (!code.is_object() || !code.contains("ZipFile") || !code["ZipFile"].is_string()) {
        *refusal = invalid_parameter("Code.ZipFile is required: a zip holding the function's .so (S3 and image "
                                     "code are not supported)");
        return std::nullopt;
    }
    const auto archive = base64_decode(code["ZipFile"].get<std::string>());
    if (!archive) {
        *refusal = invalid_parameter("Code.ZipFile is not base64");
        return std::nullopt;
    }
    auto unpacked = file_from_zip(*archive, handler_file, max_library_bytes);
    if (auto* error = std::get_if<ZipError>(&unpacked)) {
        *refusal = invalid_parameter(error->message);
        return std::nullopt;
    }
    return std::get<std::string>(std::move(unpacked));
}

boost::asio::awaitable<HttpResponseParts> create_function(LambdaCall& call) {
    std::optional<HttpResponseParts> refusal;
    const auto body = json_body(call.request, &refusal);
    if (!body) co_return std::move(*refusal);
    const std::string function = body->value("FunctionName", "");
    if (!is_valid_function_name(function)) {
        co_return invalid_parameter("FunctionName must be 1 to 64 of A-Z a-z 0-9 - _, not '" + function + "'");
    }
    if (call.context.services.registry.latest(function)) {
        co_return lambda_error(409, "ResourceConflictException", "Function already exist: " + function);
    }
    std::string handler_file;
    const auto params = settings_params(*body, &handler_file, &refusal);
    if (!params) co_return std::move(*refusal);
    if (handler_file.empty()) co_return invalid_parameter("Handler is required: FILE.so or FILE.so:SYMBOL");
    const auto library = library_from(body->value("Code", json()), handler_file, &refusal);
    if (!library) co_return std::move(*refusal);
    HttpResponseParts answer = co_await publish(call, function, *library, *params, 201);
    co_return answer;
}

// UpdateFunctionConfiguration: the same library, new settings, as the new $LATEST.
boost::asio::awaitable<HttpResponseParts> update_settings(LambdaCall& call, const FunctionVersionPtr& latest,
                                                          const std::vector<std::pair<std::string, std::string>>& changes) {
    const Config& config = call.context.services.config;
    FunctionSettings settings;
    try {
        settings = parse_settings_update(changes, latest->spec, config.limits, config.allow_loader_environment);
    } catch (const DeploySettingsError& error) {
        co_return invalid_parameter(error.what());
    }
    PublishResult result = co_await publish_settings(call.context, call.request.request_id, latest, settings);
    if (result.refusal) co_return as_lambda_error(*result.refusal);
    co_return configuration_response(result.version->spec, config, true);
}

boost::asio::awaitable<HttpResponseParts> update_function(LambdaCall& call, const FunctionVersionPtr& latest,
                                                          bool code) {
    std::optional<HttpResponseParts> refusal;
    const auto body = json_body(call.request, &refusal);
    if (!body) co_return std::move(*refusal);
    const std::string& function = latest->spec.name;
    std::vector<std::pair<std::string, std::string>> changes;
    if (!code) {
        std::string handler_file;  // the library stays: only its symbol may change
        const auto params = settings_params(*body, &handler_file, &refusal);
        if (!params) co_return std::move(*refusal);
        changes = *params;
    }
    HttpResponseParts answer;
    if (code) {
        // UpdateFunctionCode names no file: the zip's only .so is the library; the settings stay.
        const auto library = library_from(json{{"ZipFile", body->value("ZipFile", json())}}, "", &refusal);
        if (!library) co_return std::move(*refusal);
        PublishResult result =
            co_await publish_library(call.context, call.request.request_id, function, *library, latest->spec);
        answer = result.refusal ? as_lambda_error(*result.refusal)
                                : configuration_response(result.version->spec, call.context.services.config, true);
    } else {
        answer = co_await update_settings(call, latest, changes);
    }
    co_return answer;
}

HttpResponseParts list_functions(LambdaCall& call) {
    std::optional<HttpResponseParts> refusal;
    const auto page = page_of(call.request, &refusal);
    if (!page) return std::move(*refusal);
    const auto functions = call.context.services.registry.list_latest();
    const Config& config = call.context.services.config;
    return page_response(functions, *page, "Functions",
                         [&](const FunctionVersionPtr& v) { return function_configuration(v->spec, config, true); });
}

HttpResponseParts list_versions(LambdaCall& call, const FunctionVersionPtr& latest) {
    std::optional<HttpResponseParts> refusal;
    const auto page = page_of(call.request, &refusal);
    if (!page) return std::move(*refusal);
    Registry& registry = call.context.services.registry;
    std::vector<std::pair<FunctionVersionPtr, bool>> versions = {{latest, true}};
    for (const uint32_t number : registry.versions(latest->spec.name)) {
        if (auto version = registry.find(latest->spec.name, number)) versions.emplace_back(std::move(version), false);
    }
    const Config& config = call.context.services.config;
    return page_response(versions, *page, "Versions", [&](const auto& entry) {
        return function_configuration(entry.first->spec, config, entry.second);
    });
}

boost::asio::awaitable<HttpResponseParts> put_concurrency(LambdaCall& call, const FunctionVersionPtr& latest,
                                                          bool remove) {
    std::string reserved = std::to_string(call.context.services.config.defaults.max_concurrency);
    if (!remove) {
        std::optional<HttpResponseParts> refusal;
        const auto body = json_body(call.request, &refusal);
        if (!body) co_return std::move(*refusal);
        const auto value = body->find("ReservedConcurrentExecutions");
        if (value == body->end() || !value->is_number_unsigned() || value->get<uint64_t>() == 0) {
            co_return invalid_parameter("ReservedConcurrentExecutions must be a whole number from 1 (sofaas has no "
                                        "way to stop a function but deleting it)");
        }
        reserved = std::to_string(value->get<uint64_t>());
    }
    const std::vector<std::pair<std::string, std::string>> change = {{"max_concurrency", reserved}};
    HttpResponseParts published = co_await update_settings(call, latest, change);
    if (published.status != 200) co_return published;
    if (remove) co_return HttpResponseParts{204, {}, {}};
    co_return json_response(200, json{{"ReservedConcurrentExecutions", std::stoul(reserved)}}.dump());
}

// AWS's words for a refused Invoke, naming who asked and what.
std::string not_authorized_to_invoke(const LambdaCall& call, const FunctionReference& reference) {
    std::string resource = function_arn(call.context.services.config, reference.name);
    if (!reference.qualifier.empty()) resource += ":" + reference.qualifier;
    if (call.caller.kind != CallerKind::session) return "This key may not invoke " + resource;
    const Session& session = *call.caller.session;
    return fmt::format("User: arn:aws:sts::{}:assumed-role/{}/{} is not authorized to perform: "
                       "lambda:InvokeFunction on resource: {} because role {} grants no such invocation",
                       call.context.services.config.account_id, session.role, session.session_name, resource,
                       session.role);
}

}  // namespace

boost::asio::awaitable<HttpResponseParts> route_lambda_operation(LambdaCall& call) {
    const std::vector<std::string>& path = call.path;
    const std::string& method = call.request.method;
    HandlerContext& context = call.context;
    const auto unsupported = [&] {
        return lambda_error(404, "UnknownOperationException",
                            fmt::format("sofaas has no Lambda operation {} {}", method, call.request.path()));
    };
    // path[0] is the API version, path[1] "functions".
    if (path.size() < 2) co_return unsupported();
    if (path.size() == 2) {
        if (!call.caller.is_admin()) co_return lambda_error(403, "AccessDeniedException", std::string(call.caller.what_the_key_may_do()));
        if (method == "GET" && path[0] == "2015-03-31") co_return list_functions(call);
        if (method == "POST" && path[0] == "2015-03-31") {
            HttpResponseParts created = co_await create_function(call);
            co_return created;
        }
        co_return unsupported();
    }
    std::string why;
    auto reference = parse_function_reference(path[2], context.services.config, &why);
    if (!reference) co_return lambda_error(why.starts_with("Function not found") ? 404 : 400,
                                           why.starts_with("Function not found") ? "ResourceNotFoundException"
                                                                                 : "InvalidParameterValueException",
                                           why);
    const QueryParams params = parse_query(call.request.query());
    if (const auto qualifier = find_param(params, "Qualifier")) {
        if (!reference->qualifier.empty() && reference->qualifier != *qualifier) {
            co_return invalid_parameter("The derived qualifier from the function name does not match the specified qualifier.");
        }
        reference->qualifier = *qualifier;
    }
    const std::string operation = path.size() > 3 ? path[3] : "";
    if (operation == "invocations" && path.size() == 4 && path[0] == "2015-03-31") {
        if (method != "POST") co_return unsupported();
        if (!call.caller.may_invoke(reference->name, reference->qualifier)) {
            co_return lambda_error(403, "AccessDeniedException", not_authorized_to_invoke(call, *reference));
        }
        HttpResponseParts invoked = co_await lambda_invoke(context, call.request, call.caller, *reference);
        co_return invoked;
    }
    if (!call.caller.is_admin()) co_return lambda_error(403, "AccessDeniedException", std::string(call.caller.what_the_key_may_do()));
    const FunctionVersionPtr latest = context.services.registry.latest(reference->name);
    if (!latest) co_return function_not_found(context, reference->name);
    if (operation == "aliases") {
        HttpResponseParts answer = co_await lambda_alias_operation(call, latest);
        co_return answer;
    }

    if (path[0] == "2017-10-31" || path[0] == "2019-09-30") {
        if (operation != "concurrency" || path.size() != 4) co_return unsupported();
        if (method == "GET" && path[0] == "2019-09-30") {
            co_return json_response(200, json{{"ReservedConcurrentExecutions", latest->spec.max_concurrency}}.dump());
        }
        if (path[0] != "2017-10-31" || (method != "PUT" && method != "DELETE")) co_return unsupported();
        HttpResponseParts answer = co_await put_concurrency(call, latest, method == "DELETE");
        co_return answer;
    }
    if (path.size() == 3) {
        if (method == "DELETE") {
            if (!reference->qualifier.empty()) {
                co_return invalid_parameter("sofaas deletes a function with all its versions: no Qualifier");
            }
            DeleteResult deleted;
            co_await run_blocking(context.disk_work,
                                  [&] { deleted = remove_function(context, call.request.request_id, reference->name); });
            if (deleted.refusal) co_return as_lambda_error(*deleted.refusal);
            co_return HttpResponseParts{204, {}, {}};
        }
        if (method != "GET") co_return unsupported();
        std::optional<HttpResponseParts> refusal;
        const FunctionVersionPtr version = resolve_function(context, *reference, &refusal);
        if (!version) co_return std::move(*refusal);
        const bool as_latest = reference->qualifier.empty() || reference->qualifier == "$LATEST";
        json body = {{"Configuration", json::parse(function_configuration(version->spec, context.services.config, as_latest))},
                     {"Code", {{"RepositoryType", "S3"}, {"Location", ""}}},
                     {"Concurrency", {{"ReservedConcurrentExecutions", version->spec.max_concurrency}}}};
        co_return json_response(200, body.dump(-1, ' ', false, json::error_handler_t::replace));
    }
    if (path.size() != 4) co_return unsupported();
    if (operation == "configuration") {
        if (method == "GET") {
            std::optional<HttpResponseParts> refusal;
            const FunctionVersionPtr version = resolve_function(context, *reference, &refusal);
            if (!version) co_return std::move(*refusal);
            co_return configuration_response(version->spec, context.services.config,
                                             reference->qualifier.empty() || reference->qualifier == "$LATEST");
        }
        if (method != "PUT") co_return unsupported();
        HttpResponseParts answer = co_await update_function(call, latest, false);
        co_return answer;
    }
    if (operation == "code" && method == "PUT") {
        HttpResponseParts answer = co_await update_function(call, latest, true);
        co_return answer;
    }
    if (operation == "versions") {
        if (method == "GET") co_return list_versions(call, latest);
        if (method != "POST") co_return unsupported();
        // Every deploy and update publishes a version already: PublishVersion names the latest.
        std::optional<HttpResponseParts> refusal;
        const auto body = json_body(call.request, &refusal);
        if (!body) co_return std::move(*refusal);
        const std::string expected = body->value("CodeSha256", "");
        const json configuration = json::parse(function_configuration(latest->spec, context.services.config, false));
        if (!expected.empty() && expected != configuration["CodeSha256"]) {
            co_return lambda_error(412, "PreconditionFailedException",
                                   "CodeSha256 " + expected + " is not the latest code's");
        }
        co_return json_response(201, configuration.dump(-1, ' ', false, json::error_handler_t::replace));
    }
    co_return unsupported();
}

}  // namespace sofaas
