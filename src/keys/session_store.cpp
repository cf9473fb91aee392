#include "keys/session_store.h"

#include <algorithm>
#include <map>
#include <mutex>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/file_io.h"
#include "keys/api_keys.h"
#include "keys/random_text.h"

namespace sofaas {
namespace {

using nlohmann::json;

// AWS's temporary access key ids start with ASIA; the SDKs and log scanners know them so.
constexpr std::string_view session_id_prefix = "ASIA";
constexpr size_t session_id_random_chars = 16;
constexpr size_t session_secret_chars = 40;   // 238 bits
constexpr size_t session_token_chars = 128;   // 762 bits: a bearer proof on its own

json session_to_json(const SessionCredentials& stored) {
    const Session& session = stored.session;
    return {{"access_key_id", session.access_key_id},
            {"secret_access_key", stored.secret_access_key},
            {"session_token", stored.session_token},
            {"role", session.role},
            {"user_sub", session.user_sub},
            {"issuer", session.issuer},
            {"session_name", session.session_name},
            {"issued", format_rfc3339(session.issued)},
            {"expires", format_rfc3339(session.expires)}};
}

WallTime stored_time(const json& object, const char* field) {
    const auto parsed = parse_time_spec(object.at(field).get<std::string>(), WallTime{});
    if (!parsed) throw std::runtime_error(std::string("a session's \"") + field + "\" is not a time");
    return *parsed;
}

SessionCredentials session_from_json(const json& object) {
    SessionCredentials stored;
    stored.session.access_key_id = object.at("access_key_id").get<std::string>();
    stored.secret_access_key = object.at("secret_access_key").get<std::string>();
    stored.session_token = object.at("session_token").get<std::string>();
    stored.session.role = object.at("role").get<std::string>();
    stored.session.user_sub = object.at("user_sub").get<std::string>();
    stored.session.issuer = object.at("issuer").get<std::string>();
    stored.session.session_name = object.at("session_name").get<std::string>();
    stored.session.issued = stored_time(object, "issued");
    stored.session.expires = stored_time(object, "expires");
    return stored;
}

}  // namespace

struct SessionStore::State {
    std::filesystem::path file;
    std::chrono::seconds clock_offset{0};
    mutable std::mutex mutex;
    std::map<std::string, SessionCredentials, std::less<>> by_id;

    // Called with the mutex held. True when something was dropped.
    bool purge(WallTime now) {
        return std::erase_if(by_id, [&](const auto& entry) {
                   return entry.second.session.expires + expired_session_retention <= now;
               }) > 0;
    }

    // Called with the mutex held: ends the oldest sessions of the grant's user and role
    // until `keep` are left.
    void end_oldest_beyond(const SessionGrant& grant, size_t keep) {
        std::vector<std::pair<WallTime, std::string>> theirs;
        for (const auto& [id, stored] : by_id) {
            const Session& session = stored.session;
            if (session.role == grant.role && session.user_sub == grant.user_sub && session.issuer == grant.issuer) {
                theirs.emplace_back(session.issued, id);
            }
        }
        if (theirs.size() <= keep) return;
        std::sort(theirs.begin(), theirs.end());
        for (size_t i = 0; i + keep < theirs.size(); ++i) by_id.erase(theirs[i].second);
    }

    // Called with the mutex held; the file is replaced whole, so a crash leaves the old
    // set of sessions or the new one.
    void save() const {
        json sessions = json::array();
        for (const auto& [id, stored] : by_id) sessions.push_back(session_to_json(stored));
        replace_file_atomically(file, json{{"sessions", sessions}}.dump(1) + "\n", 0600);
    }
};

SessionStore::SessionStore(std::filesystem::path file, std::chrono::seconds clock_offset)
    : state_(std::make_unique<State>()) {
    state_->file = std::move(file);
    state_->clock_offset = clock_offset;
    std::error_code missing;
    if (!std::filesystem::exists(state_->file, missing)) return;
    const json contents = json::parse(read_whole_file(state_->file), nullptr, false);
    if (!contents.is_object() || !contents.contains("sessions") || !contents["sessions"].is_array())
        throw std::runtime_error(state_->file.string() + " is not a session file");
    try {
        for (const auto& object : contents["sessions"]) {
            SessionCredentials stored = session_from_json(object);
            state_->by_id.emplace(stored.session.access_key_id, std::move(stored));
        }
    } catch (const std::exception& error) {
        throw std::runtime_error(state_->file.string() + ": " + error.what());
    }
    if (state_->purge(now())) state_->save();
}

SessionStore::~SessionStore() = default;

WallTime SessionStore::now() const { return wall_now() + state_->clock_offset; }

SessionCredentials SessionStore::issue(const SessionGrant& grant, std::chrono::seconds lifetime) {
    SessionCredentials issued;
    issued.session.role = grant.role;
    issued.session.user_sub = grant.user_sub;
    issued.session.issuer = grant.issuer;
    issued.session.session_name = grant.session_name;
    issued.secret_access_key = random_text(secret_alphabet, session_secret_chars);
    issued.session_token = random_text(secret_alphabet, session_token_chars);

    std::lock_guard lock(state_->mutex);
    issued.session.issued = now();
    issued.session.expires = issued.session.issued + lifetime;
    do {
        issued.session.access_key_id =
            std::string(session_id_prefix) + random_text(access_key_id_alphabet, session_id_random_chars);
    } while (state_->by_id.count(issued.session.access_key_id));
    // The map before this call, should the file not take the new set.
    std::map<std::string, SessionCredentials, std::less<>> before = state_->by_id;
    state_->purge(issued.session.issued);
    state_->end_oldest_beyond(grant, max_sessions_per_user - 1);
    if (state_->by_id.size() >= max_sessions) {
        state_->by_id = std::move(before);
        throw SessionLimitReached("This sofaas holds " + std::to_string(max_sessions) +
                                  " live sessions, its most: retry once some have expired");
    }
    state_->by_id.emplace(issued.session.access_key_id, issued);
    try {
        state_->save();
    } catch (...) {
        state_->by_id = std::move(before);
        throw;
    }
    return issued;
}

std::variant<SessionCredentials, SessionRefusal> SessionStore::find(std::string_view access_key_id,
                                                                    std::string_view session_token) const {
    const WallTime at = now();
    std::lock_guard lock(state_->mutex);
    const auto found = state_->by_id.find(access_key_id);
    if (found == state_->by_id.end()) return SessionRefusal::unknown;
    // The token proves the holder got these credentials from the STS endpoint: checked
    // before expiry, so that a guess at an id learns nothing about its session.
    if (!secrets_equal(session_token, found->second.session_token)) return SessionRefusal::wrong_token;
    if (found->second.session.expires <= at) return SessionRefusal::expired;
    return found->second;
}

std::optional<Session> SessionStore::claimed(std::string_view access_key_id) const {
    std::lock_guard lock(state_->mutex);
    const auto found = state_->by_id.find(access_key_id);
    if (found == state_->by_id.end()) return std::nullopt;
    return found->second.session;
}

size_t SessionStore::revoke_role(std::string_view role) {
    std::lock_guard lock(state_->mutex);
    std::map<std::string, SessionCredentials, std::less<>> before = state_->by_id;
    const size_t revoked =
        std::erase_if(state_->by_id, [&](const auto& entry) { return entry.second.session.role == role; });
    state_->purge(now());
    if (revoked == 0 && before.size() == state_->by_id.size()) return 0;
    try {
        state_->save();
    } catch (...) {
        state_->by_id = std::move(before);
        throw;
    }
    return revoked;
}

std::vector<Session> SessionStore::live_sessions(std::string_view role) const {
    const WallTime at = now();
    std::vector<Session> sessions;
    {
        std::lock_guard lock(state_->mutex);
        for (const auto& [id, stored] : state_->by_id) {
            if (stored.session.role == role && stored.session.expires > at) sessions.push_back(stored.session);
        }
    }
    std::sort(sessions.begin(), sessions.end(),
              [](const Session& a, const Session& b) { return a.expires < b.expires; });
    return sessions;
}

}  // namespace sofaas
