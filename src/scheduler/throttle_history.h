// How many requests the scheduler throttled, per function and second, over the last day.
// Throttled requests never run and are never billed, so the ledger has no line for them:
// this is where a chart of a function's throttles reads them (GET .../activity). Kept in
// memory: it starts empty with the daemon.
#pragma once

#include <deque>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "billing/activity.h"
#include "common/time.h"

namespace sofaas {

class ThrottleHistory {
public:
    // Seconds older than this before the newest are forgotten: at most 86,400 counts a
    // function, however long it is throttled.
    static constexpr std::chrono::hours kept{24};

    // Thread-safe, as every member.
    void record(const std::string& function, WallTime when);
    // The function's counts from `since` on, oldest first.
    std::vector<ThrottleCount> counts_since(const std::string& function, WallTime since) const;
    void remove(const std::string& function);

private:
    mutable std::mutex mutex_;
    std::unordered_map<std::string, std::deque<ThrottleCount>> by_function_;
};

}  // namespace sofaas
