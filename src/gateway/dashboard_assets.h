// The web dashboard's files (ui/: HTML, CSS, JavaScript, the vendored chart library),
// served at /ui/. They are read once, when the daemon starts, from the directory it was
// given: a request can only ever name one of the files found then, so no path it sends
// (../, %2e%2e, a symlink) reaches anything else, and no directory is ever listed. The
// dashboard itself is a client of the /v1 control API, with the key its user types in.
#pragma once

#include <cstddef>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "gateway/http_event.h"
#include "gateway/http_message.h"

namespace sofaas {

// "/ui" and everything below it.
bool is_dashboard_path(std::string_view path);

class DashboardAssets {
public:
    // Files larger than this are not the dashboard's and are not served.
    static constexpr size_t max_file_bytes = 4 * 1024 * 1024;

    // No directory: /ui/ answers 404 saying the dashboard is not installed. A directory that
    // cannot be read is logged and treated the same.
    explicit DashboardAssets(std::optional<std::filesystem::path> directory);

    // GET or HEAD of a path is_dashboard_path() accepts.
    HttpResponseParts respond(const IncomingRequest& request) const;
    size_t file_count() const { return files_.size(); }

private:
    struct Asset {
        std::string content_type;
        std::string body;
        std::string etag;
    };
    std::map<std::string, Asset, std::less<>> files_;  // by path below the directory: "vendor/uPlot.iife.min.js"
    bool installed_ = false;
};

}  // namespace sofaas
