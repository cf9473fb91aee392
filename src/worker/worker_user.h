// The unprivileged user a root daemon runs function code as.
#pragma once

#include <optional>
#include <string>

namespace sofaas::worker {

// Looks `name` up in the user database now (NSS, possibly slow) and keeps the answer for
// become_user(name): the zygote looks the worker user up once for every worker it forks.
void look_up_user(const std::string& name);

// Becomes `name` for good: no supplementary groups, real, effective and saved ids all
// that user's, and no way back to the previous ones. "#UID" names no one in the user
// database: uid and gid both UID (how a daemon gives each worker a user of its own). Nothing to do when the worker already
// is that user; otherwise it needs root. Returns why the switch failed.
std::optional<std::string> become_user(const std::string& name);

}  // namespace sofaas::worker
