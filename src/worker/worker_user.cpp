#include "worker/worker_user.h"

#include <grp.h>
#include <pwd.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <variant>

namespace sofaas::worker {
namespace {

std::string failed(const std::string& name, const char* step, int error) {
    return "cannot run as user '" + name + "': " + step + ": " + std::strerror(error) +
           (error == EPERM ? " (only a daemon running as root can switch users)" : "");
}

bool is_only(uid_t uid, gid_t gid) {
    uid_t real_uid, effective_uid, saved_uid;
    gid_t real_gid, effective_gid, saved_gid;
    getresuid(&real_uid, &effective_uid, &saved_uid);
    getresgid(&real_gid, &effective_gid, &saved_gid);
    return real_uid == uid && effective_uid == uid && saved_uid == uid && real_gid == gid &&
           effective_gid == gid && saved_gid == gid;
}

struct Ids {
    uid_t uid;
    gid_t gid;
};

struct LookedUp {
    std::string name;
    std::variant<Ids, std::string> ids;  // or why there are none
};

// The last lookup, inherited by the workers the zygote forks.
std::optional<LookedUp> looked_up;

std::variant<Ids, std::string> ids_of(const std::string& name) {
    // "#UID": a user with no name, uid and gid both UID (a daemon's per-worker user).
    if (!name.empty() && name.front() == '#') {
        uid_t uid = 0;
        const char* digits = name.c_str() + 1;
        const char* end = name.c_str() + name.size();
        const auto [stop, error] = std::from_chars(digits, end, uid);
        if (error != std::errc() || stop != end || uid == 0 || uid == static_cast<uid_t>(-1))
            return "cannot run as user '" + name + "': not a valid uid";
        return Ids{uid, static_cast<gid_t>(uid)};
    }
    errno = 0;
    const passwd* entry = getpwnam(name.c_str());
    if (!entry)
        return "cannot run as user '" + name + "': " +
               (errno != 0 ? std::strerror(errno) : "no such user");
    return Ids{entry->pw_uid, entry->pw_gid};
}

}  // namespace

void look_up_user(const std::string& name) {
    looked_up = LookedUp{name, ids_of(name)};
}

std::optional<std::string> become_user(const std::string& name) {
    if (!looked_up || looked_up->name != name) look_up_user(name);
    if (const auto* error = std::get_if<std::string>(&looked_up->ids)) return *error;
    const auto [uid, gid] = std::get<Ids>(looked_up->ids);
    if (is_only(uid, gid) && getgroups(0, nullptr) == 0) return std::nullopt;

    // Groups first and the uid last: once the uid is gone, so is the right to change the
    // others. Root's supplementary groups (disk, adm, ...) would otherwise stay.
    if (setgroups(0, nullptr) != 0) return failed(name, "setgroups", errno);
    if (setresgid(gid, gid, gid) != 0) return failed(name, "setresgid", errno);
    if (setresuid(uid, uid, uid) != 0) return failed(name, "setresuid", errno);

    // A drop that could be undone is no drop.
    if (!is_only(uid, gid)) return "cannot run as user '" + name + "': ids did not change";
    if (uid != 0 && setuid(0) == 0) return "cannot run as user '" + name + "': root came back";
    return std::nullopt;
}

}  // namespace sofaas::worker
