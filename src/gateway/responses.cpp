#include "gateway/responses.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "common/number_text.h"
#include "registry/registry.h"

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

int http_status(InvocationStatus status) {
    // Lambda's conventions: the function's own failure is a bad gateway (502), running out
    // of time is a gateway timeout (504), overload asks the client to retry later (429),
    // the host's own fault is the service's error (500), never a 502: nothing is wrong with
    // the function, and nothing it can change fixes it; billing that cannot be recorded
    // makes the service unavailable (503) until it can.
    switch (status) {
        case InvocationStatus::host_fault: return 500;
        case InvocationStatus::timeout: return 504;
        case InvocationStatus::throttled: return 429;
        case InvocationStatus::unavailable: return 503;
        case InvocationStatus::ok:
        case InvocationStatus::error:
        case InvocationStatus::crash:
        case InvocationStatus::oom: break;
    }
    return 502;
}

HttpResponseParts invocation_error(const InvocationReport& report) {
    const InvocationError error = error_of(report);
    HttpResponseParts response = error_response(http_status(report.status), error.error_type, error.error_message);
    response.headers.emplace_back("X-Sofaas-Function-Error", error.error_type);
    add_retry_after(response);
    return response;
}

HttpResponseParts generic_invocation_error(const InvocationReport& report) {
    const int status = http_status(report.status);
    HttpResponseParts response;
    switch (report.status) {
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

void add_invocation_headers(HttpResponseParts& response, const InvocationReport& report) {
    response.headers.reserve(response.headers.size() + invocation_header_count);
    response.headers.emplace_back("X-Sofaas-Version", std::to_string(report.version));
    response.headers.emplace_back("X-Sofaas-Status", std::string(to_string(report.status)));
    response.headers.emplace_back("X-Sofaas-Duration-Ms", format_fixed(report.duration_ms, 2));
    response.headers.emplace_back("X-Sofaas-Billed-Ms", std::to_string(report.billed_ms));
    if (report.init_ms) response.headers.emplace_back("X-Sofaas-Init-Ms", format_fixed(*report.init_ms, 2));
}

HttpResponseParts unresolved_qualifier(ResolveFailure failure, std::string_view function,
                                       std::string_view qualifier) {
    switch (failure) {
        case ResolveFailure::bad_qualifier:
            // Not echoed, as a bad function name is not.
            return bad_request(fmt::format("Invalid qualifier ({} bytes): $LATEST, a version number or an alias "
                                           "name (1 to 128 characters of A-Z, a-z, 0-9, _ and -)",
                                           qualifier.size()));
        case ResolveFailure::no_version:
            return not_found(fmt::format("Function not found: {} version {}", function, qualifier));
        case ResolveFailure::no_alias:
            return not_found(fmt::format("Function not found: {} alias {}", function, qualifier));
        case ResolveFailure::no_function:
        case ResolveFailure::none: break;
    }
    return not_found(fmt::format("Function not found: {}", function));
}

HttpResponseParts registry_error(const RegistryError& error) {
    switch (error.kind()) {
        case RegistryError::Kind::invalid: return bad_request(error.what());
        case RegistryError::Kind::conflict: return conflict(error.what());
        case RegistryError::Kind::not_found: return not_found(error.what());
        case RegistryError::Kind::unavailable: return service_unavailable(error.what());
        case RegistryError::Kind::storage: break;
    }
    return error_response(500, "ServiceException", error.what());
}

HttpResponseParts service_unavailable(std::string_view message) {
    HttpResponseParts response = error_response(503, unavailable_error_type, message);
    add_retry_after(response);
    return response;
}

HttpResponseParts too_many_requests(std::string_view message) {
    HttpResponseParts response = error_response(429, "TooManyRequestsException", message);
    response.headers.emplace_back("Retry-After", "1");
    return response;
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

HttpResponseParts unauthorized() { return unauthorized("Missing or invalid Authorization: Bearer token."); }

HttpResponseParts unauthorized(std::string_view message) {
    return error_response(401, "UnauthorizedException", message);
}

HttpResponseParts forbidden(std::string_view message) {
    return error_response(403, "AccessDeniedException", message);
}

HttpResponseParts not_found(std::string_view message) {
    return error_response(404, "ResourceNotFoundException", message);
}

HttpResponseParts conflict(std::string_view message) {
    return error_response(409, "ResourceConflictException", message);
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
