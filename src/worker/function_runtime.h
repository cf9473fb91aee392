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

    // The host's part of the cold start: opens the library file and enters the sandbox.
    // Nothing of the function's has been loaded yet, so a failure here is the host's (or
    // the file's) and the daemon may believe it. nullopt when the sandbox is in place.
    std::optional<protocol::Ready> prepare();

    // After prepare() and the Sandboxed frame: a function whose environment sets variables
    // the dynamic loader acts on (allowed by the daemon's config) gets them by exec'ing the
    // worker again, now inside the sandbox. Does not return then; returns nullopt when no
    // such exec is needed, or the failure.
    std::optional<protocol::Ready> exec_for_the_loader();
    // This process is that second exec: prepare() found the sandbox in place.
    bool resumed_inside_sandbox() const { return options_.library_fd >= 0; }

    // The function's part, after prepare(): load and init. Ready.ok=false says why this
    // environment cannot serve.
    protocol::Ready start();

    // Runs the handler once; only valid after start() returned ok.
    protocol::Result invoke(const protocol::Invoke& event);

private:
    std::optional<LoadFailure> open_and_enter_sandbox();
    std::optional<LoadFailure> load_and_init();

    const WorkerOptions& options_;
    FunctionHost host_;
    std::optional<LibraryFile> library_file_;  // opened by prepare(), before the sandbox
    std::optional<int> own_executable_;        // for exec_for_the_loader(), opened before the sandbox
    FunctionLibrary function_;
};

}  // namespace sofaas::worker
