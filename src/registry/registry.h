// The registry: functions on disk as immutable numbered versions.
//
//   DATA/functions/NAME/versions/N/{function.so,spec.json}
//   DATA/functions/NAME/latest.json   {"version": N}
//   DATA/functions/NAME/aliases.json  {"aliases": [{"name", "version", "weights", "description"}]}
//
// A deploy is staged (written + fsync'd into a temp directory), checked by the caller
// (trial load), then published by rename, so no half-written version is ever visible.
//
// Every directory is 0700 and every file 0600 but the libraries: a worker opens its
// function.so while it still has the daemon's privileges, then dlopens it through
// /proc/self/fd after dropping them, and that reopen checks the file's mode. So a
// library is 0644, which no one else can use: nothing can reach it through its
// directories.
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/function_spec.h"
#include "registry/deploy_settings.h"

namespace sofaas {

class RegistryJournal;

// A version written to disk but not yet visible.
struct StagedVersion {
    std::string function;
    std::filesystem::path directory;
    FunctionVersionPtr candidate;  // spec with version 0; library inside `directory`
    // publish() refuses (conflict) unless this version is still $LATEST; 0: whatever is.
    uint32_t based_on = 0;
};

// An alias, as Lambda's: a name for one version, or for two with a share of the calls
// going to the second (RoutingConfig.AdditionalVersionWeights).
struct Alias {
    std::string name;
    uint32_t version = 0;
    std::map<uint32_t, double> additional_version_weights;  // at most one version, weight in [0, 1)
    std::string description;                                 // at most 256 characters
};

// An alias as the JSON text aliases.json keeps, for a cluster's journal. alias_from_text
// throws std::exception when the text is not one.
std::string alias_to_text(const Alias& alias);
Alias alias_from_text(std::string_view text);

// Lambda's alias names: [A-Za-z0-9_-]{1,128}, not all digits (those name versions).
bool is_valid_alias_name(std::string_view name);

// Why a qualifier names no version.
enum class ResolveFailure {
    none,
    bad_qualifier,  // neither "", "$LATEST", a version number nor an alias name
    no_function,
    no_version,
    no_alias,
};

struct ResolvedVersion {
    FunctionVersionPtr version;  // null when `failure` says why
    ResolveFailure failure = ResolveFailure::none;
};

struct AliasChange {
    Alias alias;
    bool created = false;
};

inline constexpr std::string_view library_file_name = "function.so";

class Registry {
public:
    explicit Registry(std::filesystem::path functions_dir);
    ~Registry();

    // Reads every function from disk. Broken entries are logged and skipped.
    size_t load();

    // Throws RegistryError (bad name, route conflict, disk error).
    StagedVersion stage(std::string_view function, std::string_view library_bytes,
                        const FunctionSettings& settings);
    // Assigns the next version number (strictly increasing per function, even under
    // concurrent deploys) and makes it $LATEST. `replaced` receives the version that was
    // $LATEST until now (0 if none), decided under the same lock, so that concurrent
    // deploys each retire exactly the version they replaced.
    FunctionVersionPtr publish(StagedVersion staged, uint32_t* replaced = nullptr);
    // A new version with `base`'s library (hard-linked, else copied) and new settings, as
    // Lambda's UpdateFunctionConfiguration; publish() refuses it if another version became
    // $LATEST meanwhile, so that no deploy is undone unseen. Throws RegistryError.
    StagedVersion stage_settings(const FunctionVersionPtr& base, const FunctionSettings& settings);
    void discard(StagedVersion staged) noexcept;

    FunctionVersionPtr latest(std::string_view function) const;
    FunctionVersionPtr find(std::string_view function, uint32_t version) const;
    std::vector<FunctionVersionPtr> list_latest() const;   // sorted by name
    std::vector<uint32_t> versions(std::string_view function) const;
    // Removes the function, all its versions and its aliases; false if it did not exist.
    // Throws RegistryError only on a cluster's node (unavailable, storage).
    bool remove(std::string_view function);

    // Creates or replaces an alias. Throws RegistryError: invalid (bad name, weights or
    // description), not_found (no such function or version), storage.
    AliasChange set_alias(std::string_view function, Alias alias);
    std::optional<Alias> alias(std::string_view function, std::string_view name) const;
    std::vector<Alias> aliases(std::string_view function) const;  // sorted by name
    // false if there was no such alias. Throws RegistryError (storage).
    bool remove_alias(std::string_view function, std::string_view name);
    // "" or "$LATEST": the latest version; digits: that version; else an alias, which picks
    // its additional version with that version's weight.
    ResolvedVersion resolve(std::string_view function, std::string_view qualifier) const;

    // A node of a cluster (registry_journal.h): from now on publish, set_alias,
    // remove_alias and remove record their change in `journal` (not owned; it outlives
    // this use) and return once it is applied here. publish() then leaves `replaced` 0:
    // whoever applies the journal's changes tells the scheduler. Set before serving.
    void use_journal(RegistryJournal* journal);

    // Applying a journal's change here. Each is a no-op when the change is already in
    // force: a node applies its own changes too, and after a crash it may apply some
    // twice. Throw RegistryError (storage).
    //
    // A version numbered by the journal; its library is hard-linked (else copied) from
    // `library`. It becomes $LATEST unless a higher version already is.
    FunctionVersionPtr apply_version(const FunctionSpec& spec, const std::filesystem::path& library,
                                     uint32_t* replaced = nullptr);
    void apply_alias(std::string_view function, Alias alias);
    void apply_alias_removal(std::string_view function, std::string_view name);
    bool apply_removal(std::string_view function);

private:
    struct State;
    std::unique_ptr<State> state_;
};

// Why the registry refused: each API surface tells its callers in its own protocol.
class RegistryError : public std::runtime_error {
public:
    enum class Kind {
        invalid,   // the request itself is wrong (a bad function name)
        conflict,  // another function holds a route, or the function changed meanwhile
        not_found, // the function, version or alias a request names does not exist
        storage,   // the data directory could not be read or written
        unavailable, // a cluster's shared registry cannot be reached now: nothing changed, retry
    };
    RegistryError(Kind kind, std::string message) : std::runtime_error(std::move(message)), kind_(kind) {}
    Kind kind() const { return kind_; }

private:
    Kind kind_;
};

}  // namespace sofaas
