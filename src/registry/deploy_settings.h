// Deploy settings as a client sends them (query parameters or X-Sofaas-* headers),
// validated against the daemon's limits. Every bad value is a DeploySettingsError naming the
// setting: the request's fault, whichever API surface it came through.
#pragma once

#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "common/config.h"
#include "common/function_spec.h"

namespace sofaas {

// The settings of a new version: FunctionSpec minus what the registry fills in
// (name, version, sha256, size, created_at).
using FunctionSettings = FunctionSpec;

class DeploySettingsError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// `params`: (key, value) pairs in arrival order; keys: handler, memory, timeout,
// ephemeral_storage (MB), env (K=V, repeatable), route ("METHOD /path", repeatable),
// min_warm, max_concurrency, auth, expose_errors ("true" or "false").
// Unknown keys are errors. Missing keys take `defaults`. An env variable the dynamic loader
// or libc acts on (common/loader_variables.h) is an error unless `allow_loader_environment`.
FunctionSettings parse_deploy_settings(const std::vector<std::pair<std::string, std::string>>& params,
                                       const FunctionDefaults& defaults, const Limits& limits,
                                       bool allow_loader_environment = false);

// A change of settings without new code (Lambda's UpdateFunctionConfiguration): the same
// keys, checked the same way; a key not given keeps `current`'s value. `env` and `route`
// replace the current list when given at all, and a value "" clears it; a min_warm above a
// new max_concurrency is lowered to it unless given too. The result keeps
// `current`'s name, version and library fields: the registry sets those when it stages it.
FunctionSettings parse_settings_update(const std::vector<std::pair<std::string, std::string>>& params,
                                       const FunctionSpec& current, const Limits& limits,
                                       bool allow_loader_environment = false);

}  // namespace sofaas
