// The worker's seccomp filter: what a function may not ask the kernel for.
#pragma once

#include <optional>
#include <string>

namespace sofaas::worker {

// Compiles the filter to a BPF program (libseccomp remains its only source) and keeps it
// for install_syscall_filter(). The zygote compiles once; every worker it forks inherits
// the program and only hands it to the kernel. Returns why it could not be compiled.
std::optional<std::string> prepare_syscall_filter();

// Installs the filter (compiling it first unless prepared) for this process and every
// process it starts (it cannot be removed). Needs no_new_privs (or CAP_SYS_ADMIN).
// Returns why it could not be installed.
std::optional<std::string> install_syscall_filter();

}  // namespace sofaas::worker
