// Sign-in, refresh, sign-out, and whether a token's session still stands.
#include "identity/user_pools.h"

#include "identity/user_pool_state.h"

namespace sofaas::identity {

using nlohmann::json;
using Kind = UserPoolError::Kind;

namespace {

// Compared against when a username is unknown, so that an unknown user takes as long to
// refuse as a wrong password.
const std::string& stand_in_hash() {
    static const std::string hash = hash_password(random_token(16));
    return hash;
}

}  // namespace

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
