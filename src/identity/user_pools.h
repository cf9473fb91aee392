// User pools (Cognito's role): pools of users who sign up and sign in with a password
// and get signed tokens: an ID token (who they are), an access token (what they may do:
// scopes) and a refresh token (opaque, stored hashed, revocable). Each pool signs with an
// ES256 key of its own, rotated on demand; its public keys are its JWKS.
//
// Everything lives in one SQLite database under the data directory. Thread-safe. The
// password operations (sign_up, sign_in, add_user) hash with argon2id and take about
// 0.1 s: call them off the io threads.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "common/time.h"
#include "identity/sign_in_throttle.h"
#include "identity/signing_key.h"

namespace sofaas::identity {

struct UserPoolSettings {
    std::chrono::seconds token_lifetime{3600};           // ID and access tokens
    std::chrono::seconds refresh_lifetime{30 * 24 * 3600};
    ThrottleSettings throttle;
};

struct UserPool {
    std::string name;
    std::string client_id;    // the aud of its ID tokens, the client_id of its access tokens
    bool self_sign_up = true;  // false: only `sofaas users add` makes users
    uint32_t min_password_length = 8;
    WallTime created;
    std::vector<std::string> key_ids;  // published, the signing one first
};

struct PoolUser {
    std::string username;
    std::string sub;  // a UUID, never reused
    bool enabled = true;
    std::vector<std::string> scopes;  // granted in its access tokens, beside "openid"
    WallTime created;
};

struct IssuedTokens {
    std::string id_token;
    std::string access_token;
    std::string refresh_token;  // empty after a refresh: the one presented stays valid
    std::chrono::seconds expires_in;
};

// An operation refused, with why; the gateway maps the kind to a status code.
class UserPoolError : public std::runtime_error {
public:
    enum class Kind {
        invalid,         // a bad name, username or field: 400
        weak_password,   // below the pool's policy: 400
        exists,          // 409
        not_found,       // 404
        not_authorized,  // wrong username or password, a disabled user, a bad refresh token: 401
        sign_up_closed,  // the pool takes no self sign-up: 403
        locked,          // too many failures: 429, retry_after
    };
    UserPoolError(Kind kind, const std::string& message, std::chrono::seconds retry_after = {})
        : std::runtime_error(message), kind_(kind), retry_after_(retry_after) {}
    Kind kind() const { return kind_; }
    std::chrono::seconds retry_after() const { return retry_after_; }

private:
    Kind kind_;
    std::chrono::seconds retry_after_;
};

// What a pool's token says about its user, once the signature is known good: whether the
// user still exists and is enabled, and the sign-in session (the token's "sid") has not
// ended by a sign-out or expired.
enum class UserStanding { good, revoked };

class UserPools {
public:
    // Opens (creating it if missing) the database. Throws std::runtime_error.
    UserPools(const std::filesystem::path& database, UserPoolSettings settings);
    ~UserPools();
    UserPools(const UserPools&) = delete;
    UserPools& operator=(const UserPools&) = delete;

    // Pools. Names as function names: letters, digits, - and _, up to 64. Throws UserPoolError.
    UserPool create_pool(const std::string& name, bool self_sign_up, uint32_t min_password_length);
    std::vector<UserPool> list_pools() const;
    std::optional<UserPool> find_pool(std::string_view name) const;
    void delete_pool(const std::string& name);
    // A new signing key; the old one stays published (and accepted) until the tokens it
    // signed have expired. Returns the new key id.
    std::string rotate_key(const std::string& pool);
    // The pool's JWKS document (public keys only).
    std::string jwks(const std::string& pool) const;
    // The keys that verify the pool's tokens now (for the verifier).
    std::vector<PublicKey> verification_keys(std::string_view pool) const;

    // Users. Throws UserPoolError.
    PoolUser add_user(const std::string& pool, const std::string& username, std::string_view password,
                      std::vector<std::string> scopes);
    PoolUser sign_up(const std::string& pool, const std::string& username, std::string_view password);
    void set_user_enabled(const std::string& pool, const std::string& username, bool enabled);
    void delete_user(const std::string& pool, const std::string& username);
    std::vector<PoolUser> list_users(const std::string& pool) const;

    // Sessions. `issuer` is the pool's issuer URL (the iss of its tokens); `source` the
    // caller's address, for the lockout. Throws UserPoolError.
    IssuedTokens sign_in(const std::string& pool, const std::string& username, std::string_view password,
                         std::string_view source, const std::string& issuer);
    // The new tokens name the issuer the session began with.
    IssuedTokens refresh(const std::string& pool, std::string_view refresh_token);
    // Ends every session of the token's user: its refresh tokens and the ID and access
    // tokens issued in them are revoked.
    void sign_out(const std::string& pool, std::string_view refresh_token);

    // `issuer` must be the one the session's tokens were issued with.
    UserStanding standing(std::string_view pool, std::string_view sub, std::string_view session,
                          std::string_view issuer) const;

private:
    struct State;
    std::unique_ptr<State> state_;
};

}  // namespace sofaas::identity
