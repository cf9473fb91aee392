#include "worker/worker_user.h"

#include <grp.h>
#include <pwd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

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

}  // namespace

std::optional<std::string> become_user(const std::string& name) {
    errno = 0;
    const passwd* entry = getpwnam(name.c_str());
    if (!entry)
        return "cannot run as user '" + name + "': " +
               (errno != 0 ? std::strerror(errno) : "no such user");
    const uid_t uid = entry->pw_uid;
    const gid_t gid = entry->pw_gid;
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
