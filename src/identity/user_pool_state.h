// The inside of UserPools, shared by its two files (user_pools.cpp: pools, keys and users;
// user_sessions.cpp: sign-in, refresh, sign-out and the standing of a token's session).
// Not for other modules.
#pragma once

#include <algorithm>
#include <chrono>
#include <map>
#include <mutex>

#include <nlohmann/json.hpp>

#include "common/request_id.h"
#include "events/sqlite_connection.h"
#include "identity/json_web_token.h"
#include "identity/password_hash.h"
#include "identity/user_pools.h"

namespace sofaas::identity::pool_store {


inline constexpr size_t max_password_bytes = 1024;
inline constexpr uint32_t max_min_password_length = 256;
// Tokens signed by a retired key are still accepted (and its key published) this long
// past the token lifetime: clocks of other verifiers differ a little.
inline constexpr std::chrono::seconds clock_skew{60};

inline const char* const pool_schema = R"(
CREATE TABLE IF NOT EXISTS pools (
  name TEXT PRIMARY KEY,
  client_id TEXT NOT NULL,
  self_sign_up INTEGER NOT NULL,
  min_password_length INTEGER NOT NULL,
  created_us INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS signing_keys (
  pool TEXT NOT NULL,
  kid TEXT NOT NULL,
  private_pem TEXT NOT NULL,
  public_jwk TEXT NOT NULL,
  created_us INTEGER NOT NULL,
  retired_us INTEGER,
  PRIMARY KEY (pool, kid));
CREATE TABLE IF NOT EXISTS users (
  pool TEXT NOT NULL,
  username TEXT NOT NULL,
  sub TEXT NOT NULL UNIQUE,
  password_hash TEXT NOT NULL,
  enabled INTEGER NOT NULL,
  scopes TEXT NOT NULL,
  created_us INTEGER NOT NULL,
  PRIMARY KEY (pool, username));
CREATE TABLE IF NOT EXISTS sessions (
  sid TEXT PRIMARY KEY,
  pool TEXT NOT NULL,
  sub TEXT NOT NULL,
  refresh_digest TEXT NOT NULL UNIQUE,
  issuer TEXT NOT NULL,
  auth_time INTEGER NOT NULL,
  expires_us INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS sessions_by_user ON sessions (pool, sub);
)";

inline int64_t micros(WallTime t) { return t.time_since_epoch().count(); }
inline WallTime from_micros(int64_t us) { return WallTime(std::chrono::microseconds(us)); }
inline int64_t seconds_of(WallTime t) { return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count(); }

inline bool is_valid_pool_name(std::string_view name) {
    if (name.empty() || name.size() > 64) return false;
    return std::all_of(name.begin(), name.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
    });
}

// What Cognito allows in a username, less whitespace: letters, digits and ._@+-.
inline bool is_valid_username(std::string_view name) {
    if (name.empty() || name.size() > 128) return false;
    return std::all_of(name.begin(), name.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
               c == '@' || c == '+' || c == '-';
    });
}

// OAuth scope tokens (RFC 6749 3.3) limited to what reads well in a command line.
inline bool is_valid_scope(std::string_view scope) {
    if (scope.empty() || scope.size() > 64 || scope == "openid") return false;
    return std::all_of(scope.begin(), scope.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
               c == ':' || c == '/' || c == '-';
    });
}

inline std::vector<std::string> split_scopes(const std::string& text) {
    std::vector<std::string> scopes;
    size_t start = 0;
    while (start < text.size()) {
        const size_t end = std::min(text.find(' ', start), text.size());
        if (end > start) scopes.push_back(text.substr(start, end - start));
        start = end + 1;
    }
    return scopes;
}

inline std::string join_scopes(const std::vector<std::string>& scopes) {
    std::string text;
    for (const auto& scope : scopes) text += (text.empty() ? "" : " ") + scope;
    return text;
}

}  // namespace sofaas::identity::pool_store

namespace sofaas::identity {

using namespace pool_store;

// Its functions run under `mutex`, which the caller holds (the throttle locks itself).
struct UserPools::State {
    using json = nlohmann::json;
    using Kind = UserPoolError::Kind;

    UserPoolSettings settings;
    SignInThrottle throttle;
    mutable std::mutex mutex;  // the connection, the cache
    mutable SqliteConnection db;
    // The verification keys by pool, parsed once a minute at most: the verifier runs on
    // every request. A rotation drops its pool's entry at once.
    struct CachedKeys {
        std::vector<PublicKey> keys;
        std::chrono::steady_clock::time_point loaded;
    };
    mutable std::map<std::string, CachedKeys, std::less<>> key_cache;
    // Counts key changes: keys read before one are not cached after it.
    uint64_t key_generation = 0;

    State(const std::filesystem::path& database, UserPoolSettings s)
        : settings(s), throttle(s.throttle), db(database, 5000) {
        db.execute("PRAGMA journal_mode=WAL");
        db.execute("PRAGMA synchronous=FULL");
        db.execute(pool_schema);
    }

    std::optional<UserPool> pool(std::string_view name) const {
        auto query = db.query("SELECT name, client_id, self_sign_up, min_password_length, created_us FROM pools "
                              "WHERE name = ?");
        query.bind(name);
        if (!query.next()) return std::nullopt;
        UserPool found{query.text(0), query.text(1), query.integer(2) != 0,
                       static_cast<uint32_t>(query.integer(3)), from_micros(query.integer(4)), {}};
        auto keys = db.query("SELECT kid FROM signing_keys WHERE pool = ? AND (retired_us IS NULL OR retired_us > ?) "
                             "ORDER BY retired_us IS NOT NULL, created_us DESC");
        keys.bind(name, micros(oldest_usable_retirement()));
        while (keys.next()) found.key_ids.push_back(keys.text(0));
        return found;
    }

    UserPool existing_pool(std::string_view name) const {
        auto found = pool(name);
        if (!found) throw UserPoolError(Kind::not_found, "User pool not found: " + std::string(name));
        return *found;
    }

    // A key retired before this has signed no token that is still valid.
    WallTime oldest_usable_retirement() const {
        return wall_now() - std::chrono::duration_cast<std::chrono::microseconds>(settings.token_lifetime + clock_skew);
    }

    void add_key(const std::string& pool_name) {
        const KeyPair pair = generate_es256_key();
        db.query("INSERT INTO signing_keys (pool, kid, private_pem, public_jwk, created_us) VALUES (?, ?, ?, ?, ?)")
            .bind(pool_name, pair.kid, pair.private_pem, pair.public_jwk, micros(wall_now()))
            .run();
        key_cache.erase(pool_name);
        ++key_generation;
    }

    KeyPair signing_key(const std::string& pool_name) const {
        auto query = db.query("SELECT kid, private_pem, public_jwk FROM signing_keys WHERE pool = ? AND retired_us IS NULL");
        query.bind(pool_name);
        if (!query.next()) throw UserPoolError(Kind::not_found, "User pool not found: " + pool_name);
        return KeyPair{query.text(0), query.text(1), query.text(2)};
    }

    struct StoredUser {
        PoolUser user;
        std::string password_hash;
    };
    std::optional<StoredUser> user(std::string_view pool_name, std::string_view username) const {
        auto query = db.query("SELECT username, sub, enabled, scopes, created_us, password_hash FROM users "
                              "WHERE pool = ? AND username = ?");
        query.bind(pool_name, username);
        if (!query.next()) return std::nullopt;
        return StoredUser{PoolUser{query.text(0), query.text(1), query.integer(2) != 0, split_scopes(query.text(3)),
                                   from_micros(query.integer(4))},
                          query.text(5)};
    }

    std::optional<PoolUser> user_by_sub(std::string_view pool_name, std::string_view sub) const {
        auto query = db.query("SELECT username, sub, enabled, scopes, created_us FROM users WHERE pool = ? AND sub = ?");
        query.bind(pool_name, sub);
        if (!query.next()) return std::nullopt;
        return PoolUser{query.text(0), query.text(1), query.integer(2) != 0, split_scopes(query.text(3)),
                        from_micros(query.integer(4))};
    }

    void end_sessions(std::string_view pool_name, std::string_view sub) {
        db.query("DELETE FROM sessions WHERE pool = ? AND sub = ?").bind(pool_name, sub).run();
    }

    // The ID and access tokens of a session, signed with the pool's current key.
    IssuedTokens tokens(const UserPool& pool_row, const PoolUser& user, const std::string& session, int64_t auth_time,
                        const std::string& issuer) const {
        const KeyPair key = signing_key(pool_row.name);
        const int64_t now = seconds_of(wall_now());
        const int64_t expires = now + settings.token_lifetime.count();
        json id = {{"sub", user.sub},         {"iss", issuer},         {"aud", pool_row.client_id},
                   {"token_use", "id"},       {"auth_time", auth_time}, {"iat", now},
                   {"exp", expires},          {"username", user.username}, {"sid", session}};
        std::vector<std::string> scopes{"openid"};
        scopes.insert(scopes.end(), user.scopes.begin(), user.scopes.end());
        json access = {{"sub", user.sub},
                       {"iss", issuer},
                       {"client_id", pool_row.client_id},
                       {"token_use", "access"},
                       {"scope", join_scopes(scopes)},
                       {"auth_time", auth_time},
                       {"iat", now},
                       {"exp", expires},
                       {"jti", new_request_id()},
                       {"username", user.username},
                       {"sid", session}};
        return IssuedTokens{sign_es256(id.dump(), key), sign_es256(access.dump(), key), "", settings.token_lifetime};
    }

    PoolUser insert_user(const std::string& pool_name, const std::string& username, const std::string& hash,
                         std::vector<std::string> scopes) {
        PoolUser user{username, new_request_id(), true, std::move(scopes), wall_now()};
        if (this->user(pool_name, username)) {
            throw UserPoolError(Kind::exists, "User already exists: " + username);
        }
        db.query("INSERT INTO users (pool, username, sub, password_hash, enabled, scopes, created_us) "
                 "VALUES (?, ?, ?, ?, 1, ?, ?)")
            .bind(pool_name, username, user.sub, hash, join_scopes(user.scopes), micros(user.created))
            .run();
        return user;
    }
};

}  // namespace sofaas::identity
