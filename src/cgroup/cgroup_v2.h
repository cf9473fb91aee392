// cgroup v2 (internal to src/cgroup): an environment's cgroup is one directory of the
// unified hierarchy, below a parent that delegates the memory and pids controllers to it.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <variant>

#include "cgroup/environment_cgroup.h"

namespace sofaas::cgroup {

// `directory`, which exists (created below a parent with +memory +pids in its
// cgroup.subtree_control), with what every invocation reads opened, and no limits yet
// (EnvironmentCgroup::limit).
std::variant<std::unique_ptr<EnvironmentCgroup>, std::string> open_v2(const std::filesystem::path& directory);

// open_v2, then the limits.
std::variant<std::unique_ptr<EnvironmentCgroup>, std::string> set_up_v2(const std::filesystem::path& directory,
                                                                       const Limits& limits);

}  // namespace sofaas::cgroup
