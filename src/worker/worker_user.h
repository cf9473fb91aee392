// The unprivileged user a root daemon runs function code as.
#pragma once

#include <optional>
#include <string>

namespace sofaas::worker {

// Becomes `name` for good: no supplementary groups, real, effective and saved ids all
// that user's, and no way back to the previous ones. Nothing to do when the worker already
// is that user; otherwise it needs root. Returns why the switch failed.
std::optional<std::string> become_user(const std::string& name);

}  // namespace sofaas::worker
