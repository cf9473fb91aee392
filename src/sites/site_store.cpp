#include "sites/site_store.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <system_error>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "common/file_io.h"
#include "common/sha256.h"

namespace sofaas {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

std::string lower_case(std::string_view text) {
    std::string out(text);
    for (char& c : out) {
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    }
    return out;
}

std::optional<uint32_t> version_number(std::string_view text) {
    uint32_t value = 0;
    if (text.empty() || text.size() > 9) return std::nullopt;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (error != std::errc() || end != text.data() + text.size() || value == 0) return std::nullopt;
    return value;
}

// Flushes everything written to the filesystem that holds `directory`: one call for the
// thousands of files a site may have, instead of an fsync each.
void sync_filesystem_of(const fs::path& directory) {
    const int fd = ::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) throw_file_error("open", directory);
    const int synced = ::syncfs(fd);
    const int error = errno;
    ::close(fd);
    if (synced != 0) throw_file_error(error, "syncfs", directory);
}

json manifest_of(const SiteVersion& version) {
    json files = json::object();
    for (const auto& [path, entry] : version.files) files[path] = {{"size", entry.size}, {"etag", entry.etag}};
    return json{{"version", version.number},
                {"domain", version.settings.domain},
                {"path", version.settings.path_prefix},
                {"spa", version.settings.spa},
                {"deployed_at", format_rfc3339(version.deployed_at)},
                {"files", std::move(files)}};
}

bool host_matches(std::string_view site_domain, std::string_view host) {
    if (site_domain.empty()) return true;
    // Host is "name" or "name:port" ("[v6]:port" never equals a domain).
    const size_t colon = host.rfind(':');
    if (colon != std::string_view::npos && host.find(']') == std::string_view::npos) host = host.substr(0, colon);
    if (host.ends_with('.')) host.remove_suffix(1);  // the root's dot: "example.com." is example.com
    if (host.size() != site_domain.size()) return false;
    for (size_t i = 0; i < host.size(); ++i) {
        const char c = host[i] >= 'A' && host[i] <= 'Z' ? static_cast<char>(host[i] - 'A' + 'a') : host[i];
        if (c != site_domain[i]) return false;
    }
    return true;
}

// The raw path after `prefix`, or nullopt when the path is not at or below it.
std::optional<std::string_view> below(std::string_view prefix, std::string_view path) {
    if (prefix == "/") return path;
    if (!path.starts_with(prefix)) return std::nullopt;
    const std::string_view rest = path.substr(prefix.size());
    if (!rest.empty() && rest.front() != '/') return std::nullopt;  // "/docs" is not at "/docsx"
    return rest;
}

}  // namespace

bool is_valid_site_name(std::string_view name) {
    if (name.empty() || name.size() > 64) return false;
    return std::all_of(name.begin(), name.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
    });
}

std::optional<std::string> normalize_site_settings(SiteSettings& settings) {
    settings.domain = lower_case(settings.domain);
    if (settings.domain.ends_with('.')) settings.domain.pop_back();
    if (settings.domain.size() > 253) return "--domain must be a host name of at most 253 characters";
    for (const char c : settings.domain) {
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.')) {
            return fmt::format("--domain must be a host name (letters, digits, '-' and '.'), without a port: got '{}'",
                               settings.domain);
        }
    }
    if (settings.domain.starts_with('.') || settings.domain.find("..") != std::string::npos) {
        return fmt::format("--domain must be a host name: got '{}'", settings.domain);
    }
    std::string& prefix = settings.path_prefix;
    if (prefix.empty()) prefix = "/";
    if (prefix.front() != '/') return fmt::format("--path must start with '/': got '{}'", prefix);
    while (prefix.size() > 1 && prefix.back() == '/') prefix.pop_back();
    if (prefix.size() > 256) return "--path must be at most 256 characters";
    std::string_view rest = std::string_view(prefix).substr(1);
    while (!rest.empty()) {
        const size_t slash = rest.find('/');
        const std::string_view segment = rest.substr(0, slash);
        rest = slash == std::string_view::npos ? std::string_view() : rest.substr(slash + 1);
        const bool plain = !segment.empty() && segment != "." && segment != ".." &&
                           std::all_of(segment.begin(), segment.end(), [](char c) {
                               return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                                      c == '-' || c == '_' || c == '.' || c == '~';
                           });
        if (!plain) {
            return fmt::format("--path must be segments of letters, digits, '-', '_', '.' and '~' (no '..'): got '{}'",
                               prefix);
        }
    }
    return std::nullopt;
}

// --- SiteVersion ---------------------------------------------------------------------

SiteVersion::~SiteVersion() {
    uint64_t kept = 0;
    for (const auto& [path, content] : cache_) kept += content->size();
    budget_->used_bytes -= kept;
}

const SiteFileEntry* SiteVersion::find(std::string_view relative) const {
    const auto found = files.find(relative);
    return found == files.end() ? nullptr : &found->second;
}

bool SiteVersion::is_directory(std::string_view relative) const {
    const std::string directory = relative.empty() ? std::string() : std::string(relative) + "/";
    const auto next = files.lower_bound(directory);
    return next != files.end() && next->first.starts_with(directory);
}

std::shared_ptr<const std::string> SiteVersion::cached(std::string_view relative) const {
    std::lock_guard lock(cache_mutex_);
    const auto found = cache_.find(relative);
    return found == cache_.end() ? nullptr : found->second;
}

void SiteVersion::keep(const std::string& relative, std::shared_ptr<const std::string> content) const {
    if (content->size() > cacheable_file_bytes) return;
    std::lock_guard lock(cache_mutex_);
    if (cache_.contains(relative)) return;
    if (budget_->used_bytes.fetch_add(content->size()) + content->size() > budget_->limit_bytes) {
        budget_->used_bytes -= content->size();
        return;
    }
    cache_.emplace(relative, std::move(content));
}

// --- SiteTable -----------------------------------------------------------------------

SiteTable::SiteTable(std::vector<SiteVersionPtr> sites) : sites_(std::move(sites)) {
    std::stable_sort(sites_.begin(), sites_.end(), [](const SiteVersionPtr& a, const SiteVersionPtr& b) {
        const bool a_domain = !a->settings.domain.empty(), b_domain = !b->settings.domain.empty();
        if (a_domain != b_domain) return a_domain;
        return a->settings.path_prefix.size() > b->settings.path_prefix.size();
    });
}

std::optional<SiteMatch> SiteTable::match(std::string_view host, std::string_view path) const {
    for (const SiteVersionPtr& site : sites_) {
        if (!host_matches(site->settings.domain, host)) continue;
        if (const auto rest = below(site->settings.path_prefix, path)) return SiteMatch{site, *rest};
    }
    return std::nullopt;
}

// --- SiteStore -----------------------------------------------------------------------

SiteStore::SiteStore(fs::path root, uint64_t cache_bytes)
    : root_(std::move(root)),
      budget_(std::make_shared<SiteCacheBudget>(cache_bytes)),
      table_(std::make_shared<const SiteTable>(std::vector<SiteVersionPtr>{})) {}

std::shared_ptr<const SiteTable> SiteStore::snapshot() const { return table_.load(); }

void SiteStore::serve(const std::string& name, SiteVersionPtr version) {
    if (version) current_[name] = std::move(version);
    else current_.erase(name);
    std::vector<SiteVersionPtr> sites;
    for (const auto& [_, site] : current_) sites.push_back(site);
    table_.store(std::make_shared<const SiteTable>(std::move(sites)));
}

std::vector<uint32_t> SiteStore::versions_on_disk(const std::string& name) const {
    std::vector<uint32_t> numbers;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(root_ / name / "versions", ec)) {
        if (const auto number = version_number(entry.path().filename().string())) numbers.push_back(*number);
    }
    std::sort(numbers.begin(), numbers.end());
    return numbers;
}

std::variant<SiteVersionPtr, SiteError> SiteStore::read_version(const std::string& name, uint32_t number) const {
    const fs::path directory = root_ / name / "versions" / std::to_string(number);
    try {
        const json manifest = json::parse(read_whole_file(directory / "manifest.json"));
        auto version = std::make_shared<SiteVersion>(budget_);
        version->site = name;
        version->number = manifest.at("version").get<uint32_t>();
        version->settings.domain = manifest.at("domain").get<std::string>();
        version->settings.path_prefix = manifest.at("path").get<std::string>();
        version->settings.spa = manifest.at("spa").get<bool>();
        const auto deployed = parse_time_spec(manifest.at("deployed_at").get<std::string>(), wall_now());
        if (!deployed) throw std::runtime_error("deployed_at is not a time");
        version->deployed_at = *deployed;
        version->files_root = directory / "files";
        for (const auto& [path, entry] : manifest.at("files").items()) {
            SiteFileEntry file{entry.at("size").get<uint64_t>(), entry.at("etag").get<std::string>()};
            version->total_bytes += file.size;
            version->files.emplace(path, std::move(file));
        }
        return SiteVersionPtr(std::move(version));
    } catch (const std::exception& e) {
        return SiteError{SiteErrorKind::storage, fmt::format("site {} version {} cannot be read: {}", name, number, e.what())};
    }
}

size_t SiteStore::load() {
    std::lock_guard lock(mutex_);
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(root_, ec)) {
        const std::string name = entry.path().filename().string();
        if (!is_valid_site_name(name)) continue;
        try {
            const json current = json::parse(read_whole_file(entry.path() / "current.json"));
            auto read = read_version(name, current.at("version").get<uint32_t>());
            if (auto* error = std::get_if<SiteError>(&read)) {
                spdlog::error("sites: {}; not served", error->message);
                continue;
            }
            current_[name] = std::get<SiteVersionPtr>(std::move(read));
        } catch (const std::exception& e) {
            spdlog::error("sites: {} not served: current.json: {}", name, e.what());
        }
    }
    serve("", nullptr);  // builds the table from what was read
    return current_.size();
}

std::optional<SiteError> SiteStore::conflict_with_others(const std::string& name, const SiteSettings& settings) const {
    for (const auto& [other, version] : current_) {
        if (other == name) continue;
        if (version->settings.domain == settings.domain && version->settings.path_prefix == settings.path_prefix) {
            return SiteError{SiteErrorKind::conflict,
                             fmt::format("Site {} is already served at {}{}: delete it or choose another --domain or --path",
                                         other, settings.domain.empty() ? "any host, " : settings.domain,
                                         settings.path_prefix)};
        }
    }
    return std::nullopt;
}

std::variant<SiteVersionPtr, SiteError> SiteStore::deploy(const std::string& name, const SiteSettings& settings,
                                                          const std::vector<SiteUploadFile>& files) {
    std::lock_guard lock(mutex_);
    if (auto conflict = conflict_with_others(name, settings)) return *conflict;
    const std::vector<uint32_t> existing = versions_on_disk(name);
    const uint32_t number = existing.empty() ? 1 : existing.back() + 1;
    const fs::path site_dir = root_ / name;
    const fs::path staging = site_dir / fmt::format(".staging-{}", number);
    const fs::path final_dir = site_dir / "versions" / std::to_string(number);

    auto version = std::make_shared<SiteVersion>(budget_);
    version->site = name;
    version->number = number;
    version->settings = settings;
    version->deployed_at = wall_now();
    version->files_root = final_dir / "files";
    try {
        fs::remove_all(staging);
        fs::create_directories(staging / "files");
        for (const SiteUploadFile& file : files) {
            const fs::path target = staging / "files" / file.path;
            fs::create_directories(target.parent_path());
            const int fd = ::open(target.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
            if (fd < 0) throw_file_error("create", target);
            try {
                write_all(fd, file.content, target);
            } catch (...) {
                ::close(fd);
                throw;
            }
            ::close(fd);
            version->files.emplace(file.path, SiteFileEntry{file.content.size(),
                                                            "\"" + sha256_hex(file.content).substr(0, 32) + "\""});
            version->total_bytes += file.content.size();
        }
        write_file_synced(staging / "manifest.json", manifest_of(*version).dump());
        sync_filesystem_of(staging);
        fs::create_directories(site_dir / "versions");
        fs::rename(staging, final_dir);
        fsync_directory(site_dir / "versions");
        replace_file_atomically(site_dir / "current.json", json{{"version", number}}.dump(), 0600);
    } catch (const std::exception& e) {
        std::error_code ignored;
        fs::remove_all(staging, ignored);
        return SiteError{SiteErrorKind::storage, fmt::format("site {} version {} not stored: {}", name, number, e.what())};
    }
    SiteVersionPtr served = version;
    serve(name, served);
    return served;
}

std::variant<SiteVersionPtr, SiteError> SiteStore::rollback(const std::string& name, std::optional<uint32_t> number) {
    std::lock_guard lock(mutex_);
    const auto current = current_.find(name);
    if (current == current_.end()) return SiteError{SiteErrorKind::not_found, fmt::format("Site not found: {}", name)};
    const std::vector<uint32_t> versions = versions_on_disk(name);
    if (!number) {
        const auto older = std::find_if(versions.rbegin(), versions.rend(),
                                        [&](uint32_t v) { return v < current->second->number; });
        if (older == versions.rend()) {
            return SiteError{SiteErrorKind::conflict,
                             fmt::format("Site {} has no version older than {} to roll back to", name,
                                         current->second->number)};
        }
        number = *older;
    } else if (!std::binary_search(versions.begin(), versions.end(), *number)) {
        return SiteError{SiteErrorKind::not_found, fmt::format("Site {} has no version {}", name, *number)};
    }
    auto read = read_version(name, *number);
    if (auto* error = std::get_if<SiteError>(&read)) return *error;
    SiteVersionPtr version = std::get<SiteVersionPtr>(std::move(read));
    if (auto conflict = conflict_with_others(name, version->settings)) return *conflict;
    try {
        replace_file_atomically(root_ / name / "current.json", json{{"version", *number}}.dump(), 0600);
    } catch (const std::exception& e) {
        return SiteError{SiteErrorKind::storage, fmt::format("site {} not rolled back: {}", name, e.what())};
    }
    serve(name, version);
    return version;
}

bool SiteStore::remove(const std::string& name) {
    std::lock_guard lock(mutex_);
    if (!current_.contains(name)) return false;
    const fs::path site_dir = root_ / name;
    const fs::path doomed = root_ / fmt::format(".deleted-{}", name);
    std::error_code ec;
    fs::remove_all(doomed, ec);
    // Out of the way at once, so that a deploy of the same name starts afresh; removed after.
    fs::rename(site_dir, doomed, ec);
    if (ec) spdlog::error("sites: {} could not be moved away for removal: {}", name, ec.message());
    serve(name, nullptr);
    fs::remove_all(ec ? site_dir : doomed, ec);
    if (ec) spdlog::error("sites: {} not wholly removed: {}", name, ec.message());
    return true;
}

std::vector<SiteSummary> SiteStore::list() const {
    std::lock_guard lock(mutex_);
    std::vector<SiteSummary> sites;
    for (const auto& [name, version] : current_) sites.push_back(SiteSummary{version, versions_on_disk(name)});
    return sites;
}

}  // namespace sofaas
