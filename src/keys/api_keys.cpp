#include "keys/api_keys.h"

#include <algorithm>
#include <map>
#include <mutex>

#include <nlohmann/json.hpp>

#include "common/file_io.h"
#include "common/function_spec.h"
#include "keys/random_text.h"

namespace sofaas {
namespace {

using nlohmann::json;

// AWS access key ids are 20 upper-case characters; ours start with SOFA so that a leaked
// one is recognisable in a log or a repository scan.
constexpr std::string_view id_prefix = "SOFA";
constexpr size_t id_random_chars = 16;
constexpr size_t secret_chars = 40;  // 238 bits

struct StoredKey {
    ApiKey key;
    std::string secret;
};

json to_json(const StoredKey& stored) {
    return {{"name", stored.key.name},
            {"access_key_id", stored.key.access_key_id},
            {"secret_access_key", stored.secret},
            {"scope", to_string(stored.key.scope)},
            {"functions", stored.key.functions},
            {"created", format_rfc3339(stored.key.created)}};
}

StoredKey from_json(const json& object) {
    StoredKey stored;
    stored.key.name = object.at("name").get<std::string>();
    stored.key.access_key_id = object.at("access_key_id").get<std::string>();
    stored.secret = object.at("secret_access_key").get<std::string>();
    const auto scope = parse_key_scope(object.at("scope").get<std::string>());
    if (!scope) throw std::runtime_error("key " + stored.key.name + " has an unknown scope");
    stored.key.scope = *scope;
    stored.key.functions = object.at("functions").get<std::vector<std::string>>();
    const auto created = parse_time_spec(object.at("created").get<std::string>(), wall_now());
    stored.key.created = created.value_or(WallTime{});
    return stored;
}

}  // namespace

std::string key_to_text(const CreatedKey& key) {
    return to_json(StoredKey{key.key, key.secret_access_key}).dump();
}

CreatedKey key_from_text(std::string_view text) {
    StoredKey stored = from_json(json::parse(text));
    if (!is_valid_function_name(stored.key.name)) throw std::runtime_error("a key with a bad name");
    return {std::move(stored.key), std::move(stored.secret)};
}

std::string_view to_string(KeyScope scope) {
    switch (scope) {
        case KeyScope::admin: return "admin";
        case KeyScope::invoke: return "invoke";
        case KeyScope::metrics: return "metrics";
    }
    return "invoke";
}

std::optional<KeyScope> parse_key_scope(std::string_view text) {
    if (text == "admin") return KeyScope::admin;
    if (text == "invoke") return KeyScope::invoke;
    if (text == "metrics") return KeyScope::metrics;
    return std::nullopt;
}

bool ApiKey::may_invoke(std::string_view function) const {
    if (scope == KeyScope::metrics) return false;
    if (scope == KeyScope::admin || functions.empty()) return true;
    return std::find(functions.begin(), functions.end(), function) != functions.end();
}

bool secrets_equal(std::string_view given, std::string_view expected) {
    // Every byte of `expected` is visited whatever `given` holds: no early exit.
    unsigned difference = given.size() == expected.size() ? 0 : 1;
    for (size_t i = 0; i < expected.size(); ++i) {
        const unsigned char g = i < given.size() ? static_cast<unsigned char>(given[i]) : 0;
        difference |= g ^ static_cast<unsigned char>(expected[i]);
    }
    return difference == 0;
}

struct KeyStore::State {
    std::filesystem::path file;
    KeyJournal* journal = nullptr;
    mutable std::mutex mutex;
    std::map<std::string, StoredKey, std::less<>> by_id;

    const StoredKey* named(std::string_view name) const {
        for (const auto& [id, stored] : by_id)
            if (stored.key.name == name) return &stored;
        return nullptr;
    }

    // Called with the mutex held; the file is replaced whole, so a crash leaves the old
    // set of keys or the new one.
    void save() const {
        json keys = json::array();
        for (const auto& [id, stored] : by_id) keys.push_back(to_json(stored));
        replace_file_atomically(file, json{{"keys", keys}}.dump(2) + "\n", 0600);
    }
};

KeyStore::KeyStore(std::filesystem::path file) : state_(std::make_unique<State>()) {
    state_->file = std::move(file);
    std::error_code missing;
    if (!std::filesystem::exists(state_->file, missing)) return;
    const json contents = json::parse(read_whole_file(state_->file), nullptr, false);
    if (!contents.is_object() || !contents.contains("keys") || !contents["keys"].is_array())
        throw std::runtime_error(state_->file.string() + " is not a key file");
    try {
        for (const auto& object : contents["keys"]) {
            StoredKey stored = from_json(object);
            state_->by_id.emplace(stored.key.access_key_id, std::move(stored));
        }
    } catch (const json::exception& error) {
        throw std::runtime_error(state_->file.string() + ": " + error.what());
    }
}

KeyStore::~KeyStore() = default;

CreatedKey KeyStore::create(const std::string& name, KeyScope scope, std::vector<std::string> functions) {
    // Key names follow the rule of function names: they appear in paths and logs.
    if (!is_valid_function_name(name))
        throw KeyError(KeyError::Kind::invalid, "Key names are 1-64 characters of A-Z a-z 0-9 _ -, not '" + name + "'");
    if (scope == KeyScope::admin && !functions.empty())
        throw KeyError(KeyError::Kind::invalid, "An admin key reaches every function; --function is for invoke keys");
    if (scope == KeyScope::metrics && !functions.empty())
        throw KeyError(KeyError::Kind::invalid, "A metrics key reads the metrics of every function; --function is for invoke keys");
    for (const auto& function : functions) {
        if (!is_valid_function_name(function))
            throw KeyError(KeyError::Kind::invalid, "Not a function name: '" + function + "'");
    }
    std::sort(functions.begin(), functions.end());
    functions.erase(std::unique(functions.begin(), functions.end()), functions.end());

    StoredKey stored;
    stored.key.name = name;
    stored.key.scope = scope;
    stored.key.functions = std::move(functions);
    stored.key.created = wall_now();
    stored.secret = random_text(secret_alphabet, secret_chars);

    const auto new_id = [] { return std::string(id_prefix) + random_text(access_key_id_alphabet, id_random_chars); };
    if (KeyJournal* journal = state_->journal) {
        // 80 random bits: two nodes never draw the same id.
        stored.key.access_key_id = new_id();
        const CreatedKey created{stored.key, stored.secret};
        journal->record_created(created);
        return created;
    }
    std::lock_guard lock(state_->mutex);
    if (state_->named(name)) throw KeyError(KeyError::Kind::exists, "A key named '" + name + "' exists");
    do {
        stored.key.access_key_id = new_id();
    } while (state_->by_id.count(stored.key.access_key_id));
    const std::string id = stored.key.access_key_id;
    state_->by_id.emplace(id, stored);
    try {
        state_->save();
    } catch (...) {
        state_->by_id.erase(id);
        throw;
    }
    return {stored.key, stored.secret};
}

void KeyStore::remove(const std::string& name) {
    if (KeyJournal* journal = state_->journal) {
        journal->record_removed(name);
        return;
    }
    std::lock_guard lock(state_->mutex);
    const StoredKey* stored = state_->named(name);
    if (!stored) throw KeyError(KeyError::Kind::not_found, "No key named '" + name + "'");
    StoredKey removed = *stored;
    state_->by_id.erase(removed.key.access_key_id);
    try {
        state_->save();
    } catch (...) {
        state_->by_id.emplace(removed.key.access_key_id, std::move(removed));
        throw;
    }
}

std::vector<ApiKey> KeyStore::list() const {
    std::vector<ApiKey> keys;
    {
        std::lock_guard lock(state_->mutex);
        for (const auto& [id, stored] : state_->by_id) keys.push_back(stored.key);
    }
    std::sort(keys.begin(), keys.end(), [](const ApiKey& a, const ApiKey& b) { return a.name < b.name; });
    return keys;
}

std::optional<ApiKey> KeyStore::verify(std::string_view access_key_id, std::string_view secret) const {
    std::lock_guard lock(state_->mutex);
    auto found = state_->by_id.find(access_key_id);
    // The id is public; only the secret is compared in constant time.
    if (found == state_->by_id.end() || !secrets_equal(secret, found->second.secret)) return std::nullopt;
    return found->second.key;
}

std::optional<CreatedKey> KeyStore::find(std::string_view access_key_id) const {
    std::lock_guard lock(state_->mutex);
    auto found = state_->by_id.find(access_key_id);
    if (found == state_->by_id.end()) return std::nullopt;
    return CreatedKey{found->second.key, found->second.secret};
}

void KeyStore::use_journal(KeyJournal* journal) {
    state_->journal = journal;
}

void KeyStore::apply_created(const CreatedKey& key) {
    std::lock_guard lock(state_->mutex);
    if (state_->by_id.count(key.key.access_key_id)) return;
    // The cluster's key of that name replaces one this node made before it joined.
    if (const StoredKey* same_name = state_->named(key.key.name)) {
        const std::string id = same_name->key.access_key_id;
        state_->by_id.erase(id);
    }
    state_->by_id.emplace(key.key.access_key_id, StoredKey{key.key, key.secret_access_key});
    state_->save();
}

void KeyStore::apply_removed(std::string_view name) {
    std::lock_guard lock(state_->mutex);
    const StoredKey* stored = state_->named(name);
    if (!stored) return;
    const std::string id = stored->key.access_key_id;
    state_->by_id.erase(id);
    state_->save();
}

}  // namespace sofaas
