// The thread that kills and removes the cgroups of environments that are gone (internal to
// src/cgroup). A cgroup is removable only once every process in it has died, which takes
// a moment after SIGKILL: it is tried again every few milliseconds until it is.
#pragma once

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "cgroup/environment_cgroup.h"

namespace sofaas::cgroup {

class Janitor {
public:
    Janitor();
    ~Janitor();  // finish(), if not done yet
    Janitor(const Janitor&) = delete;
    Janitor& operator=(const Janitor&) = delete;

    void take(std::unique_ptr<EnvironmentCgroup> cgroup);
    // Stops the thread after trying, for at most `limit`, to remove every cgroup it holds;
    // those still holding processes then are left (and logged). Later cgroups are removed
    // by the caller of take(), in one attempt.
    void finish(std::chrono::milliseconds limit);

private:
    void run();

    struct Entry {
        std::unique_ptr<EnvironmentCgroup> cgroup;
        int attempts = 0;
    };

    std::mutex mutex_;
    std::condition_variable wake_;
    std::vector<Entry> pending_;  // not yet removed, except those of the round under way
    size_t in_hand_ = 0;          // taken by the round under way
    bool arrived_ = false;        // something new since the last round
    bool finishing_ = false;
    bool finished_ = false;
    std::thread thread_;
};

}  // namespace sofaas::cgroup
