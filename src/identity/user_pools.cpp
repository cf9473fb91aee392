#include "identity/user_pools.h"

#include "identity/user_pool_state.h"

namespace sofaas::identity {

using nlohmann::json;
using Kind = UserPoolError::Kind;

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

}  // namespace sofaas::identity
