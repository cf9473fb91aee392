#include "scheduler/throttle_history.h"

#include <algorithm>

namespace sofaas {

void ThrottleHistory::record(const std::string& function, WallTime when) {
    const WallTime second = std::chrono::floor<std::chrono::seconds>(when);
    std::lock_guard lock(mutex_);
    std::deque<ThrottleCount>& counts = by_function_[function];
    // A clock stepped back lands in the newest second rather than out of order.
    if (!counts.empty() && second <= counts.back().second) {
        ++counts.back().count;
    } else {
        counts.push_back(ThrottleCount{second, 1});
    }
    while (counts.front().second < counts.back().second - kept) counts.pop_front();
}

std::vector<ThrottleCount> ThrottleHistory::counts_since(const std::string& function, WallTime since) const {
    std::lock_guard lock(mutex_);
    const auto found = by_function_.find(function);
    if (found == by_function_.end()) return {};
    const std::deque<ThrottleCount>& counts = found->second;
    const auto first = std::lower_bound(counts.begin(), counts.end(), since,
                                        [](const ThrottleCount& c, WallTime t) { return c.second < t; });
    return {first, counts.end()};
}

void ThrottleHistory::remove(const std::string& function) {
    std::lock_guard lock(mutex_);
    by_function_.erase(function);
}

}  // namespace sofaas
