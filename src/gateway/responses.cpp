#include "gateway/responses.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "common/number_text.h"

namespace sofaas {

std::string error_json(std::string_view error_type, std::string_view error_message) {
    nlohmann::ordered_json body;
    body["errorType"] = error_type;
    body["errorMessage"] = error_message;
    // Messages may quote bytes from a broken library or request: never let them throw.
    return body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

HttpResponseParts json_response(int status, std::string json) {
    HttpResponseParts response;
    response.status = status;
    response.headers.emplace_back("Content-Type", "application/json");
    response.body = std::move(json);
    return response;
}

HttpResponseParts error_response(int status, std::string_view error_type,
                                 std::string_view error_message) {
    return json_response(status, error_json(error_type, error_message));
}

namespace {

// A 503 is the billing ledger unable to record (scheduler.h): it passes within a second
// or so of the disk having room again.
void add_retry_after(HttpResponseParts& response) {
    if (response.status == 503) response.headers.emplace_back("Retry-After", "1");
}

}  // namespace

HttpResponseParts invocation_error(const ErrorResponse& error) {
    HttpResponseParts response = error_response(error.http_status, error.error_type, error.error_message);
    response.headers.emplace_back("X-Sofaas-Function-Error", error.error_type);
    add_retry_after(response);
    return response;
}

HttpResponseParts generic_invocation_error(const InvocationResult& result) {
    const int status = result.error_response().http_status;
    HttpResponseParts response;
    switch (result.status) {
        case InvocationStatus::timeout:
            response = json_response(status, R"({"message":"Endpoint request timed out"})");
            break;
        case InvocationStatus::throttled: response = json_response(status, R"({"message":"Too Many Requests"})"); break;
        case InvocationStatus::unavailable: response = json_response(status, R"({"message":"Service Unavailable"})"); break;
        default: response = json_response(status, R"({"message":"Internal Server Error"})"); break;
    }
    add_retry_after(response);
    return response;
}

void add_invocation_headers(HttpResponseParts& response, const InvocationResult& result) {
    response.headers.reserve(response.headers.size() + invocation_header_count);
    response.headers.emplace_back("X-Sofaas-Version", std::to_string(result.version));
    response.headers.emplace_back("X-Sofaas-Status", std::string(to_string(result.status)));
    response.headers.emplace_back("X-Sofaas-Duration-Ms", format_fixed(result.duration_ms, 2));
    response.headers.emplace_back("X-Sofaas-Billed-Ms", std::to_string(result.billed_ms));
    if (result.init_ms) response.headers.emplace_back("X-Sofaas-Init-Ms", format_fixed(*result.init_ms, 2));
}

HttpResponseParts status_error(int status, std::string_view error_message) {
    switch (status) {
        case 400: return bad_request(error_message);
        case 404: return not_found(error_message);
        case 409: return error_response(409, "ResourceConflictException", error_message);
        case 413: return error_response(413, "RequestTooLargeException", error_message);
        default: break;
    }
    if (status >= 400 && status < 500) return error_response(status, "InvalidRequestException", error_message);
    return error_response(status >= 500 && status <= 599 ? status : 500, "ServiceException", error_message);
}

HttpResponseParts bad_request(std::string_view message) {
    return error_response(400, "InvalidParameterValueException", message);
}

HttpResponseParts invalid_function_name(std::string_view name) {
    // The name is not echoed: it may hold anything, NUL and path tricks included.
    return bad_request(fmt::format("Invalid function name ({} bytes): names are 1 to 64 characters "
                                   "of A-Z, a-z, 0-9, _ and -.", name.size()));
}

HttpResponseParts malformed_request(std::string_view message) {
    return error_response(400, "BadRequestException", message);
}

HttpResponseParts invalid_library(std::string_view message) {
    return error_response(400, "InvalidLibraryException", message);
}

HttpResponseParts unauthorized() {
    return error_response(401, "UnauthorizedException",
                          "Missing or invalid Authorization: Bearer token.");
}

HttpResponseParts forbidden(std::string_view message) {
    return error_response(403, "AccessDeniedException", message);
}

HttpResponseParts not_found(std::string_view message) {
    return error_response(404, "ResourceNotFoundException", message);
}

HttpResponseParts method_not_allowed(std::string_view method, std::string_view path) {
    return error_response(405, "MethodNotAllowedException",
                          fmt::format("{} is not supported on {}", method, path));
}

HttpResponseParts payload_too_large(size_t limit_bytes) {
    return error_response(413, "RequestTooLargeException",
                          fmt::format("Request must be smaller than {} bytes.", limit_bytes));
}

HttpResponseParts header_too_large(size_t limit_bytes) {
    return error_response(431, "RequestHeaderFieldsTooLargeException",
                          fmt::format("Request headers must be smaller than {} bytes.", limit_bytes));
}

HttpResponseParts host_fault(std::string_view message) {
    return error_response(500, host_fault_error_type, message);
}

HttpResponseParts internal_error() {
    return error_response(500, "ServiceException",
                          "The service encountered an internal error; see the daemon log.");
}

}  // namespace sofaas
