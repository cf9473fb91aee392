#include "pool/worker_launcher.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <string_view>
#include <variant>

#include "pool/zygote_process.h"

namespace sofaas {
namespace {

// A forked worker inherits the zygote's dynamic loader and malloc, which read their
// environment once, at exec: a function that sets LD_LIBRARY_PATH, LD_PRELOAD,
// GLIBC_TUNABLES or MALLOC_* expects them to act, so its workers are exec'd.
bool needs_exec(const FunctionSpec& spec) {
    return std::any_of(spec.env.begin(), spec.env.end(), [](const auto& variable) {
        const std::string_view key = variable.first;
        return key.starts_with("LD_") || key.starts_with("GLIBC_") || key.starts_with("MALLOC_");
    });
}

}  // namespace

WorkerLauncher::WorkerLauncher(std::filesystem::path worker_binary, std::string worker_user, bool use_zygote,
                               std::optional<UidRange> worker_uids)
    : worker_binary_(std::move(worker_binary)),
      worker_user_(worker_uids ? std::string() : std::move(worker_user)),
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
    auto started = Zygote::start(worker_binary_, worker_user_);
    if (auto* error = std::get_if<std::string>(&started)) {
        spdlog::warn("no zygote ({}): workers are started with posix_spawn, cold starts are slower", *error);
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
    WorkerCommand command = worker_command(worker_binary_, version, user);
    auto opened = open_worker_channels();
    if (auto* error = std::get_if<std::string>(&opened)) return {std::nullopt, std::move(*error)};
    WorkerChannels& channels = std::get<WorkerChannels>(opened);
    if (!needs_exec(version.spec)) {
        std::unique_lock lock(mutex_);
        if (!zygote_ && may_restart_) {
            may_restart_ = false;
            start_zygote();
        }
        if (zygote_) {
            Zygote::Fork fork = zygote_->fork_worker(command, std::move(channels));
            if (fork.process) return {std::move(fork.process), {}};
            spdlog::warn("zygote {} could not start a worker of {} version {} ({}); using posix_spawn",
                         zygote_->pid(), version.spec.name, version.spec.version, fork.error);
            if (fork.broken) {
                zygote_.reset();
                if (may_restart_) spdlog::warn("the zygote will be restarted once, at the next cold start");
            }
            lock.unlock();
            // The channels went to the zygote: the posix_spawn below gets fresh ones.
            opened = open_worker_channels();
            if (auto* error = std::get_if<std::string>(&opened)) return {std::nullopt, std::move(*error)};
        }
    }
    return spawn_worker(command, std::move(std::get<WorkerChannels>(opened)));
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
