// Aliases: names for versions, kept in DATA/functions/NAME/aliases.json, and resolve(),
// which turns a qualifier into the version an invocation runs.
#include <algorithm>
#include <charconv>
#include <cmath>
#include <random>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "common/file_io.h"
#include "registry/registry.h"
#include "registry/registry_journal.h"
#include "registry/registry_state.h"

namespace sofaas {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr std::string_view aliases_file_name = "aliases.json";
constexpr size_t max_alias_name_length = 128;
constexpr size_t max_description_length = 256;

bool all_digits(std::string_view text) {
    return !text.empty() && std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::optional<uint32_t> parse_version_number(std::string_view text) {
    uint32_t version = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), version);
    if (ec != std::errc() || end != text.data() + text.size() || version == 0) return std::nullopt;
    return version;
}

// A uniform double in [0, 1) from a per-thread xorshift64*: resolve() runs on every aliased
// call, from any thread, and needs neither a lock nor cryptographic quality.
double next_uniform() {
    thread_local uint64_t state = [] {
        std::random_device device;
        uint64_t seed = (uint64_t{device()} << 32) ^ device();
        return seed == 0 ? 0x9e3779b97f4a7c15ULL : seed;
    }();
    state ^= state >> 12;
    state ^= state << 25;
    state ^= state >> 27;
    return static_cast<double>((state * 0x2545f4914f6cdd1dULL) >> 11) * 0x1.0p-53;
}

json alias_to_json(const Alias& alias) {
    json weights = json::object();
    for (const auto& [version, weight] : alias.additional_version_weights) weights[std::to_string(version)] = weight;
    return {{"name", alias.name}, {"version", alias.version}, {"weights", weights}, {"description", alias.description}};
}

Alias alias_from_json(const json& object) {
    Alias alias;
    alias.name = object.at("name").get<std::string>();
    alias.version = object.at("version").get<uint32_t>();
    const json weights = object.value("weights", json::object());
    for (const auto& [version, weight] : weights.items()) {
        auto number = parse_version_number(version);
        if (!number) throw std::runtime_error("bad version \"" + version + "\" in weights");
        alias.additional_version_weights[*number] = weight.get<double>();
    }
    alias.description = object.value("description", "");
    return alias;
}

[[noreturn]] void invalid(std::string message) { throw RegistryError(RegistryError::Kind::invalid, std::move(message)); }

// What can be checked without the function: the name, the weights' bounds, the description.
void check_alias(const Alias& alias) {
    if (!is_valid_alias_name(alias.name)) {
        // Not echoed: it may hold anything, as a bad function name may.
        invalid("Invalid alias name (" + std::to_string(alias.name.size()) +
                " bytes): names are 1 to 128 characters of A-Z, a-z, 0-9, _ and -, not only digits");
    }
    if (alias.version == 0) invalid("an alias needs a version number (1 or more)");
    if (alias.additional_version_weights.size() > 1) invalid("an alias may route to at most one additional version");
    for (const auto& [version, weight] : alias.additional_version_weights) {
        if (version == alias.version) invalid("the additional version must differ from the alias's version");
        if (!std::isfinite(weight) || weight < 0.0 || weight >= 1.0) {
            invalid("the weight of version " + std::to_string(version) + " must be at least 0 and below 1");
        }
    }
    if (alias.description.size() > max_description_length) {
        invalid("the description is longer than " + std::to_string(max_description_length) + " characters");
    }
}

void write_aliases(const fs::path& function_dir, const std::map<std::string, Alias, std::less<>>& aliases) {
    json list = json::array();
    for (const auto& [name, alias] : aliases) list.push_back(alias_to_json(alias));
    replace_file_atomically(function_dir / aliases_file_name, json{{"aliases", list}}.dump(2) + "\n", 0600);
}

}  // namespace

void Registry::State::store_aliases(std::string_view function, std::map<std::string, Alias, std::less<>> aliases) {
    try {
        write_aliases(functions_dir / std::string(function), aliases);
    } catch (const std::exception& e) {
        throw RegistryError(RegistryError::Kind::storage, "cannot write the aliases of " + std::string(function) +
                                                              ": " + e.what());
    }
    std::unique_lock index_lock(index_mutex);
    index[std::string(function)].aliases = std::move(aliases);
}

std::string alias_to_text(const Alias& alias) {
    return alias_to_json(alias).dump();
}

Alias alias_from_text(std::string_view text) {
    return alias_from_json(json::parse(text));
}

bool is_valid_alias_name(std::string_view name) {
    if (name.empty() || name.size() > max_alias_name_length || all_digits(name)) return false;
    return std::all_of(name.begin(), name.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
    });
}

void load_aliases(const fs::path& function_dir, std::string_view function, FunctionEntry& entry) {
    std::error_code ec;
    if (!fs::exists(function_dir / aliases_file_name, ec)) return;
    try {
        const json file = json::parse(read_whole_file(function_dir / aliases_file_name));
        for (const json& object : file.at("aliases")) {
            Alias alias = alias_from_json(object);
            bool versions_exist = entry.versions.count(alias.version) != 0;
            for (const auto& [version, _] : alias.additional_version_weights) {
                versions_exist = versions_exist && entry.versions.count(version) != 0;
            }
            if (!is_valid_alias_name(alias.name) || !versions_exist) {
                spdlog::warn("registry: {}: skipping alias {}: bad name or missing version", function, alias.name);
                continue;
            }
            entry.aliases[alias.name] = std::move(alias);
        }
    } catch (const std::exception& e) {
        spdlog::warn("registry: {}: unreadable {} ({}), no aliases loaded", function, aliases_file_name, e.what());
    }
}

AliasChange Registry::set_alias(std::string_view function, Alias alias) {
    check_alias(alias);
    if (RegistryJournal* journal = state_->journal) {
        // The journal checks that the function and its versions exist, cluster-wide.
        const bool created = journal->record_alias(function, alias);
        return AliasChange{std::move(alias), created};
    }
    const std::optional<bool> created = state_->put_alias(function, alias, [&](const FunctionEntry& entry) {
        std::vector<uint32_t> wanted = {alias.version};
        for (const auto& [version, _] : alias.additional_version_weights) wanted.push_back(version);
        for (uint32_t version : wanted) {
            if (!entry.versions.count(version)) {
                throw RegistryError(RegistryError::Kind::not_found, "Function not found: " + std::string(function) +
                                                                       " version " + std::to_string(version));
            }
        }
    });
    if (!created) throw RegistryError(RegistryError::Kind::not_found, "Function not found: " + std::string(function));
    return AliasChange{std::move(alias), *created};
}

void Registry::apply_alias(std::string_view function, Alias alias) {
    if (!state_->put_alias(function, alias, nullptr)) {
        spdlog::warn("registry: alias {}:{} not applied: no function {} here", function, alias.name, function);
    }
}

std::optional<bool> Registry::State::put_alias(std::string_view function, const Alias& alias,
                                               const std::function<void(const FunctionEntry&)>& check) {
    auto function_lock = lock_for(function);
    std::lock_guard lock(*function_lock);
    std::map<std::string, Alias, std::less<>> kept;
    {
        std::shared_lock index_lock(index_mutex);
        auto it = index.find(function);
        if (it == index.end()) return std::nullopt;
        if (check) check(it->second);
        kept = it->second.aliases;
    }
    const bool created = !kept.count(alias.name);
    kept[alias.name] = alias;
    store_aliases(function, std::move(kept));
    spdlog::info("registry: alias {}:{} -> version {}", function, alias.name, alias.version);
    return created;
}

std::optional<Alias> Registry::alias(std::string_view function, std::string_view name) const {
    std::shared_lock lock(state_->index_mutex);
    auto it = state_->index.find(function);
    if (it == state_->index.end()) return std::nullopt;
    auto found = it->second.aliases.find(name);
    if (found == it->second.aliases.end()) return std::nullopt;
    return found->second;
}

std::vector<Alias> Registry::aliases(std::string_view function) const {
    std::shared_lock lock(state_->index_mutex);
    std::vector<Alias> out;
    auto it = state_->index.find(function);
    if (it == state_->index.end()) return out;
    for (const auto& [_, alias] : it->second.aliases) out.push_back(alias);
    return out;
}

bool Registry::remove_alias(std::string_view function, std::string_view name) {
    if (RegistryJournal* journal = state_->journal) return journal->record_alias_removal(function, name);
    return state_->remove_alias(function, name);
}

void Registry::apply_alias_removal(std::string_view function, std::string_view name) {
    state_->remove_alias(function, name);
}

bool Registry::State::remove_alias(std::string_view function, std::string_view name) {
    auto function_lock = lock_for(function);
    std::lock_guard lock(*function_lock);
    std::map<std::string, Alias, std::less<>> kept;
    {
        std::shared_lock index_lock(index_mutex);
        auto it = index.find(function);
        if (it == index.end() || !it->second.aliases.count(name)) return false;
        kept = it->second.aliases;
    }
    kept.erase(kept.find(name));
    store_aliases(function, std::move(kept));
    spdlog::info("registry: alias {}:{} deleted", function, name);
    return true;
}

ResolvedVersion Registry::resolve(std::string_view function, std::string_view qualifier) const {
    std::optional<uint32_t> number;
    if (all_digits(qualifier)) {
        number = parse_version_number(qualifier);
        if (!number) return {nullptr, ResolveFailure::no_version};
    } else if (!qualifier.empty() && qualifier != "$LATEST" && !is_valid_alias_name(qualifier)) {
        return {nullptr, ResolveFailure::bad_qualifier};
    }

    std::shared_lock lock(state_->index_mutex);
    auto it = state_->index.find(function);
    if (it == state_->index.end()) return {nullptr, ResolveFailure::no_function};
    const FunctionEntry& entry = it->second;
    if (qualifier.empty() || qualifier == "$LATEST") {
        if (auto latest = entry.latest_version()) return {std::move(latest), ResolveFailure::none};
        return {nullptr, ResolveFailure::no_function};
    }
    if (!number) {
        auto alias = entry.aliases.find(qualifier);
        if (alias == entry.aliases.end()) return {nullptr, ResolveFailure::no_alias};
        number = alias->second.version;
        for (const auto& [version, weight] : alias->second.additional_version_weights) {
            if (next_uniform() < weight) number = version;
        }
    }
    auto version = entry.versions.find(*number);
    if (version == entry.versions.end()) return {nullptr, ResolveFailure::no_version};
    return {version->second, ResolveFailure::none};
}

}  // namespace sofaas
