// A retried Invoke does not run the function twice. The AWS SDKs put an
// amz-sdk-invocation-id (a UUID) on every call and keep it across that call's retries;
// botocore's legacy retry mode retries a read timeout with it, while the first attempt
// still runs. InvocationReplay remembers invocations by (caller, function, invocation id):
// a retry of one that still runs waits for it and gets its answer; a retry of one that
// finished gets the same answer again, for the function's timeout and at least a minute.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "gateway/http_event.h"

namespace sofaas {

struct InvocationKey {
    std::string caller;         // the access key id, or "admin"
    std::string function;
    std::string invocation_id;  // amz-sdk-invocation-id
};

// An invocation id as the SDKs send it: 1 to 128 printable ASCII characters.
bool is_valid_invocation_id(std::string_view id);

class InvocationReplay {
public:
    using Clock = std::function<std::chrono::steady_clock::time_point()>;
    // Runs once with the answer, on whichever thread has it (the first call's, when the
    // retry waited for it).
    using AnswerCallback = std::function<void(HttpResponseParts)>;

    // What is kept, so that a burst of large answers cannot take the host's memory.
    struct Bounds {
        size_t max_remembered = 10'000;        // finished invocations; beyond, the one due to go first goes
        size_t max_answer_bytes = 1 << 20;     // a larger body is not kept: its retries get a 409
        size_t max_kept_bytes = 64 << 20;      // all kept bodies; beyond, the bodies due to go first go
        std::chrono::seconds min_keep{60};     // botocore's default read timeout
    };

    // The first call's hold on its key. Exactly one of finish and release, once; destroyed
    // without either (the handler threw), the waiting retries get a 500 ServiceException
    // and the key is forgotten.
    class Claim {
    public:
        Claim(Claim&& other) noexcept;
        Claim& operator=(Claim&&) = delete;
        ~Claim();

        // The function ran: the waiting retries get `answer`, and later ones too, for
        // max(function_timeout, min_keep).
        void finish(const HttpResponseParts& answer, std::chrono::seconds function_timeout);
        // The function did not run (throttled, billing unavailable): the waiting retries
        // get `answer`, and the key is forgotten so that a later retry runs it.
        void release(const HttpResponseParts& answer);

    private:
        friend class InvocationReplay;
        Claim(InvocationReplay* replay, std::string key) : replay_(replay), key_(std::move(key)) {}
        InvocationReplay* replay_;
        std::string key_;
    };

    InvocationReplay();
    InvocationReplay(Bounds bounds, Clock clock);

    // The first call with `key` gets a Claim, runs the invocation and finishes the claim;
    // `on_answer` is not used. Any other call gets none, and `on_answer` runs once: at once
    // (inside this call) with the kept answer, or the 409 when it is no longer kept; else
    // when the first one finishes.
    std::optional<Claim> begin(const InvocationKey& key, AnswerCallback on_answer);

    // Invocations remembered, running or finished.
    size_t remembered() const;

private:
    using TimePoint = std::chrono::steady_clock::time_point;
    struct Entry {
        bool running = true;
        std::vector<AnswerCallback> waiters;
        std::optional<HttpResponseParts> answer;  // finished, and its body is still kept
        std::multimap<TimePoint, std::string>::iterator expiry;
    };

    void complete(const std::string& key, const HttpResponseParts& answer,
                  std::optional<std::chrono::seconds> keep_for);
    void forget_expired(TimePoint now);
    void forget(std::unordered_map<std::string, Entry>::iterator entry);
    void drop_body(Entry& entry);
    void trim();

    const Bounds bounds_;
    const Clock clock_;
    mutable std::mutex mutex_;
    std::unordered_map<std::string, Entry> entries_;
    std::multimap<TimePoint, std::string> expiries_;  // the finished ones, by when they are forgotten
    size_t kept_bytes_ = 0;
};

}  // namespace sofaas
