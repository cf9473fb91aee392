#pragma once

#include "common/config.h"

namespace sofaas {

// Builds the registry, ledger, logs, pool, scheduler and gateway on `config`, serves until
// SIGTERM or SIGINT, then drains (up to shutdown_grace_s) and stops. Returns the exit code.
// Throws std::exception for a failure to start (data directory, worker binary, bind).
int run_daemon(const Config& config);

}  // namespace sofaas
