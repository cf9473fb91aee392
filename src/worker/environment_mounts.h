// What an execution environment sees of the file system when it has a mount namespace of
// its own (a root daemon's workers, zygote.h): every file system of the host read-only, as
// Lambda's are, and a /tmp of its own, writable, of the function's ephemeral_storage_mb,
// gone with the environment. So a function writes nowhere but there, whatever world-
// writable directory the host has (/tmp, /var/tmp, /run/lock, ...).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace sofaas::worker {

// In the zygote, once: it moves into a mount namespace of its own, private (no mount event
// reaches the host or comes from it: the environments see the host's mounts as they were
// when the zygote started) and read-only throughout. Every worker's mount namespace is a
// copy of it. The cgroup file systems are left as they are, for the daemon to place
// environments in them; nothing there is writable by a worker's user. Returns why not.
std::optional<std::string> make_host_read_only();

// In the init of an environment's pid namespace (environment_init.h), in the mount
// namespace it shares with its worker: a /proc that shows that pid namespace alone.
// Returns why not.
std::optional<std::string> mount_environment_proc();

// In a worker in its own mount (and pid) namespace, before it drops its privileges: one
// tmpfs of `ephemeral_storage_mb` holds /tmp, /var/tmp and /dev/shm (each a directory of
// it, mode 1777), so the three share that size. Returns why not.
std::optional<std::string> mount_environment_directories(uint32_t ephemeral_storage_mb);

}  // namespace sofaas::worker
