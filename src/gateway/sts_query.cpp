#include "gateway/sts_query.h"

#include <chrono>

#include "gateway/responses.h"

namespace sofaas {
namespace {

constexpr std::string_view sts_namespace = "https://sts.amazonaws.com/doc/2011-06-15/";
constexpr size_t max_identity_token_chars = 20000;  // STS's own limit (clientTokenType)
constexpr size_t max_role_arn_chars = 2048;

// "2026-12-06T08:30:00Z": what STS writes, without the fraction.
std::string sts_timestamp(WallTime time) {
    const auto seconds = std::chrono::floor<std::chrono::seconds>(time);
    return format_rfc3339(WallTime(seconds)).substr(0, 19) + "Z";
}

void element(std::string& out, std::string_view name, std::string_view text) {
    out.append("<").append(name).append(">").append(xml_text(text)).append("</").append(name).append(">");
}

}  // namespace

std::string_view StsFailure::code_name() const {
    switch (code) {
        case StsErrorCode::validation_error: return "ValidationError";
        case StsErrorCode::missing_parameter: return "MissingParameter";
        case StsErrorCode::invalid_parameter_value: return "InvalidParameterValue";
        case StsErrorCode::invalid_action: return "InvalidAction";
        case StsErrorCode::invalid_identity_token: return "InvalidIdentityToken";
        case StsErrorCode::expired_token: return "ExpiredTokenException";
        case StsErrorCode::access_denied: return "AccessDenied";
        case StsErrorCode::service_unavailable: return "ServiceUnavailable";
    }
    return "ServiceUnavailable";
}

int StsFailure::http_status() const {
    switch (code) {
        case StsErrorCode::access_denied: return 403;
        case StsErrorCode::service_unavailable: return 503;
        default: return 400;
    }
}

StsFailure sts_failure(const StsError& error) {
    switch (error.kind) {
        case StsErrorKind::validation: return {StsErrorCode::validation_error, error.message};
        case StsErrorKind::invalid_identity_token: return {StsErrorCode::invalid_identity_token, error.message};
        case StsErrorKind::expired_token: return {StsErrorCode::expired_token, error.message};
        case StsErrorKind::access_denied: return {StsErrorCode::access_denied, error.message};
    }
    return {StsErrorCode::access_denied, error.message};
}

QueryParams sts_parameters(const IncomingRequest& request) {
    QueryParams params = parse_query(request.query());
    if (request.method == "POST") {
        QueryParams form = parse_query(request.body);
        params.insert(params.end(), std::make_move_iterator(form.begin()), std::make_move_iterator(form.end()));
    }
    return params;
}

std::variant<AssumeRoleRequest, StsFailure> parse_assume_role_request(const QueryParams& params) {
    const std::optional<std::string> action = find_param(params, "Action");
    if (!action) return StsFailure{StsErrorCode::missing_parameter, "The request must contain the parameter Action"};
    if (*action != "AssumeRoleWithWebIdentity") {
        // Not echoed: a caller's text in an error is a reflection waiting to happen.
        return StsFailure{StsErrorCode::invalid_action,
                          "This endpoint offers one action of STS: AssumeRoleWithWebIdentity"};
    }
    const std::optional<std::string> version = find_param(params, "Version");
    if (version && *version != sts_api_version) {
        return StsFailure{StsErrorCode::invalid_parameter_value, "Version must be 2011-06-15"};
    }
    AssumeRoleRequest request;
    for (auto [name, into] : {std::pair{"RoleArn", &request.role_arn}, std::pair{"RoleSessionName", &request.session_name},
                              std::pair{"WebIdentityToken", &request.web_identity_token}}) {
        std::optional<std::string> value = find_param(params, name);
        if (!value || value->empty()) {
            return StsFailure{StsErrorCode::missing_parameter,
                              "The request must contain the parameter " + std::string(name)};
        }
        *into = std::move(*value);
    }
    if (request.web_identity_token.size() < 4 || request.web_identity_token.size() > max_identity_token_chars) {
        return StsFailure{StsErrorCode::validation_error,
                          "1 validation error detected: Value at 'webIdentityToken' failed to satisfy constraint: "
                          "Member must have length between 4 and 20000"};
    }
    if (request.role_arn.size() < 20 || request.role_arn.size() > max_role_arn_chars) {
        return StsFailure{StsErrorCode::validation_error,
                          "1 validation error detected: Value at 'roleArn' failed to satisfy constraint: "
                          "Member must have length between 20 and 2048"};
    }
    if (const std::optional<std::string> duration = find_param(params, "DurationSeconds")) {
        const std::optional<uint32_t> seconds = parse_unsigned(*duration);
        if (!seconds) return StsFailure{StsErrorCode::invalid_parameter_value, "DurationSeconds must be a number of seconds"};
        request.duration = std::chrono::seconds(*seconds);
    }
    return request;
}

std::string xml_text(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (const char c : text) {
        switch (c) {
            case '&': out += "&amp;"; break;
            case '<': out += "&lt;"; break;
            case '>': out += "&gt;"; break;
            case '"': out += "&quot;"; break;
            case '\'': out += "&apos;"; break;
            default:
                // XML 1.0 holds no control character but tab, line feed and carriage return,
                // not even escaped.
                if (static_cast<unsigned char>(c) < 0x20 && c != '\t' && c != '\n' && c != '\r') {
                    out += '?';
                } else {
                    out += c;
                }
        }
    }
    return out;
}

std::string assumed_role_xml(const AssumedRole& assumed, std::string_view request_id) {
    const SessionCredentials& credentials = assumed.credentials;
    std::string out = "<AssumeRoleWithWebIdentityResponse xmlns=\"" + std::string(sts_namespace) + "\">\n";
    out += "<AssumeRoleWithWebIdentityResult>";
    element(out, "SubjectFromWebIdentityToken", credentials.session.user_sub);
    element(out, "Audience", assumed.audience);
    out += "<AssumedRoleUser>";
    element(out, "Arn", assumed.assumed_role_arn);
    element(out, "AssumedRoleId", assumed.assumed_role_id);
    out += "</AssumedRoleUser><Credentials>";
    element(out, "AccessKeyId", credentials.session.access_key_id);
    element(out, "SecretAccessKey", credentials.secret_access_key);
    element(out, "SessionToken", credentials.session_token);
    element(out, "Expiration", sts_timestamp(credentials.session.expires));
    out += "</Credentials>";
    element(out, "Provider", assumed.provider);
    out += "</AssumeRoleWithWebIdentityResult>\n<ResponseMetadata>";
    element(out, "RequestId", request_id);
    out += "</ResponseMetadata>\n</AssumeRoleWithWebIdentityResponse>\n";
    return out;
}

HttpResponseParts sts_error(const StsFailure& failure, std::string_view request_id) {
    std::string body = "<ErrorResponse xmlns=\"" + std::string(sts_namespace) + "\">\n<Error>";
    element(body, "Type", failure.http_status() >= 500 ? "Receiver" : "Sender");
    element(body, "Code", failure.code_name());
    element(body, "Message", failure.message);
    body += "</Error>\n";
    element(body, "RequestId", request_id);
    body += "\n</ErrorResponse>\n";
    HttpResponseParts response{failure.http_status(), {}, std::move(body)};
    response.headers.emplace_back("Content-Type", "text/xml");
    if (failure.code == StsErrorCode::service_unavailable) response.headers.emplace_back("Retry-After", "1");
    return response;
}

}  // namespace sofaas
