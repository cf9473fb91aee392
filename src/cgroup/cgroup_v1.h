// cgroup v1 (internal to src/cgroup): an environment's cgroup is one directory in each
// hierarchy of the layout (memory, pids, freezer, cpuacct; fewer when mounted together).
#pragma once

#include <memory>
#include <string>
#include <variant>

#include "cgroup/environment_cgroup.h"
#include "cgroup/layout.h"

namespace sofaas::cgroup {

// Creates `name` below each directory of `parents` (and opens it with open_v1). Returns
// why not, and leaves none behind.
std::optional<std::string> make_directories_v1(const Layout& parents, const std::string& name);
void remove_directories_v1(const Layout& parents, const std::string& name);

// `name`, which exists below each directory of `parents`, with what every invocation
// reads opened, and no limits yet (EnvironmentCgroup::limit).
std::variant<std::unique_ptr<EnvironmentCgroup>, std::string> open_v1(const Layout& parents, const std::string& name);

// open_v1, then the limits.
std::variant<std::unique_ptr<EnvironmentCgroup>, std::string> set_up_v1(const Layout& parents, const std::string& name,
                                                                       const Limits& limits);

}  // namespace sofaas::cgroup
