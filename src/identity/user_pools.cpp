#include "identity/user_pools.h"

#include <algorithm>
#include <map>
#include <mutex>

#include <nlohmann/json.hpp>

#include "common/request_id.h"
#include "events/sqlite_connection.h"
#include "identity/json_web_token.h"
#include "identity/password_hash.h"

namespace sofaas::identity {
namespace {

using nlohmann::json;
using Kind = UserPoolError::Kind;

constexpr size_t max_password_bytes = 1024;
constexpr uint32_t max_min_password_length = 256;
// Tokens signed by a retired key are still accepted (and its key published) this long
// past the token lifetime: clocks of other verifiers differ a little.
constexpr std::chrono::seconds clock_skew{60};

const char* const pool_schema = R"(
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

int64_t micros(WallTime t) { return t.time_since_epoch().count(); }
WallTime from_micros(int64_t us) { return WallTime(std::chrono::microseconds(us)); }
int64_t seconds_of(WallTime t) { return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count(); }

bool is_valid_pool_name(std::string_view name) {
    if (name.empty() || name.size() > 64) return false;
    return std::all_of(name.begin(), name.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
    });
}

// What Cognito allows in a username, less whitespace: letters, digits and ._@+-.
bool is_valid_username(std::string_view name) {
    if (name.empty() || name.size() > 128) return false;
    return std::all_of(name.begin(), name.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
               c == '@' || c == '+' || c == '-';
    });
}

// OAuth scope tokens (RFC 6749 3.3) limited to what reads well in a command line.
bool is_valid_scope(std::string_view scope) {
    if (scope.empty() || scope.size() > 64 || scope == "openid") return false;
    return std::all_of(scope.begin(), scope.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
               c == ':' || c == '/' || c == '-';
    });
}

std::vector<std::string> split_scopes(const std::string& text) {
    std::vector<std::string> scopes;
    size_t start = 0;
    while (start < text.size()) {
        const size_t end = std::min(text.find(' ', start), text.size());
        if (end > start) scopes.push_back(text.substr(start, end - start));
        start = end + 1;
    }
    return scopes;
}

std::string join_scopes(const std::vector<std::string>& scopes) {
    std::string text;
    for (const auto& scope : scopes) text += (text.empty() ? "" : " ") + scope;
    return text;
}

// Compared against when a username is unknown, so that an unknown user takes as long to
// refuse as a wrong password.
const std::string& stand_in_hash() {
    static const std::string hash = hash_password(random_token(16));
    return hash;
}

}  // namespace

struct UserPools::State {
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

UserPools::UserPools(const std::filesystem::path& database, UserPoolSettings settings)
    : state_(std::make_unique<State>(database, settings)) {}

UserPools::~UserPools() = default;

UserPool UserPools::create_pool(const std::string& name, bool self_sign_up, uint32_t min_password_length) {
    if (!is_valid_pool_name(name)) {
        throw UserPoolError(Kind::invalid, "A user pool's name is 1-64 letters, digits, - or _: " + name);
    }
    if (min_password_length < 8 || min_password_length > max_min_password_length) {
        throw UserPoolError(Kind::invalid, "The minimum password length must be 8 to 256");
    }
    std::lock_guard lock(state_->mutex);
    if (state_->pool(name)) throw UserPoolError(Kind::exists, "User pool already exists: " + name);
    state_->db.execute("BEGIN IMMEDIATE");
    try {
        // Random and lower case, as Cognito's app client ids are.
        std::string client_id = random_token(18);
        std::transform(client_id.begin(), client_id.end(), client_id.begin(), [](char c) {
            return c == '-' || c == '_' ? 'x' : static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        });
        state_->db.query("INSERT INTO pools (name, client_id, self_sign_up, min_password_length, created_us) "
                         "VALUES (?, ?, ?, ?, ?)")
            .bind(name, client_id, self_sign_up ? 1 : 0, min_password_length, micros(wall_now()))
            .run();
        state_->add_key(name);
        state_->db.execute("COMMIT");
    } catch (...) {
        state_->db.execute("ROLLBACK");
        throw;
    }
    return *state_->pool(name);
}

std::vector<UserPool> UserPools::list_pools() const {
    std::lock_guard lock(state_->mutex);
    std::vector<std::string> names;
    auto query = state_->db.query("SELECT name FROM pools ORDER BY name");
    while (query.next()) names.push_back(query.text(0));
    std::vector<UserPool> pools;
    for (const auto& name : names) pools.push_back(*state_->pool(name));
    return pools;
}

std::optional<UserPool> UserPools::find_pool(std::string_view name) const {
    std::lock_guard lock(state_->mutex);
    return state_->pool(name);
}

void UserPools::delete_pool(const std::string& name) {
    std::lock_guard lock(state_->mutex);
    state_->existing_pool(name);
    state_->db.execute("BEGIN IMMEDIATE");
    try {
        for (const char* table : {"sessions", "users", "signing_keys"}) {
            state_->db.query(std::string("DELETE FROM ") + table + " WHERE pool = ?").bind(name).run();
        }
        state_->db.query("DELETE FROM pools WHERE name = ?").bind(name).run();
        state_->db.execute("COMMIT");
    } catch (...) {
        state_->db.execute("ROLLBACK");
        throw;
    }
    state_->key_cache.erase(name);
    ++state_->key_generation;
}

std::string UserPools::rotate_key(const std::string& pool) {
    std::lock_guard lock(state_->mutex);
    state_->existing_pool(pool);
    state_->db.execute("BEGIN IMMEDIATE");
    try {
        state_->db.query("UPDATE signing_keys SET retired_us = ? WHERE pool = ? AND retired_us IS NULL")
            .bind(micros(wall_now()), pool)
            .run();
        // Keys no token can name any more are dropped.
        state_->db.query("DELETE FROM signing_keys WHERE pool = ? AND retired_us <= ?")
            .bind(pool, micros(state_->oldest_usable_retirement()))
            .run();
        state_->add_key(pool);
        state_->db.execute("COMMIT");
    } catch (...) {
        state_->db.execute("ROLLBACK");
        throw;
    }
    return state_->signing_key(pool).kid;
}

std::string UserPools::jwks(const std::string& pool) const {
    std::lock_guard lock(state_->mutex);
    state_->existing_pool(pool);
    auto query = state_->db.query("SELECT public_jwk FROM signing_keys WHERE pool = ? AND (retired_us IS NULL OR "
                                  "retired_us > ?) ORDER BY retired_us IS NOT NULL, created_us DESC");
    query.bind(pool, micros(state_->oldest_usable_retirement()));
    json keys = json::array();
    while (query.next()) keys.push_back(json::parse(query.text(0)));
    return json{{"keys", keys}}.dump();
}

std::vector<PublicKey> UserPools::verification_keys(std::string_view pool) const {
    const auto now = std::chrono::steady_clock::now();
    uint64_t generation = 0;
    {
        std::lock_guard lock(state_->mutex);
        const auto cached = state_->key_cache.find(pool);
        if (cached != state_->key_cache.end() && now - cached->second.loaded < std::chrono::minutes(1)) {
            return cached->second.keys;
        }
        generation = state_->key_generation;
    }
    if (!find_pool(pool)) return {};
    const std::string document = jwks(std::string(pool));
    std::vector<PublicKey> keys = parse_jwks(document).value_or(std::vector<PublicKey>{});
    std::lock_guard lock(state_->mutex);
    if (generation == state_->key_generation) state_->key_cache[std::string(pool)] = State::CachedKeys{keys, now};
    return keys;
}

PoolUser UserPools::add_user(const std::string& pool, const std::string& username, std::string_view password,
                             std::vector<std::string> scopes) {
    if (!is_valid_username(username)) {
        throw UserPoolError(Kind::invalid, "A username is 1-128 letters, digits or ._@+- characters");
    }
    for (const auto& scope : scopes) {
        if (!is_valid_scope(scope)) {
            throw UserPoolError(Kind::invalid, "A scope is 1-64 letters, digits or ._:/- characters, and not openid: " +
                                                   scope);
        }
    }
    const UserPool pool_row = [&] {
        std::lock_guard lock(state_->mutex);
        return state_->existing_pool(pool);
    }();
    if (password.size() < pool_row.min_password_length) {
        throw UserPoolError(Kind::weak_password, "The password must be at least " +
                                                     std::to_string(pool_row.min_password_length) + " characters long");
    }
    if (password.size() > max_password_bytes) {
        throw UserPoolError(Kind::weak_password, "The password must be at most 1024 bytes long");
    }
    const std::string hash = hash_password(password);
    std::lock_guard lock(state_->mutex);
    state_->existing_pool(pool);
    return state_->insert_user(pool, username, hash, std::move(scopes));
}

PoolUser UserPools::sign_up(const std::string& pool, const std::string& username, std::string_view password) {
    {
        std::lock_guard lock(state_->mutex);
        if (!state_->existing_pool(pool).self_sign_up) {
            throw UserPoolError(Kind::sign_up_closed, "This user pool takes no sign-up: an administrator adds its users");
        }
    }
    return add_user(pool, username, password, {});
}

void UserPools::set_user_enabled(const std::string& pool, const std::string& username, bool enabled) {
    std::lock_guard lock(state_->mutex);
    state_->existing_pool(pool);
    const auto found = state_->user(pool, username);
    if (!found) throw UserPoolError(Kind::not_found, "User not found: " + username);
    state_->db.query("UPDATE users SET enabled = ? WHERE pool = ? AND username = ?")
        .bind(enabled ? 1 : 0, pool, username)
        .run();
    if (!enabled) state_->end_sessions(pool, found->user.sub);
}

void UserPools::delete_user(const std::string& pool, const std::string& username) {
    std::lock_guard lock(state_->mutex);
    state_->existing_pool(pool);
    const auto found = state_->user(pool, username);
    if (!found) throw UserPoolError(Kind::not_found, "User not found: " + username);
    state_->end_sessions(pool, found->user.sub);
    state_->db.query("DELETE FROM users WHERE pool = ? AND username = ?").bind(pool, username).run();
}

std::vector<PoolUser> UserPools::list_users(const std::string& pool) const {
    std::lock_guard lock(state_->mutex);
    state_->existing_pool(pool);
    auto query = state_->db.query("SELECT username, sub, enabled, scopes, created_us FROM users WHERE pool = ? "
                                  "ORDER BY username");
    query.bind(pool);
    std::vector<PoolUser> users;
    while (query.next()) {
        users.push_back(PoolUser{query.text(0), query.text(1), query.integer(2) != 0, split_scopes(query.text(3)),
                                 from_micros(query.integer(4))});
    }
    return users;
}

IssuedTokens UserPools::sign_in(const std::string& pool, const std::string& username, std::string_view password,
                                std::string_view source, const std::string& issuer) {
    // The pool and username in one key: a newline is in neither.
    const std::string user_key = pool + "\n" + username;
    if (const auto wait = state_->throttle.locked(user_key, source)) {
        throw UserPoolError(Kind::locked, "Too many failed sign-ins: try again in " + std::to_string(wait->count()) + " s",
                            *wait);
    }
    std::optional<UserPool> pool_row;
    std::optional<State::StoredUser> stored;
    {
        std::lock_guard lock(state_->mutex);
        pool_row = state_->existing_pool(pool);
        if (is_valid_username(username)) stored = state_->user(pool, username);
    }
    const bool matches = password.size() <= max_password_bytes &&
                         password_matches(stored ? stored->password_hash : stand_in_hash(), password);
    if (!stored || !matches) {
        state_->throttle.failed(user_key, source);
        throw UserPoolError(Kind::not_authorized, "Incorrect username or password");
    }
    state_->throttle.succeeded(user_key);
    if (!stored->user.enabled) throw UserPoolError(Kind::not_authorized, "User is disabled");

    const std::string session = new_request_id();
    const std::string refresh_token = random_token(32);
    const int64_t auth_time = seconds_of(wall_now());
    std::lock_guard lock(state_->mutex);
    state_->db.query("DELETE FROM sessions WHERE expires_us <= ?").bind(micros(wall_now())).run();
    state_->db.query("INSERT INTO sessions (sid, pool, sub, refresh_digest, issuer, auth_time, expires_us) "
                     "VALUES (?, ?, ?, ?, ?, ?, ?)")
        .bind(session, pool, stored->user.sub, secret_digest(refresh_token), issuer, auth_time,
              micros(wall_now() + std::chrono::duration_cast<std::chrono::microseconds>(state_->settings.refresh_lifetime)))
        .run();
    IssuedTokens issued = state_->tokens(*pool_row, stored->user, session, auth_time, issuer);
    issued.refresh_token = refresh_token;
    return issued;
}

IssuedTokens UserPools::refresh(const std::string& pool, std::string_view refresh_token) {
    std::lock_guard lock(state_->mutex);
    const UserPool pool_row = state_->existing_pool(pool);
    auto query = state_->db.query("SELECT sid, sub, auth_time, issuer FROM sessions WHERE refresh_digest = ? AND "
                                  "pool = ? AND expires_us > ?");
    // Looked up by its digest: an index lookup of a SHA-256 leaks nothing useful by timing.
    query.bind(secret_digest(refresh_token), pool, micros(wall_now()));
    if (!query.next()) throw UserPoolError(Kind::not_authorized, "Invalid refresh token");
    const std::string session = query.text(0);
    const std::string sub = query.text(1);
    const int64_t auth_time = query.integer(2);
    const std::string issuer = query.text(3);
    const auto user = state_->user_by_sub(pool, sub);
    if (!user || !user->enabled) throw UserPoolError(Kind::not_authorized, "Invalid refresh token");
    return state_->tokens(pool_row, *user, session, auth_time, issuer);
}

void UserPools::sign_out(const std::string& pool, std::string_view refresh_token) {
    std::lock_guard lock(state_->mutex);
    state_->existing_pool(pool);
    auto query = state_->db.query("SELECT sub FROM sessions WHERE refresh_digest = ? AND pool = ?");
    query.bind(secret_digest(refresh_token), pool);
    if (!query.next()) throw UserPoolError(Kind::not_authorized, "Invalid refresh token");
    const std::string sub = query.text(0);
    state_->end_sessions(pool, sub);
}

UserStanding UserPools::standing(std::string_view pool, std::string_view sub, std::string_view session,
                                 std::string_view issuer) const {
    std::lock_guard lock(state_->mutex);
    auto query = state_->db.query("SELECT 1 FROM sessions JOIN users ON users.pool = sessions.pool AND users.sub = "
                                  "sessions.sub WHERE sessions.sid = ? AND sessions.pool = ? AND sessions.sub = ? AND "
                                  "sessions.issuer = ? AND sessions.expires_us > ? AND users.enabled = 1");
    query.bind(session, pool, sub, issuer, micros(wall_now()));
    return query.next() ? UserStanding::good : UserStanding::revoked;
}

}  // namespace sofaas::identity
