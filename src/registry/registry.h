// The registry: functions on disk as immutable numbered versions.
//
//   DATA/functions/NAME/versions/N/{function.so,spec.json}
//   DATA/functions/NAME/latest.json   {"version": N}
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
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/function_spec.h"
#include "registry/deploy_settings.h"

namespace sofaas {

// A version written to disk but not yet visible.
struct StagedVersion {
    std::string function;
    std::filesystem::path directory;
    FunctionVersionPtr candidate;  // spec with version 0; library inside `directory`
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
    void discard(StagedVersion staged) noexcept;

    FunctionVersionPtr latest(std::string_view function) const;
    FunctionVersionPtr find(std::string_view function, uint32_t version) const;
    std::vector<FunctionVersionPtr> list_latest() const;   // sorted by name
    std::vector<uint32_t> versions(std::string_view function) const;
    // Removes the function and all its versions; false if it did not exist.
    bool remove(std::string_view function);

private:
    struct State;
    std::unique_ptr<State> state_;
};

// Why the registry refused: each API surface tells its callers in its own protocol.
class RegistryError : public std::runtime_error {
public:
    enum class Kind {
        invalid,   // the request itself is wrong (a bad function name)
        conflict,  // another function holds a route, or the function went away meanwhile
        storage,   // the data directory could not be read or written
    };
    RegistryError(Kind kind, std::string message) : std::runtime_error(std::move(message)), kind_(kind) {}
    Kind kind() const { return kind_; }

private:
    Kind kind_;
};

}  // namespace sofaas
