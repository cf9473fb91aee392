#include "pool/worker_launcher.h"

#include <spdlog/spdlog.h>

#include <variant>

#include "pool/zygote_process.h"

namespace sofaas {

WorkerLauncher::WorkerLauncher(std::filesystem::path worker_binary, std::string worker_user, bool use_zygote,
                               std::optional<UidRange> worker_uids, bool own_namespaces)
    : worker_binary_(std::move(worker_binary)),
      worker_user_(worker_uids ? std::string() : std::move(worker_user)),
      own_namespaces_(own_namespaces),
      may_restart_(use_zygote),
      uids_(worker_uids ? std::make_unique<WorkerUids>(*worker_uids) : nullptr) {
    if (use_zygote) {
        std::lock_guard lock(mutex_);
        may_restart_ = start_zygote();
    }
}

WorkerLauncher::~WorkerLauncher() {
    shutdown();
}

bool WorkerLauncher::start_zygote() {
    auto started = Zygote::start(worker_binary_, worker_user_, own_namespaces_);
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

void WorkerLauncher::release_uid(uid_t uid) {
    if (uids_) uids_->release(uid);
}

SpawnOutcome WorkerLauncher::launch_as(const FunctionVersion& version, const std::string& user) {
    const WorkerCommand command = worker_command(worker_binary_, version, user);
    {
        std::unique_lock lock(mutex_);
        if (!zygote_ && may_restart_) {
            may_restart_ = false;
            start_zygote();
        }
        if (zygote_) {
            auto opened = open_worker_channels();
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
    return launch_from_fresh_zygote(command);
}

// A fresh exec of sofaas-worker for this one worker: an address-space layout of its own.
// The zygote is killed once it has forked; its worker is the daemon's child and lives on.
SpawnOutcome WorkerLauncher::launch_from_fresh_zygote(const WorkerCommand& command) {
    auto started = Zygote::start(worker_binary_, worker_user_, own_namespaces_);
    if (auto* error = std::get_if<std::string>(&started)) return {std::nullopt, "no zygote: " + *error};
    Zygote& zygote = *std::get<std::unique_ptr<Zygote>>(started);
    auto opened = open_worker_channels();
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
