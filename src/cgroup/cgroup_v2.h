// cgroup v2 (internal to src/cgroup): an environment's cgroup is one directory of the
// unified hierarchy, below a parent that delegates the memory and pids controllers to it.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <variant>

#include "cgroup/environment_cgroup.h"

namespace sofaas::cgroup {

// Creates `directory` (its parent must have +memory +pids in cgroup.subtree_control).
std::variant<std::unique_ptr<EnvironmentCgroup>, std::string> create_v2(const std::filesystem::path& directory,
                                                                       const Limits& limits);

// Sets up `directory`, which exists: writes the limits and opens what every invocation
// reads. create_v2 is mkdir, then this.
std::variant<std::unique_ptr<EnvironmentCgroup>, std::string> set_up_v2(const std::filesystem::path& directory,
                                                                       const Limits& limits);

// One that exists already (left by a daemon that is gone), to be killed and removed.
std::unique_ptr<EnvironmentCgroup> existing_v2(const std::filesystem::path& directory);

}  // namespace sofaas::cgroup
