#include "identity/token_verifier.h"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "identity/json_web_token.h"

namespace sofaas {
namespace identity {
namespace {

using nlohmann::json;

// Clocks of the issuer and of this host may differ this much.
constexpr int64_t allowed_skew_s = 60;
constexpr std::string_view pool_path = "/auth/";

TokenRejection reject(TokenRejectionKind kind, std::string message) { return TokenRejection{kind, std::move(message)}; }

bool is_host_text(std::string_view host) {
    if (host.empty() || host.size() > 255) return false;
    return std::all_of(host.begin(), host.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '-' ||
               c == ':' || c == '[' || c == ']';
    });
}

std::optional<int64_t> integer_claim(const json& payload, const char* name) {
    const auto claim = payload.find(name);
    if (claim == payload.end()) return std::nullopt;
    // Times past the year 9999 are taken as that year: no arithmetic on them overflows.
    constexpr double latest = 253402300799.0;
    if (!claim->is_number()) return std::nullopt;
    const double seconds = claim->get<double>();
    if (seconds != seconds) return std::nullopt;  // NaN
    return static_cast<int64_t>(std::clamp(seconds, -latest, latest));
}

std::vector<std::string> strings_of(const json& value) {
    std::vector<std::string> strings;
    if (value.is_string()) strings.push_back(value.get<std::string>());
    if (value.is_array()) {
        for (const json& item : value) {
            if (item.is_string()) strings.push_back(item.get<std::string>());
        }
    }
    return strings;
}

std::string string_claim(const json& payload, const char* name) {
    const auto claim = payload.find(name);
    return claim != payload.end() && claim->is_string() ? claim->get<std::string>() : std::string();
}

}  // namespace

std::string pool_issuer(const std::optional<std::string>& issuer_base, std::string_view request_host,
                        std::string_view pool) {
    const std::string base = issuer_base ? *issuer_base
                                         : "http://" + std::string(is_host_text(request_host) ? request_host : "localhost");
    return base + std::string(pool_path) + std::string(pool);
}

std::optional<std::string> pool_of_issuer(const std::optional<std::string>& issuer_base, std::string_view issuer) {
    const size_t at = issuer.rfind(pool_path);
    if (at == std::string_view::npos) return std::nullopt;
    const std::string_view base = issuer.substr(0, at);
    const std::string_view pool = issuer.substr(at + pool_path.size());
    if (pool.empty() || pool.find('/') != std::string_view::npos) return std::nullopt;
    if (issuer_base) {
        if (base != *issuer_base) return std::nullopt;
    } else {
        std::string_view host;
        if (base.starts_with("http://")) host = base.substr(7);
        else if (base.starts_with("https://")) host = base.substr(8);
        else return std::nullopt;
        if (!is_host_text(host)) return std::nullopt;
    }
    return std::string(pool);
}

std::variant<VerifiedIdentity, TokenRejection> TokenVerifier::verify(std::string_view token, TokenUse use,
                                                                     std::optional<std::string_view> pool) const {
    auto read = read_token(token);
    if (auto* malformed = std::get_if<MalformedToken>(&read)) {
        return reject(TokenRejectionKind::malformed, std::move(malformed->message));
    }
    const UnverifiedToken& parts = std::get<UnverifiedToken>(read);
    // Before anything else: "none" and the HMAC algorithms are never accepted.
    const auto algorithm = parse_signature_algorithm(parts.algorithm);
    if (!algorithm) {
        return reject(TokenRejectionKind::bad_signature,
                      "The token's algorithm is not accepted (ES256 or RS256 only): " + parts.algorithm.substr(0, 16));
    }
    const json payload = json::parse(parts.payload_json);
    const std::string issuer = string_claim(payload, "iss");
    if (issuer.empty()) return reject(TokenRejectionKind::malformed, "The token names no issuer (iss)");

    VerifiedIdentity identity;
    identity.issuer = issuer;
    std::optional<std::string> pool_name = pool_of_issuer(issuer_base_, issuer);
    std::optional<ExternalProvider> provider;
    std::optional<UserPool> pool_row;
    if (pool_name) pool_row = pools_.find_pool(*pool_name);
    if (!pool_row) provider = providers_.by_issuer(issuer);
    if (!pool_row && !provider) return reject(TokenRejectionKind::unknown_issuer, "The token's issuer is not trusted here");
    if (pool && (!pool_row || pool_row->name != *pool)) {
        return reject(TokenRejectionKind::unknown_issuer, "The token is not one of user pool " + std::string(*pool));
    }

    // The key: the one the token names, of its issuer, for its algorithm alone.
    std::vector<PublicKey> candidates;
    if (pool_row) {
        for (PublicKey& key : pools_.verification_keys(pool_row->name)) {
            if (key.kid == parts.kid) candidates.push_back(std::move(key));
        }
    } else {
        candidates = providers_.keys_for(provider->name, parts.kid);
    }
    const bool verified = std::any_of(candidates.begin(), candidates.end(), [&](const PublicKey& key) {
        return key.algorithm == *algorithm && signed_by(token, key);
    });
    if (!verified) {
        return reject(TokenRejectionKind::bad_signature,
                      candidates.empty() ? "No key of the token's issuer has its key id (kid)"
                                         : "The token's signature does not verify");
    }

    const int64_t now = std::chrono::duration_cast<std::chrono::seconds>(wall_now().time_since_epoch()).count();
    const auto expires = integer_claim(payload, "exp");
    if (!expires) return reject(TokenRejectionKind::malformed, "The token has no expiry (exp)");
    if (now > *expires + allowed_skew_s) return reject(TokenRejectionKind::expired, "The token has expired");
    if (const auto not_before = integer_claim(payload, "nbf"); not_before && now + allowed_skew_s < *not_before) {
        return reject(TokenRejectionKind::expired, "The token is not valid yet (nbf)");
    }
    if (const auto issued = integer_claim(payload, "iat"); issued && now + allowed_skew_s < *issued) {
        return reject(TokenRejectionKind::expired, "The token is issued in the future (iat)");
    }

    const std::string token_use = string_claim(payload, "token_use");
    const std::string_view wanted_use = use == TokenUse::id ? "id" : "access";
    // Pool tokens always say what they are; a provider's may not (then aud decides).
    if ((pool_row || !token_use.empty()) && token_use != wanted_use) {
        return reject(TokenRejectionKind::wrong_use, use == TokenUse::id ? "An ID token is needed here"
                                                                         : "An access token is needed here");
    }
    if (const auto aud = payload.find("aud"); aud != payload.end()) identity.audiences = strings_of(*aud);
    if (identity.audiences.empty()) {
        if (const auto client = payload.find("client_id"); client != payload.end()) {
            identity.audiences = strings_of(*client);
        }
    }
    const std::string& audience = pool_row ? pool_row->client_id : provider->audience;
    if (std::find(identity.audiences.begin(), identity.audiences.end(), audience) == identity.audiences.end()) {
        return reject(TokenRejectionKind::unknown_issuer, "The token is meant for another audience");
    }

    identity.subject = string_claim(payload, "sub");
    if (identity.subject.empty()) return reject(TokenRejectionKind::malformed, "The token names no subject (sub)");
    if (pool_row) {
        identity.pool = pool_row->name;
        const std::string session = string_claim(payload, "sid");
        // The session also pins the issuer its tokens were given: one naming the pool under
        // another host was never issued here.
        if (pools_.standing(pool_row->name, identity.subject, session, issuer) != UserStanding::good) {
            return reject(TokenRejectionKind::revoked,
                          "The token is revoked (its user signed out or is disabled) or was not issued here");
        }
    }
    if (use == TokenUse::access) {
        const std::string scope = string_claim(payload, "scope");
        size_t start = 0;
        while (start < scope.size()) {
            const size_t end = std::min(scope.find(' ', start), scope.size());
            if (end > start) identity.scopes.push_back(scope.substr(start, end - start));
            start = end + 1;
        }
    }
    identity.expires = WallTime(std::chrono::seconds(*expires));
    for (const auto& [name, value] : payload.items()) identity.claims_json.emplace(name, value.dump());
    return identity;
}

}  // namespace identity
}  // namespace sofaas
