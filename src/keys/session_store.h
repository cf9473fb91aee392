// Temporary credentials: what the STS endpoint (sts/assume_role.h) hands a signed-in user
// in exchange for an identity token. A session is an access key id (ASIA...), a secret and
// a session token, issued for one role and one user, that expire. A request signed with
// them carries the token in X-Amz-Security-Token; keys/sigv4.h verifies both.
//
// SigV4 needs the secret itself to check a signature, so it is stored as it is, like an API
// key's: in DATA/sessions.json, mode 0600, replaced atomically on every change, never
// logged. Expired sessions are kept for an hour, so that their holder is told
// ExpiredTokenException (the SDKs then fetch new ones), and purged after.
#pragma once

#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "common/time.h"

namespace sofaas {

// How long an expired session is still recognised as expired rather than unknown.
inline constexpr std::chrono::hours expired_session_retention{1};
// Each issue rewrites the file, so its size is bounded: a user (role, issuer, sub) holds at
// most this many live sessions, a new one ending the oldest; and the store at most
// max_sessions, beyond which issue() refuses.
inline constexpr size_t max_sessions_per_user = 20;
inline constexpr size_t max_sessions = 50'000;

// issue() refused: the store holds max_sessions already.
class SessionLimitReached : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// What may be shown of a session: everything but its secret and token.
struct Session {
    std::string access_key_id;  // "ASIA" and 16 characters, like AWS's temporary ids
    std::string role;           // the role it was issued for (sts/role.h)
    std::string user_sub;       // the identity token's "sub"
    std::string issuer;         // the identity token's "iss"
    std::string session_name;   // RoleSessionName
    WallTime issued;
    WallTime expires;
};

struct SessionCredentials {
    Session session;
    std::string secret_access_key;
    std::string session_token;
};

// Who a session is for, as the STS endpoint verified it.
struct SessionGrant {
    std::string role;
    std::string user_sub;
    std::string issuer;
    std::string session_name;
};

enum class SessionRefusal {
    unknown,      // no session has this access key id (never issued, revoked or purged)
    wrong_token,  // the session token is missing or not this session's
    expired,      // the session is past its expiry
};

// Thread-safe: io threads verify while the STS endpoint issues and the control API revokes.
class SessionStore {
public:
    // Loads `file` if it exists and drops what expired_session_retention allows. The
    // store's clock is the wall clock plus `clock_offset`: the test suite moves it forward
    // to see sessions expire. Throws std::runtime_error when the file is unreadable.
    explicit SessionStore(std::filesystem::path file, std::chrono::seconds clock_offset = {});
    ~SessionStore();
    SessionStore(const SessionStore&) = delete;
    SessionStore& operator=(const SessionStore&) = delete;

    WallTime now() const;

    // New credentials for `grant`, valid for `lifetime` from now(). Writes and fsyncs the
    // file (throws std::system_error when it cannot). Throws SessionLimitReached.
    SessionCredentials issue(const SessionGrant& grant, std::chrono::seconds lifetime);

    // The session of `access_key_id` when `session_token` is its token (compared in
    // constant time) and it has not expired as of now().
    std::variant<SessionCredentials, SessionRefusal> find(std::string_view access_key_id,
                                                          std::string_view session_token) const;
    // The session an access key id names, expired or not, its token unchecked: only for
    // telling who a request claims to be before its body is read.
    std::optional<Session> claimed(std::string_view access_key_id) const;

    // Revokes every session of `role`; returns how many there were.
    size_t revoke_role(std::string_view role);
    // The sessions of `role` not yet expired, by expiry.
    std::vector<Session> live_sessions(std::string_view role) const;

private:
    struct State;
    std::unique_ptr<State> state_;
};

}  // namespace sofaas
