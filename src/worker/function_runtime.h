// One execution environment's function: the cold start (load, memory limit, init) and
// each invocation (context in, handler, output and measurements out).
#pragma once

#include <optional>

#include "worker/function_host.h"
#include "worker/function_library.h"
#include "worker/protocol.h"
#include "worker/worker_options.h"

namespace sofaas::worker {

class FunctionRuntime {
public:
    explicit FunctionRuntime(const WorkerOptions& options);

    // The cold start. Ready.ok=false says why this environment cannot serve.
    protocol::Ready start();

    // Runs the handler once; only valid after start() returned ok.
    protocol::Result invoke(const protocol::Invoke& event);

private:
    std::optional<LoadFailure> load_and_init();

    const WorkerOptions& options_;
    FunctionHost host_;
    FunctionLibrary function_;
};

}  // namespace sofaas::worker
