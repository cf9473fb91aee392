// AWS Signature Version 4 with sofaas's API keys: what lets the AWS CLI and the SDKs call
// sofaas with --endpoint-url. A request signed with an API key's access key id and secret
// carries
//
//   Authorization: AWS4-HMAC-SHA256 Credential=AKID/20261206/us-east-1/lambda/aws4_request,
//                  SignedHeaders=host;x-amz-date, Signature=<64 hex digits>
//
// and is verified the way AWS verifies it: the canonical request is rebuilt from the
// request as it arrived (botocore's rules, which are AWS's for every service but S3), the
// signing key is derived from the key's secret, and the signatures are compared in
// constant time. Each refusal is a SigV4Failure whose kind decides the AWS error type and
// HTTP status, with a message worded like AWS's.
//
// Temporary credentials (keys/session_store.h) sign the same way and add their session
// token in X-Amz-Security-Token, which must be theirs.
//
// Not accepted: query-string signatures (presigned URLs), unsigned payloads, SigV4a.
#pragma once

#include <chrono>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>

#include "common/time.h"
#include "keys/api_keys.h"
#include "keys/session_store.h"

namespace sofaas {

// How far X-Amz-Date may be from the verifier's clock, either way (AWS's figure).
inline constexpr std::chrono::minutes sigv4_max_clock_skew{15};

// A request as it arrived, nothing decoded: what the signature covers.
struct SignedRequest {
    std::string_view method;
    std::string_view path;   // percent-encoded, as sent
    std::string_view query;  // after '?', as sent; empty when none
    std::span<const std::pair<std::string, std::string>> headers;  // names in any case, in arrival order
    std::string_view body;
};

enum class SigV4FailureKind {
    malformed,           // IncompleteSignatureException (400): the header, a signed header or a date is unreadable
    presigned,           // InvalidSignatureException (403): query-string signatures are not accepted
    security_token,      // UnrecognizedClientException (403): a session token that is not the credentials' own
    unknown_key,         // UnrecognizedClientException (403): no key or session has this access key id
    expired_token,       // ExpiredTokenException (403): the temporary credentials have expired
    wrong_date,          // InvalidSignatureException (403): the credential's day is not X-Amz-Date's
    wrong_region,        // InvalidSignatureException (403): not the daemon's region (Config::region)
    wrong_service,       // InvalidSignatureException (403): not the service asked for ("lambda")
    expired,             // InvalidSignatureException (403): more than sigv4_max_clock_skew off, either way
    unsigned_payload,    // InvalidSignatureException (403): x-amz-content-sha256 is not the body's digest
    payload_mismatch,    // XAmzContentSHA256Mismatch (400): x-amz-content-sha256 disagrees with the body
    signature_mismatch,  // InvalidSignatureException (403): the secret or the signing differs
};

struct SigV4Failure {
    SigV4FailureKind kind = SigV4FailureKind::malformed;
    std::string message;

    // The AWS error type (x-amzn-ErrorType) and the HTTP status of this kind of refusal.
    std::string_view error_type() const;
    int http_status() const;
};

// Four outcomes: not signed with SigV4 at all (none set: other schemes may apply), signed
// by the API key `key`, by the temporary credentials of `session`, or refused for `failure`.
struct SigV4Verdict {
    std::optional<ApiKey> key;
    std::optional<SigV4Failure> failure;
    std::optional<Session> session;

    bool is_sigv4() const { return key.has_value() || session.has_value() || failure.has_value(); }
};

// The secrets a signature may be made with.
struct SigningSecrets {
    const KeyStore& keys;
    const SessionStore* sessions = nullptr;  // none: temporary credentials are refused
};

// Whether an Authorization header value claims an AWS4 signature (it may still be malformed).
bool is_sigv4_authorization(std::string_view authorization);

// Verifies the request's SigV4 Authorization header as of `now`, against the secrets of
// `secrets`, for credential scope REGION/SERVICE. A session's expiry is judged by its
// store's clock.
SigV4Verdict verify_sigv4(const SignedRequest& request, const SigningSecrets& secrets, WallTime now,
                          std::string_view region, std::string_view service);

// What the Authorization header alone tells, before the body it signs is read: whether it
// is well-formed, scoped to REGION/SERVICE and names a known key or session. `key` or
// `session`, when set, is who the request claims to come from, not yet verified: only for
// refusing a body early.
SigV4Verdict sigv4_claimed_signer(std::string_view authorization, const SigningSecrets& secrets,
                                  std::string_view region, std::string_view service);

}  // namespace sofaas
