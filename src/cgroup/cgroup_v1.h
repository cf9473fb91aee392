// cgroup v1 (internal to src/cgroup): an environment's cgroup is one directory in each
// hierarchy of the layout (memory, pids, freezer, cpuacct; fewer when mounted together).
#pragma once

#include <memory>
#include <string>
#include <variant>

#include "cgroup/environment_cgroup.h"
#include "cgroup/layout.h"

namespace sofaas::cgroup {

// Creates `name` below each directory of `parents` with `limits`.
std::variant<std::unique_ptr<EnvironmentCgroup>, std::string> create_v1(const Layout& parents, const std::string& name,
                                                                       const Limits& limits);

// Sets up `name`, which exists below each directory of `parents`: writes the limits and
// opens what every invocation reads. create_v1 is mkdir, then this.
std::variant<std::unique_ptr<EnvironmentCgroup>, std::string> set_up_v1(const Layout& parents, const std::string& name,
                                                                       const Limits& limits);

// One that exists already (left by a daemon that is gone), to be killed and removed.
std::unique_ptr<EnvironmentCgroup> existing_v1(const Layout& parents, const std::string& name);

}  // namespace sofaas::cgroup
