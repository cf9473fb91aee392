// The STS endpoint's protocol: AWS's query protocol (API version 2011-06-15), as botocore's
// and the JavaScript SDK's STS clients speak it. Parameters come form-encoded in a POST
// body (what the SDKs send) or in the query string (GET); answers are XML, errors STS's
// ErrorResponse with its codes and statuses. Only AssumeRoleWithWebIdentity is offered.
#pragma once

#include <string>
#include <string_view>
#include <variant>

#include "gateway/http_event.h"
#include "gateway/http_message.h"
#include "gateway/query_string.h"
#include "sts/assume_role.h"

namespace sofaas {

inline constexpr std::string_view sts_api_version = "2011-06-15";

enum class StsErrorCode {
    validation_error,         // 400 ValidationError: a parameter breaks its constraints
    missing_parameter,        // 400 MissingParameter: a required parameter is absent
    invalid_parameter_value,  // 400 InvalidParameterValue: a parameter of the wrong form (Version, DurationSeconds)
    invalid_action,           // 400 InvalidAction: an action this endpoint does not offer
    invalid_identity_token,   // 400 InvalidIdentityToken
    expired_token,            // 400 ExpiredTokenException: the identity token has expired
    access_denied,            // 403 AccessDenied
    service_unavailable,      // 503 ServiceUnavailable: the session could not be stored
};

struct StsFailure {
    StsErrorCode code;
    std::string message;

    std::string_view code_name() const;
    int http_status() const;
};

StsFailure sts_failure(const StsError& error);

// The request's parameters: its query, then, for a POST, its form-encoded body.
QueryParams sts_parameters(const IncomingRequest& request);

// Action=AssumeRoleWithWebIdentity&Version=2011-06-15&RoleArn=...&RoleSessionName=...&
// WebIdentityToken=...[&DurationSeconds=N] read into a request, or why not.
std::variant<AssumeRoleRequest, StsFailure> parse_assume_role_request(const QueryParams& params);

// AssumeRoleWithWebIdentityResponse, as the SDKs parse it (Expiration in whole seconds, UTC).
std::string assumed_role_xml(const AssumedRole& assumed, std::string_view request_id);
// ErrorResponse/Error{Type, Code, Message} and RequestId, with the code's status.
HttpResponseParts sts_error(const StsFailure& failure, std::string_view request_id);

// Text made safe for an XML element: markup escaped, characters XML 1.0 cannot hold replaced.
std::string xml_text(std::string_view text);

}  // namespace sofaas
