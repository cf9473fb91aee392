// Lockout after repeated failed sign-ins: per user of a pool (whether or not the user
// exists, so a lockout tells nothing about who has an account) and per source address
// (one address guessing at many users). Kept in memory: a restart forgets it, as a
// restart of a guessing client would lose nothing either.
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace sofaas::identity {

struct ThrottleSettings {
    uint32_t max_failures = 5;                 // consecutive, per user
    std::chrono::seconds lockout{60};          // the first lockout; each further failure doubles it
    std::chrono::seconds max_lockout{15 * 60};
    uint32_t max_failures_per_address = 20;    // within one lockout period, all users together
};

class SignInThrottle {
public:
    using Clock = std::chrono::steady_clock;
    explicit SignInThrottle(ThrottleSettings settings) : settings_(settings) {}

    // How long this attempt must wait, or nullopt: it may go ahead.
    std::optional<std::chrono::seconds> locked(std::string_view user_key, std::string_view address,
                                               Clock::time_point now = Clock::now()) const;
    void failed(std::string_view user_key, std::string_view address, Clock::time_point now = Clock::now());
    void succeeded(std::string_view user_key);

private:
    struct Record {
        uint32_t failures = 0;
        Clock::time_point window_start;  // addresses: when their count began
        Clock::time_point locked_until;
    };
    void forget_stale(Clock::time_point now);

    ThrottleSettings settings_;
    mutable std::mutex mutex_;
    std::unordered_map<std::string, Record> users_;
    std::unordered_map<std::string, Record> addresses_;
};

}  // namespace sofaas::identity
