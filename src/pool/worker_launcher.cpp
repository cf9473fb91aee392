#include "pool/worker_launcher.h"

#include <spdlog/spdlog.h>

#include <variant>

#include "cgroup/environment_cgroups.h"
#include "pool/zygote_process.h"

namespace sofaas {
namespace {

// A worker's channels, and how it enters `cgroup` when it has one.
std::variant<WorkerChannels, std::string> open_channels(const cgroup::EnvironmentCgroup* cgroup) {
    auto opened = open_worker_channels();
    if (!cgroup || std::holds_alternative<std::string>(opened)) return opened;
    WorkerChannels& channels = std::get<WorkerChannels>(opened);
    channels.cgroup = cgroup->placement();
    if (channels.cgroup.procs_files.empty()) return "cannot open the files of cgroup " + cgroup->path();
    return opened;
}

}  // namespace

WorkerLauncher::WorkerLauncher(std::filesystem::path worker_binary, std::string worker_user, bool use_zygote,
                               std::optional<UidRange> worker_uids, bool own_namespaces,
                               std::shared_ptr<cgroup::EnvironmentCgroups> cgroups)
    : worker_binary_(std::move(worker_binary)),
      worker_user_(worker_uids ? std::string() : std::move(worker_user)),
      own_namespaces_(own_namespaces),
      may_restart_(use_zygote),
      uids_(worker_uids ? std::make_unique<WorkerUids>(*worker_uids) : nullptr),
      cgroups_(std::move(cgroups)) {
    if (use_zygote) {
        std::lock_guard lock(mutex_);
        may_restart_ = start_zygote();
    }
}

WorkerLauncher::~WorkerLauncher() {
    shutdown();
}

bool WorkerLauncher::start_zygote() {
    // The zygote serving every cold start is also the one to thaw frozen environments
    // (cgroup v1) should the daemon die (worker/zygote.h).
    auto started = Zygote::start(worker_binary_, worker_user_, own_namespaces_, cgroups_ ? cgroups_->thaw_on_exit() : "");
    if (auto* error = std::get_if<std::string>(&started)) {
        spdlog::warn("no zygote ({}): each worker is forked by a zygote of its own, cold starts are slower", *error);
        return false;
    }
    zygote_ = std::move(std::get<std::unique_ptr<Zygote>>(started));
    spdlog::info("zygote {} ready: cold starts fork from it", zygote_->pid());
    return true;
}

SpawnOutcome WorkerLauncher::launch(const FunctionVersion& version) {
    if (!uids_) return launch_as(version, worker_user_);
    auto acquired = uids_->acquire();
    if (auto* error = std::get_if<std::string>(&acquired)) return {std::nullopt, std::move(*error)};
    const uid_t uid = std::get<uid_t>(acquired);
    std::string user = "#";  // sofaas-worker's form for a uid without a name
    user += std::to_string(uid);
    SpawnOutcome outcome = launch_as(version, user);
    if (outcome.process) {
        outcome.process->own_uid = uid;
    } else {
        uids_->release(uid);
    }
    return outcome;
}

void WorkerLauncher::prepare() {
    if (uids_) uids_->prepare();
}

void WorkerLauncher::make_spare_cgroups() {
    if (cgroups_) cgroups_->make_spares();
}

void WorkerLauncher::release_uid(uid_t uid) {
    if (uids_) uids_->release(uid);
}

SpawnOutcome WorkerLauncher::launch_as(const FunctionVersion& version, const std::string& user) {
    cgroup::EnvironmentCgroupPtr cgroup;
    if (cgroups_) {
        cgroup::Limits limits;
        limits.memory_bytes = static_cast<uint64_t>(version.spec.memory_mb) * 1024 * 1024;
        auto created = cgroups_->create_environment(limits);
        if (auto* error = std::get_if<std::string>(&created)) return {std::nullopt, "no cgroup: " + *error};
        cgroup = std::move(std::get<cgroup::EnvironmentCgroupPtr>(created));
    }
    const WorkerCommand command = worker_command(worker_binary_, version, user, cgroup != nullptr);
    SpawnOutcome outcome = launch_with(version, command, cgroup.get());
    if (outcome.process) outcome.process->cgroup = std::move(cgroup);
    return outcome;
}

SpawnOutcome WorkerLauncher::launch_with(const FunctionVersion& version, const WorkerCommand& command,
                                         const cgroup::EnvironmentCgroup* cgroup) {
    {
        std::unique_lock lock(mutex_);
        if (!zygote_ && may_restart_) {
            may_restart_ = false;
            start_zygote();
        }
        if (zygote_) {
            auto opened = open_channels(cgroup);
            if (auto* error = std::get_if<std::string>(&opened)) return {std::nullopt, std::move(*error)};
            Zygote::Fork fork = zygote_->fork_worker(command, std::move(std::get<WorkerChannels>(opened)));
            if (fork.process) return {std::move(fork.process), {}};
            spdlog::warn("zygote {} could not start a worker of {} version {} ({}); using a zygote of its own",
                         zygote_->pid(), version.spec.name, version.spec.version, fork.error);
            if (fork.broken) {
                zygote_.reset();
                if (may_restart_) spdlog::warn("the zygote will be restarted once, at the next cold start");
            }
        }
    }
    return launch_from_fresh_zygote(command, cgroup);
}

// A fresh exec of sofaas-worker for this one worker: an address-space layout of its own.
// The zygote is killed once it has forked; its worker is the daemon's child and lives on.
SpawnOutcome WorkerLauncher::launch_from_fresh_zygote(const WorkerCommand& command,
                                                      const cgroup::EnvironmentCgroup* cgroup) {
    auto started = Zygote::start(worker_binary_, worker_user_, own_namespaces_);
    if (auto* error = std::get_if<std::string>(&started)) return {std::nullopt, "no zygote: " + *error};
    Zygote& zygote = *std::get<std::unique_ptr<Zygote>>(started);
    auto opened = open_channels(cgroup);
    if (auto* error = std::get_if<std::string>(&opened)) return {std::nullopt, std::move(*error)};
    Zygote::Fork fork = zygote.fork_worker(command, std::move(std::get<WorkerChannels>(opened)));
    return {std::move(fork.process), std::move(fork.error)};
}

std::optional<pid_t> WorkerLauncher::zygote_pid() const {
    std::lock_guard lock(mutex_);
    if (!zygote_) return std::nullopt;
    return zygote_->pid();
}

void WorkerLauncher::shutdown() {
    std::lock_guard lock(mutex_);
    zygote_.reset();
    may_restart_ = false;
}

}  // namespace sofaas
