#include "gateway/invocation_replay.h"

#include <algorithm>
#include <utility>

#include "gateway/lambda_api.h"

namespace sofaas {
namespace {

constexpr size_t max_invocation_id_bytes = 128;

// Neither a caller, a function name nor an invocation id holds a line feed.
std::string joined(const InvocationKey& key) {
    return key.caller + '\n' + key.function + '\n' + key.invocation_id;
}

HttpResponseParts no_longer_kept() {
    return lambda_error(409, "ResourceConflictException", "this invocation already ran; its answer is no longer kept");
}

HttpResponseParts abandoned() {
    return lambda_error(500, "ServiceException", "The invocation this call retries did not finish; retry it");
}

}  // namespace

bool is_valid_invocation_id(std::string_view id) {
    if (id.empty() || id.size() > max_invocation_id_bytes) return false;
    return std::all_of(id.begin(), id.end(), [](char c) { return c >= 0x20 && c <= 0x7e; });
}

InvocationReplay::Claim::Claim(Claim&& other) noexcept
    : replay_(std::exchange(other.replay_, nullptr)), key_(std::move(other.key_)) {}

InvocationReplay::Claim::~Claim() {
    if (replay_) replay_->complete(key_, abandoned(), std::nullopt);
}

void InvocationReplay::Claim::finish(const HttpResponseParts& answer, std::chrono::seconds function_timeout) {
    if (auto* replay = std::exchange(replay_, nullptr)) replay->complete(key_, answer, function_timeout);
}

void InvocationReplay::Claim::release(const HttpResponseParts& answer) {
    if (auto* replay = std::exchange(replay_, nullptr)) replay->complete(key_, answer, std::nullopt);
}

InvocationReplay::InvocationReplay() : InvocationReplay(Bounds{}, std::chrono::steady_clock::now) {}

InvocationReplay::InvocationReplay(Bounds bounds, Clock clock) : bounds_(bounds), clock_(std::move(clock)) {}

std::optional<InvocationReplay::Claim> InvocationReplay::begin(const InvocationKey& key, AnswerCallback on_answer) {
    std::string joined_key = joined(key);
    HttpResponseParts answer;
    {
        std::lock_guard lock(mutex_);
        forget_expired(clock_());
        auto [entry, inserted] = entries_.try_emplace(joined_key);
        if (inserted) return Claim(this, std::move(joined_key));
        if (entry->second.running) {
            entry->second.waiters.push_back(std::move(on_answer));
            return std::nullopt;
        }
        answer = entry->second.answer ? *entry->second.answer : no_longer_kept();
    }
    on_answer(std::move(answer));
    return std::nullopt;
}

size_t InvocationReplay::remembered() const {
    std::lock_guard lock(mutex_);
    return entries_.size();
}

void InvocationReplay::complete(const std::string& key, const HttpResponseParts& answer,
                                std::optional<std::chrono::seconds> keep_for) {
    std::vector<AnswerCallback> waiters;
    {
        std::lock_guard lock(mutex_);
        const TimePoint now = clock_();
        forget_expired(now);
        const auto entry = entries_.find(key);
        if (entry == entries_.end()) return;
        waiters = std::move(entry->second.waiters);
        entry->second.waiters.clear();
        if (!keep_for) {
            entries_.erase(entry);
        } else {
            entry->second.running = false;
            entry->second.expiry = expiries_.emplace(now + std::max(*keep_for, bounds_.min_keep), key);
            if (answer.body.size() <= bounds_.max_answer_bytes) {
                entry->second.answer = answer;
                kept_bytes_ += answer.body.size();
            }
            trim();
        }
    }
    // Outside the lock: a waiter's callback may resume its coroutine right here.
    for (AnswerCallback& waiter : waiters) waiter(answer);
}

void InvocationReplay::forget_expired(TimePoint now) {
    while (!expiries_.empty() && expiries_.begin()->first <= now) forget(entries_.find(expiries_.begin()->second));
}

void InvocationReplay::forget(std::unordered_map<std::string, Entry>::iterator entry) {
    drop_body(entry->second);
    expiries_.erase(entry->second.expiry);
    entries_.erase(entry);
}

void InvocationReplay::drop_body(Entry& entry) {
    if (!entry.answer) return;
    kept_bytes_ -= entry.answer->body.size();
    entry.answer.reset();
}

// Past a bound, what is due to be forgotten first goes first: whole ids past the count,
// only bodies past the bytes, so that their retries are refused rather than run again.
void InvocationReplay::trim() {
    while (expiries_.size() > bounds_.max_remembered) forget(entries_.find(expiries_.begin()->second));
    for (auto due = expiries_.begin(); kept_bytes_ > bounds_.max_kept_bytes && due != expiries_.end(); ++due) {
        drop_body(entries_.find(due->second)->second);
    }
}

}  // namespace sofaas
