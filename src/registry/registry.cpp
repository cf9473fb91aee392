#include "registry/registry.h"

#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <system_error>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "common/file_io.h"
#include "common/request_id.h"
#include "common/sha256.h"
#include "common/time.h"
#include "registry/registry_journal.h"
#include "registry/registry_state.h"

namespace sofaas {
namespace fs = std::filesystem;

namespace {

constexpr std::string_view staging_prefix = ".staging-";
constexpr std::string_view trash_prefix = ".trash-";

std::optional<uint32_t> parse_version_name(std::string_view name) {
    uint32_t version = 0;
    auto [end, ec] = std::from_chars(name.data(), name.data() + name.size(), version);
    if (name.empty() || ec != std::errc() || end != name.data() + name.size() || version == 0) return std::nullopt;
    return version;
}

// The highest version directory on disk, broken ones included: their numbers stay taken.
uint32_t max_version_on_disk(const fs::path& versions_dir) {
    uint32_t highest = 0;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(versions_dir, ec)) {
        if (auto v = parse_version_name(entry.path().filename().string())) highest = std::max(highest, *v);
    }
    return highest;
}

// Two routes collide when a request could match both: same shape (parameter names do not
// matter) and overlapping methods.
bool routes_collide(const Route& a, const Route& b) {
    auto shape = [](const std::string& path) {
        std::string out;
        bool in_param = false;
        for (char c : path) {
            if (c == '{') in_param = true;
            if (!in_param) out += c;
            if (c == '}') {
                in_param = false;
                out += "{}";
            }
        }
        return out;
    };
    bool methods_overlap = a.method == b.method || a.method == "ANY" || b.method == "ANY";
    return methods_overlap && shape(a.path) == shape(b.path);
}

std::optional<FunctionVersion> load_version(const fs::path& dir, std::string_view function, uint32_t number) {
    FunctionSpec spec = spec_from_json(read_whole_file(dir / "spec.json"));
    if (spec.name != function) throw std::runtime_error("spec.json names function " + spec.name);
    if (spec.version != number) throw std::runtime_error("spec.json says version " + std::to_string(spec.version));
    fs::path library = dir / library_file_name;
    std::error_code ec;
    auto size = fs::file_size(library, ec);
    if (ec) throw std::runtime_error("function.so: " + ec.message());
    if (size != spec.size_bytes) throw std::runtime_error("function.so has the wrong size");
    return FunctionVersion{std::move(spec), std::move(library)};
}

}  // namespace

std::optional<FunctionEntry> Registry::State::load_function(const fs::path& dir, const std::string& name) {
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(dir, ec)) {
        if (entry.path().filename().string().starts_with(staging_prefix)) {
            spdlog::info("registry: removing unfinished deploy {}", entry.path().string());
            fs::remove_all(entry.path(), ec);
        }
    }

    FunctionEntry function;
    for (const auto& entry : fs::directory_iterator(dir / "versions", ec)) {
        auto number = parse_version_name(entry.path().filename().string());
        if (!number) continue;
        try {
            auto version = load_version(entry.path(), name, *number);
            function.versions.emplace(*number, std::make_shared<const FunctionVersion>(std::move(*version)));
        } catch (const std::exception& e) {
            spdlog::warn("registry: skipping {}: {}", entry.path().string(), e.what());
        }
    }
    if (function.versions.empty()) {
        spdlog::warn("registry: skipping function {}: no readable version", name);
        return std::nullopt;
    }

    function.latest = function.versions.rbegin()->first;
    try {
        auto pointer = nlohmann::json::parse(read_whole_file(dir / "latest.json"));
        uint32_t latest = pointer.at("version").get<uint32_t>();
        if (function.versions.count(latest)) {
            function.latest = latest;
        } else {
            spdlog::warn("registry: {}: latest.json points at missing version {}, using {}", name, latest,
                         function.latest);
        }
    } catch (const std::exception& e) {
        spdlog::warn("registry: {}: unreadable latest.json ({}), using version {}", name, e.what(), function.latest);
    }
    load_aliases(dir, name, function);
    return function;
}

void Registry::State::check_routes_free(const FunctionSpec& spec) const {
    std::shared_lock lock(index_mutex);
    for (const auto& [name, entry] : index) {
        if (name == spec.name) continue;
        auto other = entry.latest_version();
        if (!other) continue;
        for (const Route& mine : spec.routes) {
            for (const Route& theirs : other->spec.routes) {
                if (routes_collide(mine, theirs)) {
                    throw RegistryError(RegistryError::Kind::conflict,
                                        "route \"" + mine.method + " " + mine.path +
                                            "\" is already declared by function " + name + " (\"" +
                                            theirs.method + " " + theirs.path + "\")");
                }
            }
        }
    }
}

Registry::Registry(fs::path functions_dir) : state_(std::make_unique<State>()) {
    state_->functions_dir = std::move(functions_dir);
}

Registry::~Registry() = default;

size_t Registry::load() {
    std::error_code ec;
    fs::create_directories(state_->functions_dir, ec);
    if (ec) {
        throw RegistryError(RegistryError::Kind::storage,
                            "cannot create " + state_->functions_dir.string() + ": " + ec.message());
    }

    std::map<std::string, FunctionEntry, std::less<>> index;
    for (const auto& entry : fs::directory_iterator(state_->functions_dir, ec)) {
        std::string name = entry.path().filename().string();
        if (name.starts_with(trash_prefix)) {
            std::error_code ignored;
            fs::remove_all(entry.path(), ignored);  // a remove() interrupted by a crash
            continue;
        }
        if (!entry.is_directory() || !is_valid_function_name(name)) {
            spdlog::warn("registry: ignoring {}: not a function directory", entry.path().string());
            continue;
        }
        if (auto function = state_->load_function(entry.path(), name)) index.emplace(name, std::move(*function));
    }
    if (ec) {
        throw RegistryError(RegistryError::Kind::storage,
                            "cannot read " + state_->functions_dir.string() + ": " + ec.message());
    }

    std::unique_lock lock(state_->index_mutex);
    state_->index = std::move(index);
    for (const auto& [name, function] : state_->index) {
        uint32_t& highest = state_->highest_published[name];
        highest = std::max(highest, function.versions.rbegin()->first);
    }
    return state_->index.size();
}

StagedVersion Registry::stage(std::string_view function, std::string_view library_bytes,
                              const FunctionSettings& settings) {
    if (!is_valid_function_name(function)) {
        throw RegistryError(RegistryError::Kind::invalid, "invalid function name \"" + std::string(function) +
                                                              "\" (allowed: [A-Za-z0-9_-]{1,64})");
    }
    try {
        fs::path directory = state_->make_staging_directory(std::string(function));

        FunctionSpec spec = settings;
        spec.name = std::string(function);
        spec.version = 0;
        spec.sha256 = sha256_hex(library_bytes);
        spec.size_bytes = library_bytes.size();
        fs::path library = directory / library_file_name;
        write_file_synced(library, library_bytes, 0644);
        write_file_synced(directory / "spec.json", spec_to_json(spec));
        fsync_directory(directory);

        auto candidate = std::make_shared<const FunctionVersion>(FunctionVersion{std::move(spec), library});
        return StagedVersion{std::string(function), std::move(directory), std::move(candidate)};
    } catch (const std::exception& e) {
        throw RegistryError(RegistryError::Kind::storage, std::string("cannot stage deploy: ") + e.what());
    }
}

StagedVersion Registry::stage_settings(const FunctionVersionPtr& base, const FunctionSettings& settings) {
    const std::string& function = base->spec.name;
    fs::path function_dir = state_->functions_dir / function;
    fs::path directory;
    try {
        std::string pattern = (function_dir / (std::string(staging_prefix) + "XXXXXX")).string();
        if (!::mkdtemp(pattern.data())) {
            if (errno == ENOENT) {
                throw RegistryError(RegistryError::Kind::not_found, "function " + function + " was deleted");
            }
            throw std::system_error(errno, std::generic_category(), "cannot create " + pattern);
        }
        directory = pattern;
        fs::path library = directory / library_file_name;
        // Versions are immutable, so two of them may share one file. A copy where links
        // cannot be made (another file system under versions/ would be one reason).
        std::error_code ec;
        fs::create_hard_link(base->library, library, ec);
        if (ec) write_file_synced(library, read_whole_file(base->library), 0644);

        FunctionSpec spec = settings;
        spec.name = function;
        spec.version = 0;
        spec.sha256 = base->spec.sha256;
        spec.size_bytes = base->spec.size_bytes;
        write_file_synced(directory / "spec.json", spec_to_json(spec));
        fsync_directory(directory);

        auto candidate = std::make_shared<const FunctionVersion>(FunctionVersion{std::move(spec), library});
        return StagedVersion{function, std::move(directory), std::move(candidate), base->spec.version};
    } catch (const RegistryError&) {
        throw;
    } catch (const std::exception& e) {
        std::error_code ignored;
        if (!directory.empty()) fs::remove_all(directory, ignored);
        throw RegistryError(RegistryError::Kind::storage, std::string("cannot stage the new settings: ") + e.what());
    }
}

FunctionVersionPtr Registry::State::install(const fs::path& staged_directory, const FunctionSpec& spec,
                                            uint32_t* replaced) {
    fs::path function_dir = functions_dir / spec.name;
    fs::path versions_dir = function_dir / "versions";
    if (fs::create_directories(versions_dir)) {
        // A first deploy: the new directory entries must survive a crash too.
        fsync_directory(function_dir);
        fsync_directory(functions_dir);
    }
    write_file_synced(staged_directory / "spec.json", spec_to_json(spec));
    fsync_directory(staged_directory);

    fs::path version_dir = versions_dir / std::to_string(spec.version);
    fs::rename(staged_directory, version_dir);
    fsync_directory(versions_dir);
    bool newest = false;
    {
        std::shared_lock index_lock(index_mutex);
        auto it = index.find(spec.name);
        newest = it == index.end() || it->second.versions.empty() || spec.version > it->second.latest;
    }
    if (newest) write_latest(spec.name, spec.version);

    auto installed = std::make_shared<const FunctionVersion>(FunctionVersion{spec, version_dir / library_file_name});
    std::unique_lock index_lock(index_mutex);
    FunctionEntry& entry = index[spec.name];
    if (replaced) *replaced = newest && !entry.versions.empty() ? entry.latest : 0;
    entry.versions[spec.version] = installed;
    if (newest) entry.latest = spec.version;
    uint32_t& highest = highest_published[spec.name];
    highest = std::max(highest, spec.version);
    spdlog::info("registry: published {} version {} ({} bytes, sha256 {})", spec.name, spec.version, spec.size_bytes,
                 spec.sha256);
    return installed;
}

void Registry::State::raise_latest(const std::string& function, uint32_t version, uint32_t* replaced) {
    uint32_t latest = 0;
    {
        std::shared_lock index_lock(index_mutex);
        auto it = index.find(function);
        if (it == index.end()) return;
        latest = it->second.latest;
    }
    if (latest >= version) return;
    write_latest(function, version);
    std::unique_lock index_lock(index_mutex);
    FunctionEntry& entry = index[function];
    if (replaced) *replaced = entry.latest;
    entry.latest = version;
}

void Registry::State::write_latest(const std::string& function, uint32_t version) {
    replace_file_atomically(functions_dir / function / "latest.json", nlohmann::json{{"version", version}}.dump() + "\n");
}

fs::path Registry::State::make_staging_directory(const std::string& function) {
    fs::path function_dir = functions_dir / function;
    fs::create_directories(function_dir);
    std::string pattern = (function_dir / (std::string(staging_prefix) + "XXXXXX")).string();
    if (!::mkdtemp(pattern.data())) throw std::system_error(errno, std::generic_category(), "cannot create " + pattern);
    return pattern;
}

FunctionVersionPtr Registry::publish(StagedVersion staged, uint32_t* replaced) {
    // Whatever goes wrong, the staged directory must not outlive the deploy.
    struct DiscardOnFailure {
        Registry* registry;
        StagedVersion* staged;
        bool published = false;
        ~DiscardOnFailure() {
            if (!published) registry->discard(std::move(*staged));
        }
    } guard{this, &staged};

    if (RegistryJournal* journal = state_->journal) {
        // The journal numbers the version and every node, this one included, installs it
        // from there: the staged copy only served the checks.
        // Held until the version is in force here, so two deploys through this node cannot
        // both take a route (between nodes, see docs/CLUSTER.md).
        std::unique_lock<std::mutex> routes_lock;
        if (!staged.candidate->spec.routes.empty()) {
            routes_lock = std::unique_lock(state_->routes_mutex);
            state_->check_routes_free(staged.candidate->spec);
        }
        FunctionSpec spec = staged.candidate->spec;
        spec.created_at = format_rfc3339(wall_now());
        const uint32_t number = journal->record_version(spec, staged.candidate->library, staged.based_on);
        if (replaced) *replaced = 0;
        if (FunctionVersionPtr published = find(staged.function, number)) return published;
        throw RegistryError(RegistryError::Kind::conflict, "function " + staged.function + " version " +
                                                               std::to_string(number) +
                                                               " was published, then deleted at once: retry");
    }

    auto function_lock = state_->lock_for(staged.function);
    std::lock_guard lock(*function_lock);
    std::unique_lock<std::mutex> routes_lock;
    if (!staged.candidate->spec.routes.empty()) {
        routes_lock = std::unique_lock(state_->routes_mutex);
        state_->check_routes_free(staged.candidate->spec);
    }
    if (staged.based_on != 0) {
        std::shared_lock index_lock(state_->index_mutex);
        auto it = state_->index.find(staged.function);
        if (it == state_->index.end() || it->second.latest != staged.based_on) {
            throw RegistryError(RegistryError::Kind::conflict,
                                "function " + staged.function + " changed during the update (it was version " +
                                    std::to_string(staged.based_on) + "): retry");
        }
    }

    FunctionSpec spec = staged.candidate->spec;
    try {
        if (!fs::exists(staged.directory)) {
            throw RegistryError(RegistryError::Kind::conflict,
                                "function " + staged.function + " was deleted during the deploy");
        }
        uint32_t highest = max_version_on_disk(state_->functions_dir / staged.function / "versions");
        {
            std::shared_lock index_lock(state_->index_mutex);
            auto it = state_->highest_published.find(staged.function);
            if (it != state_->highest_published.end()) highest = std::max(highest, it->second);
        }
        spec.version = highest + 1;
        spec.created_at = format_rfc3339(wall_now());
        FunctionVersionPtr published = state_->install(staged.directory, spec, replaced);
        guard.published = true;
        return published;
    } catch (const RegistryError&) {
        throw;
    } catch (const std::exception& e) {
        throw RegistryError(RegistryError::Kind::storage, "cannot publish " + staged.function + ": " + e.what());
    }
}

FunctionVersionPtr Registry::apply_version(const FunctionSpec& spec, const fs::path& library, uint32_t* replaced) {
    if (replaced) *replaced = 0;
    if (!is_valid_function_name(spec.name) || spec.version == 0) {
        throw RegistryError(RegistryError::Kind::invalid, "a journal's version names no function or number");
    }
    auto function_lock = state_->lock_for(spec.name);
    std::lock_guard lock(*function_lock);
    if (FunctionVersionPtr existing = find(spec.name, spec.version);
        existing && existing->spec.sha256 == spec.sha256 && existing->spec.created_at == spec.created_at) {
        // Installed already; a crash may have come before $LATEST moved to it.
        state_->raise_latest(spec.name, spec.version, replaced);
        return existing;
    }
    // Not here, or another version under that number (this node's own, from before it
    // joined): the journal's replaces it.
    fs::path directory;
    try {
        directory = state_->make_staging_directory(spec.name);
        std::error_code ec;
        fs::create_hard_link(library, directory / library_file_name, ec);
        if (ec) write_file_synced(directory / library_file_name, read_whole_file(library), 0644);
        // A directory of this number that load() found broken.
        fs::remove_all(state_->functions_dir / spec.name / "versions" / std::to_string(spec.version));
        return state_->install(directory, spec, replaced);
    } catch (const std::exception& e) {
        std::error_code ignored;
        if (!directory.empty()) fs::remove_all(directory, ignored);
        throw RegistryError(RegistryError::Kind::storage,
                            "cannot install " + spec.name + " version " + std::to_string(spec.version) + ": " + e.what());
    }
}

void Registry::use_journal(RegistryJournal* journal) {
    state_->journal = journal;
}

void Registry::discard(StagedVersion staged) noexcept {
    std::error_code ec;
    fs::remove_all(staged.directory, ec);
    if (ec) spdlog::warn("registry: cannot remove {}: {}", staged.directory.string(), ec.message());
}

FunctionVersionPtr Registry::latest(std::string_view function) const {
    std::shared_lock lock(state_->index_mutex);
    auto it = state_->index.find(function);
    return it == state_->index.end() ? nullptr : it->second.latest_version();
}

FunctionVersionPtr Registry::find(std::string_view function, uint32_t version) const {
    std::shared_lock lock(state_->index_mutex);
    auto it = state_->index.find(function);
    if (it == state_->index.end()) return nullptr;
    auto v = it->second.versions.find(version);
    return v == it->second.versions.end() ? nullptr : v->second;
}

std::vector<FunctionVersionPtr> Registry::list_latest() const {
    std::shared_lock lock(state_->index_mutex);
    std::vector<FunctionVersionPtr> out;
    out.reserve(state_->index.size());
    for (const auto& [name, entry] : state_->index) {
        if (auto latest = entry.latest_version()) out.push_back(std::move(latest));
    }
    return out;
}

std::vector<uint32_t> Registry::versions(std::string_view function) const {
    std::shared_lock lock(state_->index_mutex);
    std::vector<uint32_t> out;
    auto it = state_->index.find(function);
    if (it == state_->index.end()) return out;
    for (const auto& [number, _] : it->second.versions) out.push_back(number);
    return out;
}

bool Registry::remove(std::string_view function) {
    if (!is_valid_function_name(function)) return false;
    if (RegistryJournal* journal = state_->journal) return journal->record_removal(function);
    return state_->remove_local(function);
}

bool Registry::apply_removal(std::string_view function) {
    if (!is_valid_function_name(function)) return false;
    return state_->remove_local(function);
}

bool Registry::State::remove_local(std::string_view function) {
    auto function_lock = lock_for(function);
    std::lock_guard lock(*function_lock);

    bool existed = false;
    {
        std::unique_lock index_lock(index_mutex);
        auto it = index.find(function);
        existed = it != index.end();
        if (existed) index.erase(it);
    }
    // Renamed first so the function disappears in one step; the slow delete happens after,
    // and a crash in between leaves only a trash directory that load() cleans up.
    fs::path function_dir = functions_dir / std::string(function);
    fs::path trash = functions_dir / (std::string(trash_prefix) + std::string(function) + "-" + new_request_id());
    std::error_code ec;
    fs::rename(function_dir, trash, ec);
    if (ec) {
        if (ec != std::errc::no_such_file_or_directory) {
            spdlog::error("registry: cannot remove {}: {}", function_dir.string(), ec.message());
        }
        return existed;
    }
    try {
        fsync_directory(functions_dir);
    } catch (const std::exception& e) {
        spdlog::warn("registry: {}", e.what());
    }
    fs::remove_all(trash, ec);
    if (ec) spdlog::warn("registry: cannot delete {}: {}", trash.string(), ec.message());
    spdlog::info("registry: removed function {}", function);
    return true;
}

}  // namespace sofaas
