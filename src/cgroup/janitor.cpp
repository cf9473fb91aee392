#include "cgroup/janitor.h"

#include <spdlog/spdlog.h>

#include <utility>

namespace sofaas::cgroup {
namespace {
// SIGKILLed processes are gone within milliseconds, unless the kernel holds one in an
// uninterruptible wait: a cgroup still busy after that many attempts is reported once.
constexpr auto retry_period = std::chrono::milliseconds(10);
constexpr int attempts_before_warning = 500;

void report_left_behind(const EnvironmentCgroup& cgroup) {
    spdlog::warn("cgroup {} left behind: processes are still in it", cgroup.path());
}
}  // namespace

Janitor::Janitor() : thread_([this] { run(); }) {}

Janitor::~Janitor() {
    finish(std::chrono::seconds(2));
}

void Janitor::take(std::unique_ptr<EnvironmentCgroup> cgroup) {
    {
        std::lock_guard lock(mutex_);
        if (!finished_) {
            pending_.push_back({std::move(cgroup), 0});
            arrived_ = true;
            wake_.notify_one();
            return;
        }
    }
    if (!cgroup->remove()) report_left_behind(*cgroup);
}

void Janitor::finish(std::chrono::milliseconds limit) {
    std::unique_lock lock(mutex_);
    if (finishing_) return;
    finishing_ = true;
    const auto give_up = std::chrono::steady_clock::now() + limit;
    while ((!pending_.empty() || in_hand_ > 0) && std::chrono::steady_clock::now() < give_up) {
        lock.unlock();
        std::this_thread::sleep_for(retry_period);
        lock.lock();
    }
    finished_ = true;
    wake_.notify_one();
    lock.unlock();
    thread_.join();
    for (const Entry& left : pending_) report_left_behind(*left.cgroup);
    pending_.clear();
}

void Janitor::run() {
    std::unique_lock lock(mutex_);
    for (;;) {
        if (pending_.empty()) {
            wake_.wait(lock, [&] { return !pending_.empty() || finished_; });
        } else {
            wake_.wait_for(lock, retry_period, [&] { return arrived_ || finished_; });
        }
        if (finished_) return;
        arrived_ = false;
        std::vector<Entry> round = std::move(pending_);
        pending_.clear();
        in_hand_ = round.size();
        lock.unlock();
        std::erase_if(round, [](Entry& entry) {
            if (entry.cgroup->remove()) return true;
            if (++entry.attempts == attempts_before_warning)
                spdlog::warn("cgroup {} still holds processes after {} attempts to kill them", entry.cgroup->path(),
                             entry.attempts);
            return false;
        });
        lock.lock();
        in_hand_ = 0;
        for (Entry& entry : round) pending_.push_back(std::move(entry));
    }
}

}  // namespace sofaas::cgroup
