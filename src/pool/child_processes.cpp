#include "pool/child_processes.h"

#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <spdlog/spdlog.h>

namespace sofaas {
namespace {

struct ProcessStat {
    char state = '?';  // R, S, D, Z, ...
    pid_t parent = 0;
    pid_t process_group = 0;
};

// /proc/PID/stat: "pid (comm) state ppid pgrp ...". comm may hold spaces and parentheses,
// so the fields are read after the last ')'.
std::optional<ProcessStat> read_stat(const std::filesystem::path& stat_file) {
    std::ifstream file(stat_file);
    std::string line;
    if (!std::getline(file, line)) return std::nullopt;
    const size_t close = line.rfind(')');
    if (close == std::string::npos) return std::nullopt;
    std::istringstream fields(line.substr(close + 1));
    ProcessStat stat;
    if (!(fields >> stat.state >> stat.parent >> stat.process_group)) return std::nullopt;
    return stat;
}

std::optional<ProcessStat> read_stat(pid_t pid) {
    return read_stat(std::filesystem::path("/proc") / std::to_string(pid) / "stat");
}

bool is_pid(const std::string& name) {
    return !name.empty() && name.find_first_not_of("0123456789") == std::string::npos;
}

// /proc/self/task/*/children (CONFIG_PROC_CHILDREN): an orphan is handed to one of the
// subreaper's threads, so every thread's list counts. nullopt where the kernel lacks it.
std::optional<std::vector<pid_t>> children_by_task() {
    std::vector<pid_t> children;
    std::error_code ec;
    for (const auto& task : std::filesystem::directory_iterator("/proc/self/task", ec)) {
        std::ifstream file(task.path() / "children");
        if (!file) {
            if (!std::filesystem::exists(task.path() / "children")) return std::nullopt;
            continue;  // the thread has just exited
        }
        pid_t pid = 0;
        while (file >> pid) children.push_back(pid);
    }
    if (ec) return std::nullopt;
    return children;
}

// Without CONFIG_PROC_CHILDREN: every process whose parent is this one.
std::vector<pid_t> children_by_scan() {
    std::vector<pid_t> children;
    const pid_t self = ::getpid();
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator("/proc", ec)) {
        const std::string name = entry.path().filename().string();
        if (!is_pid(name)) continue;
        const auto stat = read_stat(entry.path() / "stat");
        if (stat && stat->parent == self) children.push_back(static_cast<pid_t>(std::stol(name)));
    }
    return children;
}

std::vector<pid_t> list_children() {
    if (auto children = children_by_task()) return std::move(*children);
    return children_by_scan();
}

// True while `pid` is a child of this process not yet waited for: then its pid cannot be
// reused, so signalling it cannot hit anyone else.
bool is_unreaped_child(pid_t pid) {
    siginfo_t info{};
    return ::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT) == 0;
}

}  // namespace

ChildProcesses& ChildProcesses::of_this_process() {
    static ChildProcesses children;
    return children;
}

std::optional<std::string> ChildProcesses::adopt_orphans() {
    if (::prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0) {
        return std::string("prctl(PR_SET_CHILD_SUBREAPER): ") + std::strerror(errno);
    }
    std::lock_guard lock(mutex_);
    adopting_ = true;
    return std::nullopt;
}

ChildProcesses::Birth::Birth(Birth&& other) noexcept
    : children_(std::exchange(other.children_, nullptr)), ticket_(other.ticket_) {}

ChildProcesses::Birth::~Birth() {
    if (children_ != nullptr) children_->end_birth(ticket_, std::nullopt);
}

void ChildProcesses::Birth::born(pid_t pid, pid_t process_group) {
    if (children_ != nullptr) std::exchange(children_, nullptr)->end_birth(ticket_, Born{pid, process_group});
}

ChildProcesses::Birth ChildProcesses::expect_birth() {
    std::lock_guard lock(mutex_);
    const uint64_t ticket = ++births_begun_;
    births_in_flight_.insert(ticket);
    return Birth(this, ticket);
}

void ChildProcesses::end_birth(uint64_t ticket, std::optional<Born> born) {
    std::lock_guard lock(mutex_);
    births_in_flight_.erase(ticket);
    if (born) {
        ++known_[born->pid];
        group_of_.emplace(born->pid, born->process_group);
        known_groups_.insert(born->process_group);
        suspects_.erase(born->pid);
    }
}

void ChildProcesses::reaped(pid_t pid) {
    std::lock_guard lock(mutex_);
    auto found = known_.find(pid);
    if (found != known_.end() && --found->second == 0) known_.erase(found);
    if (auto group = group_of_.find(pid); group != group_of_.end()) {
        known_groups_.erase(known_groups_.find(group->second));
        group_of_.erase(group);
    }
}

size_t ChildProcesses::kill_strangers() {
    std::lock_guard sweep(sweep_mutex_);
    {
        std::lock_guard lock(mutex_);
        if (!adopting_) return 0;
    }
    // Listed without the lock, so births go on meanwhile; everything decided afterwards
    // holds it, so no birth can reuse the pid of a child judged a stranger.
    const std::vector<pid_t> children = list_children();

    std::lock_guard lock(mutex_);
    const uint64_t oldest_birth_in_flight =
        births_in_flight_.empty() ? std::numeric_limits<uint64_t>::max() : *births_in_flight_.begin();
    std::unordered_map<pid_t, uint64_t> suspects;
    size_t strangers = 0;
    std::vector<pid_t> killed;
    for (const pid_t pid : children) {
        if (known_.contains(pid)) continue;
        auto seen = suspects_.find(pid);
        const uint64_t seen_at = seen != suspects_.end() ? seen->second : births_begun_;
        suspects.emplace(pid, seen_at);
        // A birth begun before this child was seen may still be about to name it.
        if (oldest_birth_in_flight <= seen_at) continue;
        // A worker waited for (and forgotten) since the listing is no child any more.
        if (!is_unreaped_child(pid)) continue;
        const auto stat = read_stat(pid);
        if (!stat) continue;
        ++strangers;
        if (stat->state == 'Z') {
            ::waitpid(pid, nullptr, WNOHANG);
            continue;
        }
        if (known_groups_.contains(stat->process_group)) continue;  // dies with that worker's group
        killed.push_back(pid);
        ::kill(pid, SIGKILL);
        // What it forked into its own group goes too. Only the group it leads: any other
        // group id might be someone else's (the daemon's own, even).
        if (stat->process_group == pid) ::kill(-pid, SIGKILL);
        ::waitpid(pid, nullptr, WNOHANG);  // usually still dying: the next sweep reaps it
    }
    suspects_ = std::move(suspects);
    // One line per sweep: a function that forked a thousand processes is one event.
    if (!killed.empty()) {
        spdlog::warn("killed {} process(es) left behind by functions' workers, e.g. pid {}", killed.size(),
                     killed.front());
    }
    return strangers;
}

}  // namespace sofaas
