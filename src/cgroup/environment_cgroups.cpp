#include "cgroup/environment_cgroups.h"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <filesystem>
#include <thread>
#include <vector>

#include <spdlog/spdlog.h>

#include "cgroup/cgroup_v1.h"
#include "cgroup/cgroup_v2.h"
#include "cgroup/control_file.h"
#include "cgroup/janitor.h"

namespace sofaas::cgroup {

std::optional<Usage> EnvironmentCgroup::usage() const {
    const auto peak = peak_memory_bytes();
    const auto cpu = cpu_ns();
    const auto oom = oom_kills();
    const auto now_tasks = tasks();
    if (!peak || !cpu || !oom || !now_tasks) return std::nullopt;
    return Usage{*peak, *cpu, *oom, *now_tasks};
}
namespace {

namespace fs = std::filesystem;

constexpr std::string_view own_prefix = "sofaas-";

// cgroup v1 only: an empty cgroup kept frozen while the daemon runs. The kernel switches
// its v1 freezer on (a static key: code patched on every CPU) when a first cgroup starts
// freezing and off when the last one thaws, about 150 us each way; an environment frozen
// and thawed alone would pay that at every event.
constexpr std::string_view frozen_anchor = "frozen";

std::atomic<uint64_t> next_environment{1};

// Enough for a burst of two cold starts at once (the pool's two spawner threads).
constexpr size_t spare_count = 2;

std::string next_environment_name() {
    return "env-" + std::to_string(next_environment.fetch_add(1, std::memory_order_relaxed));
}

// Each hierarchy's directory once, the freezer's first: processes frozen there act on a
// SIGKILL only once thawed, so that hierarchy is the one to clear before the others.
std::vector<fs::path> hierarchies(const Layout& layout) {
    std::vector<fs::path> directories;
    for (const fs::path& directory : {layout.freezer, layout.memory, layout.pids, layout.cpuacct}) {
        if (std::find(directories.begin(), directories.end(), directory) == directories.end())
            directories.push_back(directory);
    }
    return directories;
}

// `sofaas-PID` of a daemon that is no longer running.
bool left_by_a_gone_daemon(const std::string& name) {
    if (!name.starts_with(own_prefix)) return false;
    pid_t pid = 0;
    const char* digits = name.data() + own_prefix.size();
    const auto [end, error] = std::from_chars(digits, name.data() + name.size(), pid);
    if (error != std::errc{} || end != name.data() + name.size() || pid <= 0 || pid == ::getpid()) return false;
    return ::kill(pid, 0) != 0 && errno == ESRCH;
}

// Kills whatever is in `directory` and in the cgroups below it, then removes them all.
void remove_tree(const fs::path& directory) {
    std::error_code ignored;
    for (const auto& entry : fs::directory_iterator(directory, ignored))
        if (entry.is_directory(ignored)) remove_tree(entry.path());
    const fs::path freezer_state = directory / "freezer.state";
    const bool v1_freezer = fs::exists(freezer_state);
    if (fs::exists(directory / "cgroup.kill")) {
        write_control(directory / "cgroup.kill", "1");
    } else {
        if (v1_freezer) write_control(freezer_state, "FROZEN");
        for (const pid_t pid : listed_processes(directory / "cgroup.procs")) ::kill(pid, SIGKILL);
    }
    if (v1_freezer) write_control(freezer_state, "THAWED");
    for (int attempt = 0; attempt < 100; ++attempt) {
        std::string error;
        if (remove_directory(directory, &error)) return;
        if (!error.empty()) {
            spdlog::warn("{}", error);
            return;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    spdlog::warn("cgroup {} left behind: processes are still in it", directory.string());
}

void remove_those_of_gone_daemons(const fs::path& base) {
    std::error_code ignored;
    for (const auto& entry : fs::directory_iterator(base, ignored)) {
        if (entry.is_directory(ignored) && left_by_a_gone_daemon(entry.path().filename().string())) {
            spdlog::info("removing cgroup {}, left by a daemon that is gone", entry.path().string());
            remove_tree(entry.path());
        }
    }
}

// Where sofaas-PID goes under v2: the daemon's cgroup when it can delegate memory and pids
// to its children, else its parent, which does (the daemon's cgroup offers both: the
// layout checked). A cgroup holding processes cannot enable controllers for its children,
// unless it is the root.
fs::path v2_base(const fs::path& own) {
    const fs::path subtree_control = own / "cgroup.subtree_control";
    if (const auto enabled = read_control(subtree_control); enabled && lists(*enabled, "memory") && lists(*enabled, "pids"))
        return own;
    if (!write_control(subtree_control, "+memory +pids")) return own;
    return own.parent_path();
}

}  // namespace

void Retire::operator()(EnvironmentCgroup* cgroup) const {
    std::unique_ptr<EnvironmentCgroup> owned(cgroup);
    if (auto janitor_now = janitor.lock()) {
        janitor_now->take(std::move(owned));
    } else if (!owned->remove()) {
        spdlog::warn("cgroup {} left behind: processes are still in it", owned->path());
    }
}

std::variant<std::shared_ptr<EnvironmentCgroups>, std::string> EnvironmentCgroups::create(const Layout& layout) {
    const std::string name = std::string(own_prefix) + std::to_string(::getpid());
    Layout tree = layout;
    std::vector<fs::path> bases = hierarchies(layout);
    if (layout.version == Version::v2) bases = {v2_base(layout.memory)};
    std::vector<fs::path> created;
    const auto undo = [&](std::string error) {
        for (const fs::path& directory : created) remove_tree(directory);
        return error;
    };
    for (const fs::path& base : bases) {
        remove_those_of_gone_daemons(base);
        if (auto error = make_directory(base / name)) return undo(std::move(*error));
        created.push_back(base / name);
    }
    if (layout.version == Version::v2) {
        const fs::path directory = bases.front() / name;
        if (auto error = write_control(directory / "cgroup.subtree_control", "+memory +pids"))
            return undo(std::move(*error));
        tree = Layout{Version::v2, directory, directory, directory, directory};
    } else {
        for (fs::path* directory : {&tree.memory, &tree.pids, &tree.freezer, &tree.cpuacct}) *directory /= name;
        const fs::path anchor = tree.freezer / frozen_anchor;
        if (auto error = make_directory(anchor)) return undo(std::move(*error));
        if (auto error = write_control(anchor / "freezer.state", "FROZEN")) return undo(std::move(*error));
    }
    std::shared_ptr<EnvironmentCgroups> cgroups(new EnvironmentCgroups(tree, std::make_shared<Janitor>()));
    cgroups->make_spares();
    return cgroups;
}

EnvironmentCgroups::EnvironmentCgroups(Layout tree, std::shared_ptr<Janitor> janitor)
    : tree_(std::move(tree)), janitor_(std::move(janitor)) {}

std::variant<std::unique_ptr<EnvironmentCgroup>, std::string> EnvironmentCgroups::make(const std::string& name) const {
    if (tree_.version == Version::v1) {
        if (auto error = make_directories_v1(tree_, name)) return std::move(*error);
        auto opened = open_v1(tree_, name);
        if (std::holds_alternative<std::string>(opened)) remove_directories_v1(tree_, name);
        return opened;
    }
    const std::filesystem::path directory = tree_.memory / name;
    if (auto error = make_directory(directory)) return std::move(*error);
    auto opened = open_v2(directory);
    if (std::holds_alternative<std::string>(opened)) remove_directory(directory);
    return opened;
}

void EnvironmentCgroups::make_spares() {
    for (;;) {
        {
            std::lock_guard lock(spares_mutex_);
            if (spares_.size() >= spare_count) return;
        }
        auto made = make(next_environment_name());
        // create_environment makes its own, and says why it cannot.
        if (std::holds_alternative<std::string>(made)) return;
        std::lock_guard lock(spares_mutex_);
        spares_.push_back(std::get<std::unique_ptr<EnvironmentCgroup>>(std::move(made)));
    }
}

EnvironmentCgroups::~EnvironmentCgroups() {
    janitor_->finish(std::chrono::seconds(2));
    for (const auto& spare : spares_) spare->remove();
    // The frozen anchor (v1), and whatever the janitor had to leave.
    for (const fs::path& directory : hierarchies(tree_)) remove_tree(directory);
}

std::variant<EnvironmentCgroupPtr, std::string> EnvironmentCgroups::create_environment(const Limits& limits) {
    std::unique_ptr<EnvironmentCgroup> cgroup;
    {
        std::lock_guard lock(spares_mutex_);
        if (!spares_.empty()) {
            cgroup = std::move(spares_.back());
            spares_.pop_back();
        }
    }
    if (!cgroup) {
        auto made = make(next_environment_name());
        if (auto* error = std::get_if<std::string>(&made)) return std::move(*error);
        cgroup = std::get<std::unique_ptr<EnvironmentCgroup>>(std::move(made));
    }
    EnvironmentCgroupPtr owned(cgroup.release(), Retire{janitor_});
    if (auto error = owned->limit(limits)) return std::move(*error);  // `owned` is removed
    return owned;
}

}  // namespace sofaas::cgroup
