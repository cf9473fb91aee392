#include "identity/sign_in_throttle.h"

#include <algorithm>

namespace sofaas::identity {
namespace {

// Past this many tracked users or addresses the stale ones are dropped; a flood of
// made-up names cannot grow the maps for ever.
constexpr size_t throttle_entries_kept = 100'000;

std::chrono::seconds remaining(SignInThrottle::Clock::time_point until, SignInThrottle::Clock::time_point now) {
    return std::max(std::chrono::seconds(1), std::chrono::ceil<std::chrono::seconds>(until - now));
}

}  // namespace

std::optional<std::chrono::seconds> SignInThrottle::locked(std::string_view user_key, std::string_view address,
                                                           Clock::time_point now) const {
    std::lock_guard lock(mutex_);
    std::optional<std::chrono::seconds> wait;
    const auto longer = [&](Clock::time_point until) {
        if (until > now) wait = std::max(wait.value_or(std::chrono::seconds(0)), remaining(until, now));
    };
    if (const auto user = users_.find(std::string(user_key)); user != users_.end()) longer(user->second.locked_until);
    if (const auto from = addresses_.find(std::string(address)); from != addresses_.end()) {
        longer(from->second.locked_until);
    }
    return wait;
}

void SignInThrottle::failed(std::string_view user_key, std::string_view address, Clock::time_point now) {
    std::lock_guard lock(mutex_);
    if (users_.size() + addresses_.size() > throttle_entries_kept) forget_stale(now);
    Record& user = users_[std::string(user_key)];
    ++user.failures;
    if (user.failures >= settings_.max_failures) {
        // 1, 2, 4, ... times the lockout, from the failure that reached the limit on.
        const uint32_t doublings = std::min<uint32_t>(user.failures - settings_.max_failures, 16);
        const auto lockout = std::min(settings_.max_lockout, settings_.lockout * (int64_t{1} << doublings));
        user.locked_until = now + lockout;
    }
    Record& from = addresses_[std::string(address)];
    if (now - from.window_start > settings_.lockout) {
        from.window_start = now;
        from.failures = 0;
    }
    if (++from.failures >= settings_.max_failures_per_address) from.locked_until = now + settings_.lockout;
}

void SignInThrottle::succeeded(std::string_view user_key) {
    std::lock_guard lock(mutex_);
    users_.erase(std::string(user_key));
}

void SignInThrottle::forget_stale(Clock::time_point now) {
    const auto stale_user = [&](const auto& entry) { return entry.second.locked_until <= now; };
    const auto stale_address = [&](const auto& entry) {
        return entry.second.locked_until <= now && now - entry.second.window_start > settings_.lockout;
    };
    std::erase_if(users_, stale_user);
    std::erase_if(addresses_, stale_address);
}

}  // namespace sofaas::identity
