// The pool: execution environments (sofaas-worker processes) per function version.
// It spawns them (cold start), hands idle ones out (warm start), enforces each
// invocation's deadline by SIGKILL, reaps idle ones, keeps min_warm ready, and kills
// the workers of retired versions. It does not decide *whether* an invocation may run:
// that is the scheduler's admission control.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/function_spec.h"
#include "common/invocation_report.h"
#include "common/uid_range.h"

namespace boost::asio {
class io_context;
}

namespace sofaas {

namespace cgroup {
class EnvironmentCgroups;
}

struct PoolOptions {
    std::filesystem::path worker_binary;        // sofaas-worker
    std::chrono::milliseconds init_timeout{10'000};
    std::chrono::seconds idle_timeout{600};     // idle workers beyond min_warm live this long
    size_t max_log_bytes = 256 * 1024;          // per invocation and stream (at most the capture
                                                // capacity, captured_output.h); the rest is cut
    std::string worker_user;                    // sofaas-worker --user; empty: the daemon's user
    std::optional<UidRange> worker_uids;        // set: each worker a uid of its own from this
                                                // range (worker_uids.h); worker_user unused
    // Cold starts fork from a zygote (pool/worker_launcher.h) instead of each from a
    // zygote of its own. Started by the Pool's constructor, on the calling thread, which
    // must live as long as the pool (the zygote dies with it).
    bool zygote = false;
    // Each environment in pid, mount and IPC namespaces of its own (worker/zygote.h): its
    // own /tmp of ephemeral_storage_mb, the host read-only, nothing started inside
    // outliving it. Needs root.
    bool own_namespaces = false;
    // Set: each execution environment gets a cgroup of its own (cgroup/environment_cgroups.h),
    // which holds its memory and process limits, measures its CPU time and peak memory,
    // freezes it between events and kills everything in it at the end.
    std::shared_ptr<cgroup::EnvironmentCgroups> cgroups;
};

// Why a library failed its trial load.
struct TrialLoadFailure {
    std::string error_type;  // Runtime.InvalidLibrary, Runtime.InitError, ...
    std::string error_message;
    // The host could not start a worker or its sandbox, so the library was never tried.
    // Set by the pool from what it observed, never from what the worker said after its
    // sandbox was in place (execution_environment.h).
    bool host_fault = false;
};

struct PoolStats {
    size_t idle = 0;
    size_t busy = 0;
    // min_warm environments that failed to start or died while idle, in a row; refills
    // wait 1 s, 2 s, 4 s ... (at most 5 minutes) after each.
    uint32_t warm_failures = 0;
    std::string warm_failure;  // why the last one failed
};

// The environments of one function, all its versions together, at one moment.
struct FunctionEnvironments {
    std::string function;
    size_t idle = 0;
    size_t busy = 0;      // running an invocation, or starting cold for one
    size_t starting = 0;  // starting for min_warm, not yet ready
};

class Pool {
public:
    Pool(boost::asio::io_context& io, PoolOptions options);
    // One io_context per io thread (the daemon's): an environment lives on one of them.
    // Each io_context must be run by exactly one thread: an environment's handlers rely
    // on that instead of a strand. A cold start happens on the caller's context and an
    // invocation prefers an idle environment of the caller's, so a request's work stays
    // on one thread; min_warm environments are spread over all. The first context runs
    // the pool's own timers. Throws std::invalid_argument when `contexts` is empty.
    Pool(std::vector<boost::asio::io_context*> contexts, PoolOptions options);
    ~Pool();
    Pool(const Pool&) = delete;
    Pool& operator=(const Pool&) = delete;

    // Runs one event in an idle environment of `version`, or in a new one, telling the
    // function who asked for it (`caller`, the context's caller_* fields). `done` is
    // called exactly once, on an io_context thread, with what the pool observed: the
    // report's outcome, measures (not the bill), output and captured stdout/stderr. Its
    // identity, trigger and start are the caller's to fill in.
    void execute(FunctionVersionPtr version, std::string request_id, std::string payload, Principal caller,
                 std::function<void(InvocationReport)> done);

    // Loads the library in a throwaway worker: nullopt if it is a valid function, else
    // the reason (not ELF, missing handler, wrong ABI version, init failed or timed out,
    // or a host fault: no worker or sandbox could be started, so nothing was learnt).
    void trial_load(FunctionVersionPtr version, std::function<void(std::optional<TrialLoadFailure>)> done);

    // Called (on an io thread) for every init no invocation paid for, a min_warm
    // environment's (trigger warm) or a trial load's (trigger deploy), so that it is billed
    // like any other: the report is complete but for the bill (a request id of its own, the
    // init's start, its init_ms and outcome, what init wrote). Not called for a host fault.
    // Set once, before the pool is used.
    void on_unpaid_init(std::function<void(InvocationReport)> observer);

    // Keeps at least `version.spec.min_warm` environments of this version alive, busy or
    // idle: those that die (deadline, crash) are replaced.
    void keep_warm(FunctionVersionPtr version);

    // No new work goes to this version: idle workers die now, busy ones when done.
    void retire(const std::string& function, uint32_t version);
    void retire_all(const std::string& function);

    PoolStats stats(const std::string& function, uint32_t version) const;
    // Every function that has environments, by name (for metrics).
    std::vector<FunctionEnvironments> environments() const;
    // Worker processes alive or not yet reaped, of every version.
    size_t worker_count() const;

    // Kills and reaps every worker (daemon shutdown); afterwards execute() answers crash.
    void shutdown();

    // The pool's first io_context (the scheduler's queue deadlines share it).
    boost::asio::io_context& io_context() const;

private:
    struct State;
    std::shared_ptr<State> state_;
};

}  // namespace sofaas
