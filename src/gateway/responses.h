// Every response the gateway itself writes, named: the one place an HTTP status meets its
// Lambda errorType. Bodies of errors are {"errorType","errorMessage"}.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "common/invocation_report.h"
#include "gateway/http_event.h"

namespace sofaas {

class RegistryError;
enum class ResolveFailure;

std::string error_json(std::string_view error_type, std::string_view error_message);

HttpResponseParts json_response(int status, std::string json);
HttpResponseParts error_response(int status, std::string_view error_type,
                                 std::string_view error_message);
// The HTTP status of an invocation that did not succeed, by its outcome: the function's
// failure 502, a timeout 504, overload 429, the host's fault 500, billing that cannot be
// recorded 503.
int http_status(InvocationStatus status);
// A failed invocation: its status, its errorType and errorMessage (error_of, in
// common/invocation_report.h) as the body, and X-Sofaas-Function-Error; a 503 carries
// Retry-After: 1.
HttpResponseParts invocation_error(const InvocationReport& report);
// The same failure told to an anonymous caller of a function endpoint, as API Gateway tells
// it: the same status, {"message": "Internal Server Error"} ("Endpoint request timed out"
// for 504, "Too Many Requests" for 429, "Service Unavailable" and Retry-After for 503),
// nothing of the function or of the platform.
HttpResponseParts generic_invocation_error(const InvocationReport& report);
// What Lambda's REPORT line says, as X-Sofaas-Version/-Status/-Duration-Ms/-Billed-Ms
// (and -Init-Ms on a cold start): at most invocation_header_count headers.
inline constexpr size_t invocation_header_count = 5;
void add_invocation_headers(HttpResponseParts& response, const InvocationReport& report);
// The registry's refusal, by its kind: invalid 400, conflict 409, not_found 404, storage 500.
HttpResponseParts registry_error(const RegistryError& error);
// Why a qualifier (?qualifier=, ?version=, /fn/NAME:QUALIFIER) names no version: 400 for
// one that cannot name any, else 404 saying which of function, version or alias is missing.
HttpResponseParts unresolved_qualifier(ResolveFailure failure, std::string_view function,
                                       std::string_view qualifier);

HttpResponseParts bad_request(std::string_view message);
// 503 ServiceUnavailableException with Retry-After: 1 (the billing ledger cannot record).
HttpResponseParts service_unavailable(std::string_view message);          // 400 InvalidParameterValueException
HttpResponseParts invalid_function_name(std::string_view name);  // 400 InvalidParameterValueException
HttpResponseParts malformed_request(std::string_view message);    // 400 BadRequestException
HttpResponseParts invalid_library(std::string_view message);      // 400 InvalidLibraryException
HttpResponseParts unauthorized();                                 // 401 UnauthorizedException
HttpResponseParts unauthorized(std::string_view message);         // 401 UnauthorizedException
HttpResponseParts forbidden(std::string_view message);            // 403 AccessDeniedException
HttpResponseParts not_found(std::string_view message);            // 404 ResourceNotFoundException
HttpResponseParts too_many_requests(std::string_view message);  // 429 TooManyRequestsException, Retry-After: 1
HttpResponseParts conflict(std::string_view message);             // 409 ResourceConflictException
HttpResponseParts method_not_allowed(std::string_view method, std::string_view path);  // 405
HttpResponseParts payload_too_large(size_t limit_bytes);          // 413 RequestTooLargeException
HttpResponseParts header_too_large(size_t limit_bytes);           // 431 RequestHeaderFieldsTooLargeException
HttpResponseParts internal_error();                               // 500 ServiceException
HttpResponseParts host_fault(std::string_view message);           // 500 ServiceException

}  // namespace sofaas
