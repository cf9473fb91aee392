// Sites on disk and which version of each is served where. Every deploy is a new immutable
// version; the one served is named by current.json, replaced atomically, so a request sees
// the old version or the new one, never a mix. Rollback points current.json back.
//
//   DATA/sites/NAME/versions/N/files/...       the uploaded files, never changed
//   DATA/sites/NAME/versions/N/manifest.json   settings, deploy time, each file's size and ETag
//   DATA/sites/NAME/current.json               {"version": N}
#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "common/time.h"
#include "sites/site_archive.h"

namespace sofaas {

// Where a site is served: on one host name or on every one, below a path prefix.
struct SiteSettings {
    std::string domain;             // lower case, no port; "" = any Host
    std::string path_prefix = "/";  // "/" or "/docs" (no trailing slash)
    bool spa = false;               // unknown pages answer with the root's index.html
};

// 1 to 64 of [A-Za-z0-9_-], as function names.
bool is_valid_site_name(std::string_view name);
// Why `domain` or `prefix` cannot be a site's, or nullopt; normalizes them (case, slashes).
std::optional<std::string> normalize_site_settings(SiteSettings& settings);

struct SiteFileEntry {
    uint64_t size = 0;
    std::string etag;  // "\"<first 32 hex digits of the content's SHA-256>\""
};

// Files up to this size are kept in memory once read (up to sites.cache_mb for all sites
// together); larger ones are streamed from the disk in pieces on every request.
inline constexpr uint64_t cacheable_file_bytes = 1024 * 1024;

// Bytes of small files kept in memory, all versions together, and the ceiling.
struct SiteCacheBudget {
    explicit SiteCacheBudget(uint64_t limit) : limit_bytes(limit) {}
    const uint64_t limit_bytes;
    std::atomic<uint64_t> used_bytes{0};
};

class SiteVersion {
public:
    std::string site;
    uint32_t number = 0;
    SiteSettings settings;
    WallTime deployed_at;
    std::filesystem::path files_root;  // .../versions/N/files
    std::map<std::string, SiteFileEntry, std::less<>> files;
    uint64_t total_bytes = 0;

    SiteVersion(std::shared_ptr<SiteCacheBudget> budget) : budget_(std::move(budget)) {}
    ~SiteVersion();
    SiteVersion(const SiteVersion&) = delete;
    SiteVersion& operator=(const SiteVersion&) = delete;

    const SiteFileEntry* find(std::string_view relative) const;
    // Whether `relative` is a directory of this version (a file lies below it).
    bool is_directory(std::string_view relative) const;
    // A file's bytes when they are in memory.
    std::shared_ptr<const std::string> cached(std::string_view relative) const;
    // Keeps a file's bytes (at most cacheable_file_bytes) while the budget allows.
    void keep(const std::string& relative, std::shared_ptr<const std::string> content) const;

private:
    std::shared_ptr<SiteCacheBudget> budget_;
    mutable std::mutex cache_mutex_;
    mutable std::map<std::string, std::shared_ptr<const std::string>, std::less<>> cache_;
};
using SiteVersionPtr = std::shared_ptr<const SiteVersion>;

// Which site answers a request: the site for the request's host (a site with a domain
// before one without), then the longest prefix the path is at or below.
struct SiteMatch {
    SiteVersionPtr version;
    std::string_view below_prefix;  // the raw path after the prefix: "/x.js", "" for "/docs"
};
class SiteTable {
public:
    explicit SiteTable(std::vector<SiteVersionPtr> sites);
    // host: the Host header (any case, with or without a port).
    std::optional<SiteMatch> match(std::string_view host, std::string_view path) const;
    bool empty() const { return sites_.empty(); }

private:
    std::vector<SiteVersionPtr> sites_;  // most specific first
};

enum class SiteErrorKind { invalid, conflict, not_found, storage };
struct SiteError {
    SiteErrorKind kind;
    std::string message;
};

struct SiteSummary {
    SiteVersionPtr current;
    std::vector<uint32_t> versions;  // all kept, oldest first
};

class SiteStore {
public:
    SiteStore(std::filesystem::path root, uint64_t cache_bytes);

    // At start: every site's current version. A site that cannot be read is logged and
    // left out. Returns how many were loaded.
    size_t load();
    // Stores `files` as the next version of `name` and serves it. Refused (conflict) when
    // another site is served at the same domain and prefix. Blocks on the disk.
    std::variant<SiteVersionPtr, SiteError> deploy(const std::string& name, const SiteSettings& settings,
                                                   const std::vector<SiteUploadFile>& files);
    // Serves `version`, or without one the newest version older than the current one.
    std::variant<SiteVersionPtr, SiteError> rollback(const std::string& name, std::optional<uint32_t> version);
    // Stops serving `name` and removes all its versions. False when there is no such site.
    bool remove(const std::string& name);
    std::vector<SiteSummary> list() const;

    std::shared_ptr<const SiteTable> snapshot() const;

private:
    std::variant<SiteVersionPtr, SiteError> read_version(const std::string& name, uint32_t number) const;
    std::optional<SiteError> conflict_with_others(const std::string& name, const SiteSettings& settings) const;
    std::vector<uint32_t> versions_on_disk(const std::string& name) const;
    void serve(const std::string& name, SiteVersionPtr version);  // under mutex_

    std::filesystem::path root_;
    std::shared_ptr<SiteCacheBudget> budget_;
    mutable std::mutex mutex_;
    std::map<std::string, SiteVersionPtr> current_;
    std::atomic<std::shared_ptr<const SiteTable>> table_;
};

}  // namespace sofaas
