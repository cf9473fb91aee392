// Routing of the Lambda API, who may call what, and what every operation shares: errors,
// function references, the configuration of a version.
#include "gateway/lambda_api.h"

#include <algorithm>
#include <charconv>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "common/function_spec.h"
#include "gateway/auth.h"
#include "gateway/base64.h"
#include "gateway/lambda_operations.h"
#include "gateway/query_string.h"
#include "gateway/responses.h"
#include "registry/registry.h"

namespace sofaas {
namespace {

using nlohmann::ordered_json;

constexpr std::string_view api_2015 = "/2015-03-31/functions";
constexpr std::string_view api_2017 = "/2017-10-31/functions";
constexpr std::string_view api_2019 = "/2019-09-30/functions";

std::vector<std::string> decoded_segments(std::string_view path) {
    std::vector<std::string> segments;
    for (const std::string_view segment : path_segments(path)) segments.push_back(percent_decode(segment, false));
    return segments;
}

// "2026-12-06T08:30:00.123456Z" -> Lambda's "2026-12-06T08:30:00.123+0000".
std::string lambda_timestamp(const std::string& rfc3339) {
    if (rfc3339.size() < 23) return rfc3339;
    return rfc3339.substr(0, 23) + "+0000";
}

std::string hex_to_base64(std::string_view hex) {
    std::string bytes;
    for (size_t i = 0; i + 1 < hex.size(); i += 2) {
        unsigned value = 0;
        std::from_chars(hex.data() + i, hex.data() + i + 2, value, 16);
        bytes += static_cast<char>(value);
    }
    return base64_encode(bytes);
}


}  // namespace

bool is_lambda_api_path(std::string_view path) {
    for (const std::string_view prefix : {api_2015, api_2017, api_2019}) {
        if (path.starts_with(prefix) && (path.size() == prefix.size() || path[prefix.size()] == '/')) return true;
    }
    return false;
}

HttpResponseParts lambda_error(int status, std::string_view type, std::string_view message) {
    ordered_json body = {{"Type", status >= 500 ? "Service" : "User"}, {"message", message}};
    HttpResponseParts response = json_response(status, body.dump(-1, ' ', false, ordered_json::error_handler_t::replace));
    response.headers.emplace_back("x-amzn-ErrorType", std::string(type));
    if (status == 429 || status == 503) response.headers.emplace_back("Retry-After", "1");
    return response;
}

HttpResponseParts as_lambda_error(const HttpResponseParts& control_api_error) {
    const auto body = ordered_json::parse(control_api_error.body, nullptr, /*allow_exceptions=*/false);
    std::string type = "ServiceException";
    std::string message = control_api_error.body;
    if (body.is_object()) {
        type = body.value("errorType", type);
        message = body.value("errorMessage", message);
    }
    // The control API's own names for a library that does not load and a malformed request.
    if (type == "InvalidLibraryException" || type == "BadRequestException") type = "InvalidParameterValueException";
    return lambda_error(control_api_error.status, type, message);
}

std::optional<FunctionReference> parse_function_reference(std::string_view text, const Config& config,
                                                          std::string* why) {
    std::vector<std::string_view> parts;
    for (size_t begin = 0;;) {
        const size_t colon = text.find(':', begin);
        parts.push_back(text.substr(begin, colon == std::string_view::npos ? std::string_view::npos : colon - begin));
        if (colon == std::string_view::npos) break;
        begin = colon + 1;
    }
    // arn:aws:lambda:REGION:ACCOUNT:function:NAME[:Q] -> ACCOUNT:function:NAME[:Q] -> NAME[:Q]
    std::string_view region = config.region;
    if (parts.size() >= 7 && parts[0] == "arn") {
        if (parts[1] != "aws" || parts[2] != "lambda") {
            *why = "Not a Lambda function ARN: " + std::string(text);
            return std::nullopt;
        }
        region = parts[3];
        parts.erase(parts.begin(), parts.begin() + 4);
    }
    if (parts.size() >= 3 && parts[1] == "function") {
        if (parts[0] != config.account_id || region != config.region) {
            *why = fmt::format("Function not found: {} (this is account {} in {})", text, config.account_id,
                               config.region);
            return std::nullopt;
        }
        parts.erase(parts.begin(), parts.begin() + 2);
    }
    if (parts.empty() || parts.size() > 2 || !is_valid_function_name(parts[0]) ||
        (parts.size() == 2 && parts[1].empty())) {
        *why = "Invalid function name: " + std::string(text) +
               " (a name, NAME:QUALIFIER, or arn:aws:lambda:REGION:ACCOUNT:function:NAME[:QUALIFIER])";
        return std::nullopt;
    }
    return FunctionReference{std::string(parts[0]), parts.size() == 2 ? std::string(parts[1]) : std::string()};
}

FunctionVersionPtr resolve_function(HandlerContext& context, const FunctionReference& reference,
                                    std::optional<HttpResponseParts>* refusal) {
    const ResolvedVersion resolved = context.services.registry.resolve(reference.name, reference.qualifier);
    if (resolved.failure == ResolveFailure::bad_qualifier) {
        *refusal = lambda_error(400, "InvalidParameterValueException",
                                "Qualifier must be $LATEST, a version number or an alias name");
    } else if (!resolved.version) {
        const std::string arn = function_arn(context.services.config, reference.name);
        const std::string target = reference.qualifier.empty() ? arn : arn + ":" + reference.qualifier;
        *refusal = lambda_error(404, "ResourceNotFoundException", "Function not found: " + target);
    }
    return resolved.version;
}

std::string function_configuration(const FunctionSpec& spec, const Config& config, bool as_latest) {
    ordered_json variables = ordered_json::object();
    for (const auto& [key, value] : spec.env) variables[key] = value;
    const std::string version = as_latest ? "$LATEST" : std::to_string(spec.version);
    const std::string arn = function_arn(config, spec.name);
    ordered_json configuration = {
        {"FunctionName", spec.name},
        {"FunctionArn", as_latest ? arn : arn + ":" + version},
        {"Runtime", lambda_runtime},
        {"Role", "arn:aws:iam::" + config.account_id + ":role/sofaas-function"},
        {"Handler", std::string(library_file_name) + ":" + spec.handler},
        {"CodeSize", spec.size_bytes},
        {"Description", ""},
        {"Timeout", spec.timeout_s},
        {"MemorySize", spec.memory_mb},
        {"LastModified", lambda_timestamp(spec.created_at)},
        {"CodeSha256", hex_to_base64(spec.sha256)},
        {"Version", version},
        {"Environment", {{"Variables", std::move(variables)}}},
        {"TracingConfig", {{"Mode", "PassThrough"}}},
        {"RevisionId", spec.sha256.substr(0, 8) + "-" + std::to_string(spec.version)},
        {"State", "Active"},
        {"LastUpdateStatus", "Successful"},
        {"PackageType", "Zip"},
        {"Architectures", {"x86_64"}},
        {"EphemeralStorage", {{"Size", spec.ephemeral_storage_mb}}},
    };
    return configuration.dump(-1, ' ', false, ordered_json::error_handler_t::replace);
}

boost::asio::awaitable<HttpResponseParts> handle_lambda_api(HandlerContext& context, const IncomingRequest& request) {
    const Caller caller = identify_caller(request, trusted_credentials(context.services));
    if (caller.signature_failure) {
        co_return lambda_error(caller.signature_failure->http_status(), caller.signature_failure->error_type(),
                               caller.signature_failure->message);
    }
    if (!caller.known()) {
        co_return lambda_error(403, "MissingAuthenticationTokenException",
                               "Missing Authentication Token: sign the request with an API key (sofaas keys create) "
                               "as AWS Signature Version 4");
    }
    const std::vector<std::string> path = decoded_segments(request.path());
    LambdaCall call{context, request, caller, path};
    HttpResponseParts response = co_await route_lambda_operation(call);
    co_return response;
}

}  // namespace sofaas
