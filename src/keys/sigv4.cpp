#include "keys/sigv4.h"

#include <algorithm>
#include <variant>
#include <vector>

#include "common/sha256.h"
#include "keys/sigv4_canonical.h"

namespace sofaas {
namespace {

using sigv4::AuthorizationHeader;

constexpr std::string_view unsigned_payload = "UNSIGNED-PAYLOAD";

bool iequal(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               const auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
               return lower(x) == lower(y);
           });
}

std::vector<std::string_view> header_values(const SignedRequest& request, std::string_view name) {
    std::vector<std::string_view> values;
    for (const auto& [header_name, value] : request.headers)
        if (iequal(header_name, name)) values.emplace_back(value);
    return values;
}

std::optional<std::string_view> first_header(const SignedRequest& request, std::string_view name) {
    for (const auto& [header_name, value] : request.headers)
        if (iequal(header_name, name)) return value;
    return std::nullopt;
}

bool signs(const AuthorizationHeader& header, std::string_view name) {
    return std::find(header.signed_header_names.begin(), header.signed_header_names.end(), name) !=
           header.signed_header_names.end();
}

SigV4Verdict refuse(SigV4FailureKind kind, std::string message) {
    return {std::nullopt, SigV4Failure{kind, std::move(message)}, std::nullopt};
}

std::string_view invalid_token_message() { return "The security token included in the request is invalid."; }

// The credential scope's region and service: checked before any key is looked up.
std::optional<SigV4Failure> scope_failure(const AuthorizationHeader& header, std::string_view region,
                                          std::string_view service) {
    if (header.region != region) {
        return SigV4Failure{SigV4FailureKind::wrong_region, "Credential should be scoped to a valid region, not '" +
                                                                std::string(header.region) +
                                                                "'. This endpoint's region is '" + std::string(region) +
                                                                "'."};
    }
    if (header.service != service) {
        return SigV4Failure{SigV4FailureKind::wrong_service, "Credential should be scoped to correct service: '" +
                                                                 std::string(service) + "', not '" +
                                                                 std::string(header.service) + "'."};
    }
    return std::nullopt;
}

// The signing key: four HMACs that depend only on the secret and the credential's day,
// region and service, so that a client's requests of one day share it. Each thread keeps
// the last one it derived (some AWS SDKs keep theirs so); the secret is compared in
// constant time like any other.
const std::string& signing_key(std::string_view secret, const AuthorizationHeader& header) {
    struct Derived {
        std::string secret, date, region, service, key;
    };
    thread_local Derived last;
    if (!last.key.empty() && secrets_equal(secret, last.secret) && last.date == header.date &&
        last.region == header.region && last.service == header.service) {
        return last.key;
    }
    std::string key = hmac_sha256("AWS4" + std::string(secret), header.date);
    key = hmac_sha256(key, header.region);
    key = hmac_sha256(key, header.service);
    key = hmac_sha256(key, "aws4_request");
    last = Derived{std::string(secret), std::string(header.date), std::string(header.region),
                   std::string(header.service), std::move(key)};
    return last.key;
}

// Who an access key id names, with the secret that signs for it: an API key (which takes
// no session token), or a session whose token the request carries.
struct Signer {
    std::optional<ApiKey> key;
    std::optional<Session> session;
    std::string secret;
};

std::variant<Signer, SigV4Verdict> find_signer(const SigningSecrets& secrets, std::string_view access_key_id,
                                               std::optional<std::string_view> session_token) {
    if (std::optional<CreatedKey> key = secrets.keys.find(access_key_id)) {
        if (session_token) {
            return refuse(SigV4FailureKind::security_token,
                          std::string(invalid_token_message()) +
                              " An API key's signature carries no X-Amz-Security-Token.");
        }
        return Signer{std::move(key->key), std::nullopt, std::move(key->secret_access_key)};
    }
    if (!secrets.sessions) return refuse(SigV4FailureKind::unknown_key, std::string(invalid_token_message()));
    auto found = secrets.sessions->find(access_key_id, session_token.value_or(""));
    if (auto* credentials = std::get_if<SessionCredentials>(&found)) {
        return Signer{std::nullopt, std::move(credentials->session), std::move(credentials->secret_access_key)};
    }
    switch (std::get<SessionRefusal>(found)) {
        case SessionRefusal::unknown: break;
        case SessionRefusal::wrong_token:
            return refuse(SigV4FailureKind::security_token, std::string(invalid_token_message()));
        case SessionRefusal::expired:
            return refuse(SigV4FailureKind::expired_token, "The security token included in the request is expired");
    }
    return refuse(SigV4FailureKind::unknown_key, std::string(invalid_token_message()));
}

std::string signature_of(const AuthorizationHeader& header, std::string_view secret, std::string_view string_to_sign) {
    return lowercase_hex(hmac_sha256(signing_key(secret, header), string_to_sign));
}

// The request time and its text in the string to sign: X-Amz-Date as sent, else the Date
// header in ISO basic format (botocore signs the same instant in both).
struct RequestTime {
    WallTime time;
    std::string amz_date;
};

std::variant<RequestTime, SigV4Verdict> request_time(const SignedRequest& request, const AuthorizationHeader& header) {
    if (const auto amz_date = first_header(request, "x-amz-date")) {
        if (!signs(header, "x-amz-date")) {
            return refuse(SigV4FailureKind::malformed, "'X-Amz-Date' must be a 'SignedHeader' in the AWS Authorization.");
        }
        const auto time = sigv4::parse_amz_date(*amz_date);
        if (!time) return refuse(SigV4FailureKind::malformed, "X-Amz-Date must be in ISO 8601 basic format, like 20261206T083000Z.");
        return RequestTime{*time, std::string(*amz_date)};
    }
    if (const auto date = first_header(request, "date")) {
        if (!signs(header, "date")) {
            return refuse(SigV4FailureKind::malformed, "'Date' must be a 'SignedHeader' in the AWS Authorization.");
        }
        const auto time = sigv4::parse_http_date(*date);
        if (!time) return refuse(SigV4FailureKind::malformed, "The Date header must be an HTTP date, like Sun, 06 Dec 2026 08:30:00 GMT.");
        return RequestTime{*time, sigv4::format_amz_date(*time)};
    }
    return refuse(SigV4FailureKind::malformed,
                  "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.");
}

std::optional<SigV4Failure> outside_skew(const RequestTime& signed_at, WallTime now) {
    if (signed_at.time < now - sigv4_max_clock_skew) {
        return SigV4Failure{SigV4FailureKind::expired,
                            "Signature expired: " + signed_at.amz_date + " is now earlier than " +
                                sigv4::format_amz_date(now - sigv4_max_clock_skew) + " (" + sigv4::format_amz_date(now) +
                                " - 15 min.)"};
    }
    if (signed_at.time > now + sigv4_max_clock_skew) {
        return SigV4Failure{SigV4FailureKind::expired,
                            "Signature not yet current: " + signed_at.amz_date + " is still later than " +
                                sigv4::format_amz_date(now + sigv4_max_clock_skew) + " (" +
                                sigv4::format_amz_date(now) + " + 15 min.)"};
    }
    return std::nullopt;
}

}  // namespace

std::string_view SigV4Failure::error_type() const {
    switch (kind) {
        case SigV4FailureKind::malformed: return "IncompleteSignatureException";
        case SigV4FailureKind::expired_token: return "ExpiredTokenException";
        case SigV4FailureKind::security_token:
        case SigV4FailureKind::unknown_key: return "UnrecognizedClientException";
        case SigV4FailureKind::payload_mismatch: return "XAmzContentSHA256Mismatch";
        case SigV4FailureKind::presigned:
        case SigV4FailureKind::wrong_date:
        case SigV4FailureKind::wrong_region:
        case SigV4FailureKind::wrong_service:
        case SigV4FailureKind::expired:
        case SigV4FailureKind::unsigned_payload:
        case SigV4FailureKind::signature_mismatch: return "InvalidSignatureException";
    }
    return "InvalidSignatureException";
}

int SigV4Failure::http_status() const {
    return kind == SigV4FailureKind::malformed || kind == SigV4FailureKind::payload_mismatch ? 400 : 403;
}

bool is_sigv4_authorization(std::string_view authorization) { return authorization.starts_with("AWS4-"); }

SigV4Verdict sigv4_claimed_signer(std::string_view authorization, const SigningSecrets& secrets,
                                  std::string_view region, std::string_view service) {
    if (!is_sigv4_authorization(authorization)) return {};
    const sigv4::ParsedAuthorization parsed = sigv4::parse_authorization(authorization);
    if (!parsed.header) return refuse(SigV4FailureKind::malformed, parsed.error);
    if (auto failure = scope_failure(*parsed.header, region, service)) {
        return {std::nullopt, std::move(failure), std::nullopt};
    }
    if (std::optional<CreatedKey> found = secrets.keys.find(parsed.header->access_key_id)) {
        return {std::move(found->key), std::nullopt, std::nullopt};
    }
    if (secrets.sessions) {
        if (std::optional<Session> session = secrets.sessions->claimed(parsed.header->access_key_id)) {
            return {std::nullopt, std::nullopt, std::move(session)};
        }
    }
    return refuse(SigV4FailureKind::unknown_key, std::string(invalid_token_message()));
}

SigV4Verdict verify_sigv4(const SignedRequest& request, const SigningSecrets& secrets, WallTime now,
                          std::string_view region, std::string_view service) {
    const std::vector<std::string_view> authorizations = header_values(request, "authorization");
    const bool signed_header = std::any_of(authorizations.begin(), authorizations.end(), is_sigv4_authorization);
    if (!signed_header) {
        // Another scheme in the Authorization header takes precedence over the query.
        if (authorizations.empty() && sigv4::query_parameter(request.query, "X-Amz-Algorithm")) {
            return refuse(SigV4FailureKind::presigned,
                          "Query-string authentication (presigned URLs) is not accepted: sign the Authorization header.");
        }
        return {};
    }
    if (authorizations.size() != 1) {
        return refuse(SigV4FailureKind::malformed, "A signed request carries exactly one Authorization header.");
    }
    const sigv4::ParsedAuthorization parsed = sigv4::parse_authorization(authorizations.front());
    if (!parsed.header) return refuse(SigV4FailureKind::malformed, parsed.error);
    const AuthorizationHeader& header = *parsed.header;

    if (auto failure = scope_failure(header, region, service)) return {std::nullopt, std::move(failure), std::nullopt};
    const std::vector<std::string_view> session_tokens = header_values(request, "x-amz-security-token");
    if (session_tokens.size() > 1) {
        return refuse(SigV4FailureKind::malformed, "A signed request carries at most one X-Amz-Security-Token header.");
    }
    if (sigv4::query_parameter(request.query, "X-Amz-Security-Token")) {
        return refuse(SigV4FailureKind::security_token,
                      std::string(invalid_token_message()) + " Send the session token in the X-Amz-Security-Token header.");
    }
    const std::optional<std::string_view> session_token =
        session_tokens.empty() ? std::nullopt : std::optional<std::string_view>(session_tokens.front());
    auto found_signer = find_signer(secrets, header.access_key_id, session_token);
    if (auto* refusal = std::get_if<SigV4Verdict>(&found_signer)) return std::move(*refusal);
    Signer& signer = std::get<Signer>(found_signer);
    // The token is part of what was signed, or anyone who saw a request could swap it.
    if (session_token && !signs(header, "x-amz-security-token")) {
        return refuse(SigV4FailureKind::malformed,
                      "'X-Amz-Security-Token' must be a 'SignedHeader' in the AWS Authorization.");
    }

    if (!signs(header, "host")) {
        return refuse(SigV4FailureKind::malformed, "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.");
    }
    auto time = request_time(request, header);
    if (auto* refusal = std::get_if<SigV4Verdict>(&time)) return std::move(*refusal);
    const RequestTime& signed_at = std::get<RequestTime>(time);
    if (header.date != std::string_view(signed_at.amz_date).substr(0, 8)) {
        return refuse(SigV4FailureKind::wrong_date,
                      "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '" +
                          std::string(header.date) + "' != '" + signed_at.amz_date.substr(0, 8) + "', from '" +
                          signed_at.amz_date + "'.");
    }
    if (auto skew = outside_skew(signed_at, now)) return {std::nullopt, std::move(skew), std::nullopt};

    // botocore signs the x-amz-content-sha256 value when there is one (S3 and a few other
    // services send it), else the body's digest: either way the body must be that digest.
    const std::string body_digest = sha256_hex(request.body);
    const std::optional<std::string_view> declared_digest = first_header(request, "x-amz-content-sha256");
    if (declared_digest) {
        if (*declared_digest == unsigned_payload || declared_digest->starts_with("STREAMING-")) {
            return refuse(SigV4FailureKind::unsigned_payload,
                          "x-amz-content-sha256 '" + std::string(*declared_digest) +
                              "' is not accepted: sofaas verifies the SHA-256 of every body.");
        }
        if (!iequal(*declared_digest, body_digest)) {
            return refuse(SigV4FailureKind::payload_mismatch,
                          "The provided 'x-amz-content-sha256' header does not match what was computed.");
        }
    }

    const std::optional<std::string> canonical_headers =
        sigv4::canonical_headers(header.signed_header_names, request.headers);
    if (!canonical_headers) {
        return refuse(SigV4FailureKind::malformed, "SignedHeaders names a header the request does not carry.");
    }
    std::string canonical_request;
    canonical_request.append(request.method).append("\n");
    canonical_request.append(sigv4::canonical_uri(request.path)).append("\n");
    canonical_request.append(sigv4::canonical_query(request.query)).append("\n");
    canonical_request.append(*canonical_headers).append("\n");
    canonical_request.append(header.signed_headers).append("\n");
    canonical_request.append(declared_digest ? *declared_digest : std::string_view(body_digest));

    const std::string string_to_sign = std::string(sigv4::algorithm) + "\n" + signed_at.amz_date + "\n" +
                                       std::string(header.date) + "/" + std::string(header.region) + "/" +
                                       std::string(header.service) + "/aws4_request\n" + sha256_hex(canonical_request);
    if (!secrets_equal(header.signature, signature_of(header, signer.secret, string_to_sign))) {
        return refuse(SigV4FailureKind::signature_mismatch,
                      "The request signature we calculated does not match the signature you provided. Check your "
                      "AWS Secret Access Key and signing method. Consult the service documentation for details.");
    }
    return {std::move(signer.key), std::nullopt, std::move(signer.session)};
}

}  // namespace sofaas
