#include "gateway/dashboard_assets.h"

#include <system_error>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "common/file_io.h"
#include "common/sha256.h"
#include "gateway/query_string.h"
#include "gateway/responses.h"

namespace sofaas {
namespace {

namespace fs = std::filesystem;

// Only files of these kinds are served: anything else left in the directory (a backup, an
// editor's swap file) stays private.
std::optional<std::string_view> content_type_of(const fs::path& file) {
    const std::string extension = file.extension().string();
    if (extension == ".html") return "text/html; charset=utf-8";
    if (extension == ".js") return "text/javascript; charset=utf-8";
    if (extension == ".css") return "text/css; charset=utf-8";
    if (extension == ".txt") return "text/plain; charset=utf-8";
    if (extension == ".svg") return "image/svg+xml";
    if (extension == ".png") return "image/png";
    if (extension == ".ico") return "image/x-icon";
    return std::nullopt;
}

// Every page and script comes from this daemon and talks only to it: no inline script, no
// other origin, no framing by another site. The key typed in is sent to no one else.
constexpr std::string_view content_security_policy =
    "default-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

void add_security_headers(HttpResponseParts& response) {
    response.headers.emplace_back("Content-Security-Policy", std::string(content_security_policy));
    response.headers.emplace_back("X-Content-Type-Options", "nosniff");
    response.headers.emplace_back("Referrer-Policy", "no-referrer");
}

HttpResponseParts dashboard_not_found(std::string_view path) {
    HttpResponseParts response = not_found(fmt::format("No such file of the dashboard: {}", path));
    add_security_headers(response);
    return response;
}

}  // namespace

bool is_dashboard_path(std::string_view path) {
    return path == "/ui" || path.starts_with("/ui/");
}

DashboardAssets::DashboardAssets(std::optional<fs::path> directory) {
    if (!directory) return;
    std::error_code ec;
    // Symlinks are not followed, to directories or to files: what is served is what lies in
    // the directory.
    for (auto it = fs::recursive_directory_iterator(*directory, ec); !ec && it != fs::recursive_directory_iterator();
         it.increment(ec)) {
        const fs::directory_entry& entry = *it;
        if (entry.is_symlink(ec) || !entry.is_regular_file(ec)) continue;
        const auto type = content_type_of(entry.path());
        if (!type) continue;
        const auto size = entry.file_size(ec);
        if (ec || size > max_file_bytes) {
            spdlog::warn("dashboard: {} not served: {}", entry.path().string(), ec ? ec.message() : "too large");
            ec.clear();
            continue;
        }
        try {
            std::string body = read_whole_file(entry.path());
            std::string etag = "\"" + sha256_hex(body).substr(0, 32) + "\"";
            files_.emplace(entry.path().lexically_relative(*directory).generic_string(),
                           Asset{std::string(*type), std::move(body), std::move(etag)});
        } catch (const std::system_error& e) {
            spdlog::warn("dashboard: {}", e.what());
        }
    }
    if (ec) {
        spdlog::warn("dashboard: cannot read {}: {}; /ui/ answers 404", directory->string(), ec.message());
        files_.clear();
        return;
    }
    installed_ = true;
    spdlog::info("dashboard: {} files from {}, served at /ui/", files_.size(), directory->string());
}

HttpResponseParts DashboardAssets::respond(const IncomingRequest& request) const {
    const std::string_view path = request.path();
    if (request.method != "GET" && request.method != "HEAD") {
        HttpResponseParts response = method_not_allowed(request.method, path);
        response.headers.emplace_back("Allow", "GET, HEAD");
        return response;
    }
    if (path == "/ui") {  // relative links in the page resolve against /ui/
        HttpResponseParts response{301, {{"Location", "/ui/"}}, {}};
        add_security_headers(response);
        return response;
    }
    if (!installed_) {
        return not_found("The dashboard is not installed: its files were not found when sofaasd started "
                         "(ui_dir in the configuration)");
    }
    // Decoded once and looked up as is: "%2e%2e/x" is "../x", which names no file found.
    std::string name = percent_decode(path.substr(4), false);
    if (name.empty()) name = "index.html";
    const auto found = files_.find(name);
    if (found == files_.end()) return dashboard_not_found(path);
    const Asset& asset = found->second;

    HttpResponseParts response;
    add_security_headers(response);
    // Revalidated on every load (the ETag makes that a 304): file names carry no version, and
    // a daemon upgraded must not run yesterday's script against today's API.
    response.headers.emplace_back("Cache-Control", "no-cache");
    response.headers.emplace_back("ETag", asset.etag);
    if (const auto match = request.header("If-None-Match"); match && *match == asset.etag) {
        response.status = 304;
        return response;
    }
    response.headers.emplace_back("Content-Type", asset.content_type);
    response.body = asset.body;
    return response;
}

}  // namespace sofaas
