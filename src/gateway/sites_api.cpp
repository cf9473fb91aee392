// /v1/sites: deploying a directory as a site's new version (a tar archive as the body),
// rolling back, listing and deleting. Admin only. The archive is read and checked whole
// before anything is written, so a refused upload stores nothing.
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "gateway/awaitable_calls.h"
#include "gateway/query_string.h"
#include "gateway/responses.h"
#include "gateway/site_serving.h"

namespace sofaas {
namespace {

using nlohmann::json;

json site_json(const SiteVersion& version) {
    return json{{"name", version.site},
                {"version", version.number},
                {"domain", version.settings.domain.empty() ? json() : json(version.settings.domain)},
                {"path", version.settings.path_prefix},
                {"spa", version.settings.spa},
                {"files", version.files.size()},
                {"bytes", version.total_bytes},
                {"deployed_at", format_rfc3339(version.deployed_at)}};
}

HttpResponseParts site_error(const SiteError& error) {
    switch (error.kind) {
        case SiteErrorKind::invalid: return bad_request(error.message);
        case SiteErrorKind::conflict: return conflict(error.message);
        case SiteErrorKind::not_found: return not_found(error.message);
        case SiteErrorKind::storage: break;
    }
    spdlog::error("sites: {}", error.message);
    return internal_error();
}

HttpResponseParts archive_refusal(const ArchiveRefusal& refusal) {
    switch (refusal.kind) {
        case ArchiveRefusalKind::too_many_files:
        case ArchiveRefusalKind::too_large: return error_response(413, "RequestTooLargeException", refusal.message);
        case ArchiveRefusalKind::malformed:
        case ArchiveRefusalKind::unsafe_name:
        case ArchiveRefusalKind::unsupported_entry:
        case ArchiveRefusalKind::conflicting_names: break;
    }
    return error_response(400, "InvalidArchiveException", refusal.message);
}

// ?domain=&path=&spa=: the settings, or the refusal naming what is wrong.
std::variant<SiteSettings, HttpResponseParts> read_settings(HandlerContext& context, const IncomingRequest& request) {
    const QueryParams params = parse_query(request.query());
    SiteSettings settings;
    settings.domain = find_param(params, "domain").value_or("");
    settings.path_prefix = find_param(params, "path").value_or("/");
    const std::string spa = find_param(params, "spa").value_or("false");
    if (spa != "true" && spa != "false") return bad_request("spa must be true or false");
    settings.spa = spa == "true";
    if (const auto problem = normalize_site_settings(settings)) return bad_request(*problem);
    if (const auto platform = platform_path_of(settings.path_prefix)) {
        return conflict(fmt::format("--path {} is within {}, which sofaasd answers itself on every host",
                                    settings.path_prefix, *platform));
    }
    // Function routes answer before sites (docs/SITES.md): a site below a prefix would lose
    // part of its pages to them without a word. A site at "/" is the usual neighbour of an
    // API: there the routes' paths are simply not the site's.
    if (settings.path_prefix != "/") {
        if (const auto route = context.routes.snapshot()->route_within(settings.path_prefix)) {
            return conflict(fmt::format("--path {} overlaps the function route {} of {}: choose another path",
                                        settings.path_prefix, route->route_key, route->function));
        }
    }
    return settings;
}

boost::asio::awaitable<HttpResponseParts> deploy_site(HandlerContext& context, const IncomingRequest& request,
                                                      const std::string& name) {
    std::variant<SiteSettings, HttpResponseParts> settings = read_settings(context, request);
    if (auto* refusal = std::get_if<HttpResponseParts>(&settings)) co_return std::move(*refusal);
    HttpResponseParts answer;
    co_await run_blocking(context.disk_work, [&] {
        auto files = read_site_archive(request.body, site_upload_limits(context.services.config.sites));
        if (const auto* refusal = std::get_if<ArchiveRefusal>(&files)) {
            spdlog::info("[{}] site {} refused: {}", request.request_id, name, refusal->message);
            answer = archive_refusal(*refusal);
            return;
        }
        auto deployed = context.services.sites.deploy(name, std::get<SiteSettings>(settings),
                                                      std::get<std::vector<SiteUploadFile>>(files));
        if (const auto* error = std::get_if<SiteError>(&deployed)) {
            answer = site_error(*error);
            return;
        }
        const SiteVersion& version = *std::get<SiteVersionPtr>(deployed);
        spdlog::info("[{}] site {} version {} deployed: {} files, {} bytes", request.request_id, name, version.number,
                     version.files.size(), version.total_bytes);
        answer = json_response(201, site_json(version).dump());
    });
    co_return answer;
}

HttpResponseParts rollback_site(HandlerContext& context, const IncomingRequest& request, const std::string& name) {
    std::optional<uint32_t> version;
    if (const auto text = find_param(parse_query(request.query()), "version")) {
        version = parse_unsigned(*text);
        if (!version || *version == 0) return bad_request(fmt::format("version must be a version number: got '{}'", *text));
    }
    auto rolled = context.services.sites.rollback(name, version);
    if (const auto* error = std::get_if<SiteError>(&rolled)) return site_error(*error);
    spdlog::info("[{}] site {} rolled back to version {}", request.request_id, name, std::get<SiteVersionPtr>(rolled)->number);
    return json_response(200, site_json(*std::get<SiteVersionPtr>(rolled)).dump());
}

HttpResponseParts list_sites(HandlerContext& context) {
    json sites = json::array();
    for (const SiteSummary& summary : context.services.sites.list()) {
        json site = site_json(*summary.current);
        site["versions"] = summary.versions;
        sites.push_back(std::move(site));
    }
    return json_response(200, json{{"sites", std::move(sites)}}.dump());
}

}  // namespace

boost::asio::awaitable<HttpResponseParts> handle_sites_api(HandlerContext& context, const IncomingRequest& request,
                                                           const std::vector<std::string>& path) {
    const std::string& method = request.method;
    const auto unsupported = [&] { return method_not_allowed(method, request.path()); };
    if (path.size() == 2) co_return method == "GET" ? list_sites(context) : unsupported();
    const std::string& name = path[2];
    if (!is_valid_site_name(name)) {
        co_return bad_request(fmt::format("A site's name is 1 to 64 letters, digits, '-' and '_': got '{}'", name));
    }
    if (path.size() == 3 && method == "PUT") {
        HttpResponseParts answer = co_await deploy_site(context, request, name);
        co_return answer;
    }
    if (path.size() == 3 && method == "DELETE") {
        bool removed = false;
        co_await run_blocking(context.disk_work, [&] { removed = context.services.sites.remove(name); });
        if (!removed) co_return not_found(fmt::format("Site not found: {}", name));
        spdlog::info("[{}] site {} deleted", request.request_id, name);
        co_return json_response(200, json{{"deleted", name}}.dump());
    }
    if (path.size() == 4 && path[3] == "rollback") {
        if (method != "POST") co_return unsupported();
        HttpResponseParts answer;
        co_await run_blocking(context.disk_work, [&] { answer = rollback_site(context, request, name); });
        co_return answer;
    }
    if (path.size() == 3) co_return unsupported();
    co_return not_found(fmt::format("No such API: {} {}", method, request.path()));
}

}  // namespace sofaas
