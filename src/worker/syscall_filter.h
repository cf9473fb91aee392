// The worker's seccomp filter: what a function may not ask the kernel for.
#pragma once

#include <optional>
#include <string>

namespace sofaas::worker {

// Installs the filter for this process and every process it starts (it cannot be
// removed). Needs no_new_privs (or CAP_SYS_ADMIN). Returns why it could not be installed.
std::optional<std::string> install_syscall_filter();

}  // namespace sofaas::worker
