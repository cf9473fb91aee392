// Waiting for something asynchronous to become true, without a fixed sleep.
#pragma once

#include <chrono>
#include <functional>
#include <thread>

namespace sofaas::testing {

// Polls `condition` every 20 ms until it holds (true) or `limit` passes (false).
inline bool eventually(const std::function<bool()>& condition,
                       std::chrono::milliseconds limit = std::chrono::seconds(10)) {
    const auto until = std::chrono::steady_clock::now() + limit;
    while (!condition()) {
        if (std::chrono::steady_clock::now() > until) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return true;
}

}  // namespace sofaas::testing
