// How the pool starts a worker: forked by the zygote (zygote_process.h), the one that
// serves every cold start, or, without it (`"zygote": false`, or it failed twice), by a
// zygote started for that one worker, which gives the worker an address-space layout of
// its own. Either way the worker is the daemon's child under the same contract
// (descriptors, environment, process group, nice, command line as /proc shows it), so the
// rest of the pool never knows which it got. With cgroups, each worker gets its
// environment's cgroup, created here with the function's limits, and is in it before any
// code of the function runs.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "common/function_spec.h"
#include "pool/worker_spawn.h"
#include "pool/worker_uids.h"

namespace sofaas {

namespace cgroup {
class EnvironmentCgroup;
class EnvironmentCgroups;
}
class Zygote;

class WorkerLauncher {
public:
    // With `use_zygote`, starts the zygote now, from the calling thread: it must live as
    // long as the daemon (PR_SET_PDEATHSIG fires when the spawning thread exits). With
    // `worker_uids`, each worker runs as a uid of its own from that range (worker_uids.h)
    // and `worker_user` is not used. With `own_namespaces` (root only), each worker gets
    // pid, mount and IPC namespaces of its own (worker/zygote.h). With `cgroups`, each
    // environment gets a cgroup of its own.
    WorkerLauncher(std::filesystem::path worker_binary, std::string worker_user, bool use_zygote,
                   std::optional<UidRange> worker_uids = std::nullopt, bool own_namespaces = false,
                   std::shared_ptr<cgroup::EnvironmentCgroups> cgroups = nullptr);
    ~WorkerLauncher();
    WorkerLauncher(const WorkerLauncher&) = delete;
    WorkerLauncher& operator=(const WorkerLauncher&) = delete;

    // Thread-safe. Call from threads that live as long as the daemon (the pool's spawner
    // threads): a zygote started for one worker dies when its spawning thread exits.
    SpawnOutcome launch(const FunctionVersion& version);
    // Readies what the next launch would otherwise wait for (a worker uid: worker_uids.h).
    // Call it after a launch, once its environment is on its way.
    void prepare();
    // Makes cgroups ahead for the next cold starts. Blocks: for a spawner thread, once a
    // cold start's worker has answered (before, their mkdirs would compete with its entry
    // into its cgroup for the kernel's cgroup lock).
    void make_spare_cgroups();
    // A worker that had `uid` to itself (WorkerProcess::own_uid) is gone: the uid may be
    // handed out again.
    void release_uid(uid_t uid);

    // The zygote's pid while it serves.
    std::optional<pid_t> zygote_pid() const;

    // Kills the zygote; later launches start a zygote for each worker.
    void shutdown();

private:
    bool start_zygote();  // mutex_ held
    SpawnOutcome launch_as(const FunctionVersion& version, const std::string& user);
    SpawnOutcome launch_with(const FunctionVersion& version, const WorkerCommand& command,
                             const cgroup::EnvironmentCgroup* cgroup);
    SpawnOutcome launch_from_fresh_zygote(const WorkerCommand& command, const cgroup::EnvironmentCgroup* cgroup);

    const std::filesystem::path worker_binary_;
    const std::string worker_user_;
    const bool own_namespaces_;
    mutable std::mutex mutex_;  // one zygote request at a time
    std::unique_ptr<Zygote> zygote_;
    bool may_restart_;  // a zygote that dies is restarted once, then one zygote per worker
    std::unique_ptr<WorkerUids> uids_;
    const std::shared_ptr<cgroup::EnvironmentCgroups> cgroups_;
};

}  // namespace sofaas
