#include "identity/external_providers.h"

#include <curl/curl.h>

#include <condition_variable>
#include <map>
#include <mutex>
#include <thread>
#include <variant>

#include <spdlog/spdlog.h>

namespace sofaas::identity {
namespace {

// A JWKS is a few keys: more than this is not one.
constexpr size_t max_jwks_bytes = 1024 * 1024;

size_t collect(char* bytes, size_t size, size_t count, void* sink) {
    auto* body = static_cast<std::string*>(sink);
    const size_t length = size * count;
    if (body->size() + length > max_jwks_bytes) return 0;  // aborts the transfer
    body->append(bytes, length);
    return length;
}

// GET `url`: the body of a 200, or why not.
std::variant<std::string, std::string> fetch(const std::string& url, std::chrono::seconds timeout) {
    CURL* curl = curl_easy_init();
    if (curl == nullptr) return std::variant<std::string, std::string>(std::in_place_index<1>, "curl_easy_init failed");
    std::string body;
    curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
    // Only http(s), no redirects: the operator named the URL, nothing may send us elsewhere.
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, static_cast<long>(timeout.count()));
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_MAXFILESIZE, static_cast<long>(max_jwks_bytes));
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &body);
    const CURLcode code = curl_easy_perform(curl);
    long status = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(curl);
    if (code != CURLE_OK) return std::variant<std::string, std::string>(std::in_place_index<1>, curl_easy_strerror(code));
    if (status != 200) {
        return std::variant<std::string, std::string>(std::in_place_index<1>, "HTTP status " + std::to_string(status));
    }
    return std::variant<std::string, std::string>(std::in_place_index<0>, std::move(body));
}

}  // namespace

struct ExternalProviders::State {
    using Clock = std::chrono::steady_clock;
    struct Entry {
        ExternalProvider provider;
        std::vector<PublicKey> keys;
        uint64_t fetches = 0;
        Clock::time_point last_attempt{};
        Clock::time_point next_due{};  // the periodic refresh
        bool wanted = true;            // a fetch is asked for (at start: the first)
    };
    JwksFetchSettings settings;
    mutable std::mutex mutex;
    std::condition_variable wake;
    std::map<std::string, Entry, std::less<>> entries;
    bool stopping = false;
    std::thread thread;

    // Fetches what is due, one provider at a time, outside the lock.
    void run() {
        std::unique_lock lock(mutex);
        while (!stopping) {
            const auto now = Clock::now();
            Entry* due = nullptr;
            Clock::time_point earliest = now + settings.refresh_every;
            for (auto& [name, entry] : entries) {
                const auto allowed = entry.last_attempt + settings.min_refetch_interval;
                const bool first = entry.fetches == 0 && entry.last_attempt == Clock::time_point{};
                const auto ready = first ? now : std::max(allowed, entry.wanted ? allowed : entry.next_due);
                if (ready <= now) {
                    due = &entry;
                    break;
                }
                earliest = std::min(earliest, ready);
            }
            if (due == nullptr) {
                wake.wait_until(lock, earliest);
                continue;
            }
            due->last_attempt = now;
            due->wanted = false;
            const ExternalProvider provider = due->provider;
            lock.unlock();
            auto fetched = fetch(provider.jwks_url, settings.timeout);
            std::optional<std::vector<PublicKey>> keys;
            std::string failure;
            if (auto* body = std::get_if<0>(&fetched)) {
                keys = parse_jwks(*body);
                if (!keys) failure = "the answer is not a JWKS ({\"keys\": [...]})";
            } else {
                failure = std::get<1>(fetched);
            }
            lock.lock();
            Entry& entry = entries.find(provider.name)->second;
            if (keys) {
                spdlog::info("identity provider {}: {} signing keys from {}", provider.name, keys->size(),
                             provider.jwks_url);
                entry.keys = std::move(*keys);
                ++entry.fetches;
                entry.next_due = Clock::now() + settings.refresh_every;
            } else {
                // Keys fetched before stay in use: a provider that is down a moment does
                // not sign everyone out.
                spdlog::warn("identity provider {}: cannot fetch its keys from {}: {}", provider.name,
                             provider.jwks_url, failure);
                entry.next_due = Clock::now() + settings.min_refetch_interval;
            }
        }
    }
};

ExternalProviders::ExternalProviders(std::vector<ExternalProvider> providers, JwksFetchSettings settings)
    : state_(std::make_shared<State>()) {
    state_->settings = settings;
    for (auto& provider : providers) {
        std::string name = provider.name;
        state_->entries.emplace(std::move(name), State::Entry{std::move(provider)});
    }
    // Before the thread: curl's global setup is not safe to race with.
    if (!state_->entries.empty()) curl_global_init(CURL_GLOBAL_DEFAULT);
    if (!state_->entries.empty()) state_->thread = std::thread([state = state_] { state->run(); });
}

ExternalProviders::~ExternalProviders() {
    {
        std::lock_guard lock(state_->mutex);
        state_->stopping = true;
    }
    state_->wake.notify_all();
    if (state_->thread.joinable()) state_->thread.join();
}

std::optional<ExternalProvider> ExternalProviders::by_issuer(std::string_view issuer) const {
    std::lock_guard lock(state_->mutex);
    for (const auto& [name, entry] : state_->entries) {
        if (entry.provider.issuer == issuer) return entry.provider;
    }
    return std::nullopt;
}

std::vector<PublicKey> ExternalProviders::keys_for(std::string_view provider, std::string_view kid) const {
    std::lock_guard lock(state_->mutex);
    const auto entry = state_->entries.find(provider);
    if (entry == state_->entries.end()) return {};
    std::vector<PublicKey> matching;
    for (const PublicKey& key : entry->second.keys) {
        if (kid.empty() || key.kid == kid) matching.push_back(key);
    }
    if (matching.empty() && !kid.empty()) {
        entry->second.wanted = true;
        state_->wake.notify_all();
    }
    return matching;
}

uint64_t ExternalProviders::fetches(std::string_view provider) const {
    std::lock_guard lock(state_->mutex);
    const auto entry = state_->entries.find(provider);
    return entry == state_->entries.end() ? 0 : entry->second.fetches;
}

}  // namespace sofaas::identity
