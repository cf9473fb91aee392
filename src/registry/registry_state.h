// What the registry keeps in memory, shared by its .cpp files (not part of its contract).
#pragma once

#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <string_view>

#include "registry/registry.h"

namespace sofaas {

struct FunctionEntry {
    std::map<uint32_t, FunctionVersionPtr> versions;
    uint32_t latest = 0;
    std::map<std::string, Alias, std::less<>> aliases;

    FunctionVersionPtr latest_version() const {
        auto it = versions.find(latest);
        return it == versions.end() ? nullptr : it->second;
    }
};

struct Registry::State {
    std::filesystem::path functions_dir;

    // Guards the index; a writer also holds its function's lock (below) from reading the
    // index to updating it, so that writes of one function are ordered.
    mutable std::shared_mutex index_mutex;
    std::map<std::string, FunctionEntry, std::less<>> index;
    std::map<std::string, uint32_t, std::less<>> highest_published;  // survives remove()

    std::mutex locks_mutex;
    std::map<std::string, std::shared_ptr<std::mutex>, std::less<>> function_locks;
    // Held by publishes that declare routes, so two functions cannot claim one route at once.
    std::mutex routes_mutex;

    std::shared_ptr<std::mutex> lock_for(std::string_view function) {
        std::lock_guard lock(locks_mutex);
        auto& slot = function_locks[std::string(function)];
        if (!slot) slot = std::make_shared<std::mutex>();
        return slot;
    }

    RegistryJournal* journal = nullptr;  // a cluster's node: changes go through it

    std::optional<FunctionEntry> load_function(const std::filesystem::path& dir, const std::string& name);
    // Writes a function's aliases, then puts them in force; the caller holds the function's
    // lock. Throws RegistryError (storage).
    void store_aliases(std::string_view function, std::map<std::string, Alias, std::less<>> aliases);
    void check_routes_free(const FunctionSpec& spec) const;
    // Moves a staged directory into place as version spec.version (numbered, dated) and
    // puts it in force, $LATEST unless a higher version is; the caller holds the
    // function's lock. Throws std::exception (disk).
    FunctionVersionPtr install(const std::filesystem::path& staged_directory, const FunctionSpec& spec,
                               uint32_t* replaced);
    // latest.json: which version is $LATEST. Throws std::exception.
    void write_latest(const std::string& function, uint32_t version);
    // Makes `version` $LATEST if it is higher than the one in force. Throws std::exception.
    void raise_latest(const std::string& function, uint32_t version, uint32_t* replaced);
    // A staging directory in the function's directory, made if needed.
    std::filesystem::path make_staging_directory(const std::string& function);
    bool remove_local(std::string_view function);
    bool remove_alias(std::string_view function, std::string_view name);
    // Creates or replaces one alias under the function's lock, after `check` (when set; it
    // may throw) has seen the function. true: created; nullopt: no such function.
    std::optional<bool> put_alias(std::string_view function, const Alias& alias,
                                  const std::function<void(const FunctionEntry&)>& check);
};

// aliases.json of a function directory (aliases.cpp). Aliases naming a version that is not
// in `entry` are logged and dropped.
void load_aliases(const std::filesystem::path& function_dir, std::string_view function, FunctionEntry& entry);

}  // namespace sofaas
