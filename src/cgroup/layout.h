// Which cgroups the host offers sofaasd, found once at startup: cgroup v2 (the unified
// hierarchy, with the memory and pids controllers) where the host has it, else the cgroup
// v1 hierarchies of the memory, pids, freezer and cpuacct controllers. Each directory is
// the daemon's own cgroup in that hierarchy (from /proc/self/cgroup): its environments'
// cgroups are created below it.
#pragma once

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace sofaas::cgroup {

enum class Version { v1, v2 };
std::string_view to_string(Version version);

struct Layout {
    Version version = Version::v2;
    // v2: one directory, all four the same. v1: the daemon's cgroup in each controller's
    // hierarchy; controllers mounted together (cpu,cpuacct) share a directory.
    std::filesystem::path memory;
    std::filesystem::path pids;
    std::filesystem::path freezer;
    std::filesystem::path cpuacct;
};

// Reads a file of the cgroup filesystem (v2's cgroup.controllers); nullopt if unreadable.
using ReadFile = std::function<std::optional<std::string>(const std::filesystem::path&)>;

// From the text of /proc/self/mountinfo and /proc/self/cgroup. v2 is chosen when the
// daemon's cgroup lists memory and pids in its cgroup.controllers. Returns why neither
// version is usable.
std::variant<Layout, std::string> find_layout(std::string_view mountinfo, std::string_view own_cgroups,
                                              const ReadFile& read_file);

// This process's.
std::variant<Layout, std::string> find_layout();

}  // namespace sofaas::cgroup
