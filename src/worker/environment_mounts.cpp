#include "worker/environment_mounts.h"

#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <vector>

namespace sofaas::worker {
namespace {

std::string failed(const std::string& what, int error) {
    return what + ": " + std::strerror(error);
}

// /proc/self/mountinfo escapes space, tab, newline and backslash as \ooo.
std::string unescape(const std::string& field) {
    std::string text;
    for (size_t i = 0; i < field.size(); ++i) {
        const bool octal = field[i] == '\\' && i + 3 < field.size() &&
                           field.find_first_not_of("01234567", i + 1) >= i + 4;
        if (octal) {
            text += static_cast<char>(std::stoi(field.substr(i + 1, 3), nullptr, 8));
            i += 3;
        } else {
            text += field[i];
        }
    }
    return text;
}

struct Mount {
    std::string point;
    std::string options;  // the mount's own: rw|ro,nosuid,nodev,noexec,relatime...
    std::string type;
};

// mountinfo: "ID PARENT MAJOR:MINOR ROOT POINT OPTIONS [OPTIONAL...] - TYPE SOURCE SUPER"
std::vector<Mount> read_mounts() {
    std::vector<Mount> mounts;
    std::ifstream file("/proc/self/mountinfo");
    for (std::string line; std::getline(file, line);) {
        std::istringstream fields(line);
        std::string id, parent, device, root, point, options, field;
        if (!(fields >> id >> parent >> device >> root >> point >> options)) continue;
        while (fields >> field && field != "-") {
        }
        std::string type;
        fields >> type;
        mounts.push_back({unescape(point), options, type});
    }
    return mounts;
}

bool has_option(const std::string& options, std::string_view wanted) {
    std::istringstream list(options);
    for (std::string option; std::getline(list, option, ',');)
        if (option == wanted) return true;
    return false;
}

// A bind remount replaces the mount's flags: the ones it had are given again.
unsigned long kept_flags(const std::string& options) {
    constexpr std::pair<std::string_view, unsigned long> flags[] = {
        {"nosuid", MS_NOSUID},       {"nodev", MS_NODEV},           {"noexec", MS_NOEXEC},
        {"noatime", MS_NOATIME},     {"nodiratime", MS_NODIRATIME}, {"relatime", MS_RELATIME},
        {"strictatime", MS_STRICTATIME},
    };
    unsigned long kept = 0;
    for (const auto& [name, flag] : flags)
        if (has_option(options, name)) kept |= flag;
    return kept;
}

// Writable by the daemon's placement of environments, not by function code (see .h);
// an automount point would be triggered in the host's namespace, not this one.
bool stays_as_it_is(const Mount& mount) {
    return mount.type == "cgroup" || mount.type == "cgroup2" || mount.type == "autofs";
}

constexpr mode_t shared_directory = S_IRWXU | S_IRWXG | S_IRWXO | S_ISVTX;  // 1777, as /tmp

// A directory of the tmpfs bound over `target`. A target the host does not have is left out.
std::optional<std::string> bind_directory(const std::string& tmpfs, const char* name, const char* target) {
    const std::string directory = tmpfs + "/" + name;
    if (mkdir(directory.c_str(), shared_directory) != 0 || chmod(directory.c_str(), shared_directory) != 0)
        return failed("cannot create " + directory, errno);
    struct stat status {};
    if (stat(target, &status) != 0 && errno == ENOENT) return std::nullopt;
    if (mount(directory.c_str(), target, nullptr, MS_BIND, nullptr) != 0)
        return failed(std::string("cannot mount the environment's ") + target, errno);
    return std::nullopt;
}

}  // namespace

std::optional<std::string> make_host_read_only() {
    if (unshare(CLONE_NEWNS) != 0) return failed("cannot create a mount namespace", errno);
    if (mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0)
        return failed("cannot make the mount namespace private", errno);
    for (const Mount& mount : read_mounts()) {
        if (has_option(mount.options, "ro") || stays_as_it_is(mount)) continue;
        const unsigned long flags = MS_REMOUNT | MS_BIND | MS_RDONLY | kept_flags(mount.options);
        if (::mount(nullptr, mount.point.c_str(), nullptr, flags, nullptr) != 0)
            return failed("cannot make " + mount.point + " read-only", errno);
    }
    return std::nullopt;
}

std::optional<std::string> mount_environment_directories(uint32_t ephemeral_storage_mb) {
    // Mounted on /tmp first, then each place gets a directory of it, /tmp itself last:
    // its own directory covers the tmpfs's root, so no directory shows the others.
    constexpr const char* tmpfs = "/tmp";
    const std::string size = "size=" + std::to_string(ephemeral_storage_mb) + "m,mode=0700";
    if (mount("tmpfs", tmpfs, "tmpfs", MS_NOSUID | MS_NODEV, size.c_str()) != 0)
        return failed("cannot mount the environment's /tmp", errno);
    if (auto error = bind_directory(tmpfs, "var-tmp", "/var/tmp")) return error;
    if (auto error = bind_directory(tmpfs, "shm", "/dev/shm")) return error;
    return bind_directory(tmpfs, "tmp", tmpfs);
}

std::optional<std::string> mount_environment_proc() {
    if (mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr) != 0)
        return failed("cannot mount the environment's /proc", errno);
    return std::nullopt;
}

}  // namespace sofaas::worker
