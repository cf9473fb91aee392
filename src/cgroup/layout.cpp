#include "cgroup/layout.h"

#include "cgroup/control_file.h"

#include <map>
#include <sstream>
#include <vector>

namespace sofaas::cgroup {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view v1_controllers[] = {"memory", "pids", "freezer", "cpuacct"};

struct Mount {
    std::string root;         // the hierarchy's directory shown at the mount point
    std::string mount_point;
    std::string type;         // cgroup (v1) or cgroup2
    std::vector<std::string> super_options;  // v1: the controllers among them
};

std::vector<std::string> split(std::string_view text, char separator) {
    std::vector<std::string> parts;
    size_t begin = 0;
    for (;;) {
        const size_t end = text.find(separator, begin);
        parts.emplace_back(text.substr(begin, end - begin));
        if (end == std::string_view::npos) return parts;
        begin = end + 1;
    }
}

// mountinfo escapes space, tab, newline and backslash as \ooo.
std::string unescape(std::string_view text) {
    const auto octal = [&](size_t at) { return at < text.size() && text[at] >= '0' && text[at] <= '7'; };
    std::string plain;
    for (size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '\\' && octal(i + 1) && octal(i + 2) && octal(i + 3)) {
            plain += static_cast<char>((text[i + 1] - '0') * 64 + (text[i + 2] - '0') * 8 + (text[i + 3] - '0'));
            i += 3;
        } else {
            plain += text[i];
        }
    }
    return plain;
}

// "36 35 0:30 / /sys/fs/cgroup/memory rw,relatime shared:9 - cgroup cgroup rw,memory"
std::vector<Mount> cgroup_mounts(std::string_view mountinfo) {
    std::vector<Mount> mounts;
    for (const std::string& line : split(mountinfo, '\n')) {
        std::istringstream fields(line);
        std::string id, parent, device, root, mount_point, options, field;
        if (!(fields >> id >> parent >> device >> root >> mount_point >> options)) continue;
        while (fields >> field && field != "-") {
        }
        std::string type, source, super_options;
        if (!(fields >> type >> source >> super_options)) continue;
        if (type != "cgroup" && type != "cgroup2") continue;
        mounts.push_back({unescape(root), unescape(mount_point), type, split(super_options, ',')});
    }
    return mounts;
}

struct OwnCgroups {
    std::optional<std::string> unified;       // "0::PATH"
    std::map<std::string, std::string> by_controller;  // "4:memory:PATH", "3:cpu,cpuacct:PATH"
};

OwnCgroups own_cgroups_of(std::string_view text) {
    OwnCgroups own;
    for (const std::string& line : split(text, '\n')) {
        const size_t first = line.find(':');
        const size_t second = first == std::string::npos ? first : line.find(':', first + 1);
        if (second == std::string::npos) continue;
        const std::string controllers = line.substr(first + 1, second - first - 1);
        const std::string path = line.substr(second + 1);
        if (line.compare(0, first, "0") == 0 && controllers.empty()) {
            own.unified = path;
            continue;
        }
        for (const std::string& controller : split(controllers, ',')) own.by_controller[controller] = path;
    }
    return own;
}

// The directory of `path` (a cgroup of the hierarchy) under `mount`, if the mount shows it.
std::optional<fs::path> directory_of(const Mount& mount, const std::string& path) {
    std::string below;
    if (mount.root == "/") {
        below = path;
    } else if (path == mount.root || path.starts_with(mount.root + "/")) {
        below = path.substr(mount.root.size());
    } else {
        return std::nullopt;
    }
    const fs::path relative = fs::path(below).relative_path();
    return relative.empty() ? fs::path(mount.mount_point) : fs::path(mount.mount_point) / relative;
}

std::variant<Layout, std::string> unified_layout(const std::vector<Mount>& mounts, const OwnCgroups& own,
                                                 const ReadFile& read_file) {
    if (!own.unified) return std::string("this process is in no cgroup v2");
    for (const Mount& mount : mounts) {
        if (mount.type != "cgroup2") continue;
        const auto directory = directory_of(mount, *own.unified);
        if (!directory) continue;
        const auto controllers = read_file(*directory / "cgroup.controllers");
        if (!controllers) return "cannot read " + (*directory / "cgroup.controllers").string();
        std::string missing;
        for (const std::string_view wanted : {"memory", "pids"})
            if (!lists(*controllers, wanted)) missing += (missing.empty() ? "" : ", ") + std::string(wanted);
        if (!missing.empty()) return "cgroup v2 at " + directory->string() + " offers no " + missing + " controller";
        return Layout{Version::v2, *directory, *directory, *directory, *directory};
    }
    return std::string("no cgroup v2 is mounted where this process's cgroup is");
}

std::variant<Layout, std::string> v1_layout(const std::vector<Mount>& mounts, const OwnCgroups& own) {
    std::map<std::string_view, fs::path> found;
    std::string missing;
    for (const std::string_view controller : v1_controllers) {
        const auto path = own.by_controller.find(std::string(controller));
        for (const Mount& mount : mounts) {
            if (mount.type != "cgroup" || path == own.by_controller.end()) continue;
            bool has = false;
            for (const std::string& option : mount.super_options) has = has || option == controller;
            if (!has) continue;
            if (const auto directory = directory_of(mount, path->second)) {
                found[controller] = *directory;
                break;
            }
        }
        if (!found.contains(controller)) missing += (missing.empty() ? "" : ", ") + std::string(controller);
    }
    if (!missing.empty()) return "no cgroup v1 hierarchy of " + missing;
    return Layout{Version::v1, found["memory"], found["pids"], found["freezer"], found["cpuacct"]};
}

}  // namespace

std::string_view to_string(Version version) {
    return version == Version::v1 ? "v1" : "v2";
}

std::variant<Layout, std::string> find_layout(std::string_view mountinfo, std::string_view own_cgroups,
                                              const ReadFile& read_file) {
    const std::vector<Mount> mounts = cgroup_mounts(mountinfo);
    const OwnCgroups own = own_cgroups_of(own_cgroups);
    auto unified = unified_layout(mounts, own, read_file);
    if (std::holds_alternative<Layout>(unified)) return unified;
    auto v1 = v1_layout(mounts, own);
    if (std::holds_alternative<Layout>(v1)) return v1;
    return std::get<std::string>(unified) + "; " + std::get<std::string>(v1);
}

std::variant<Layout, std::string> find_layout() {
    const auto mountinfo = read_control(std::filesystem::path("/proc/self/mountinfo"));
    const auto own = read_control(std::filesystem::path("/proc/self/cgroup"));
    if (!mountinfo || !own) return std::string("cannot read /proc/self/mountinfo or /proc/self/cgroup");
    return find_layout(*mountinfo, *own, [](const std::filesystem::path& file) { return read_control(file); });
}

}  // namespace sofaas::cgroup
