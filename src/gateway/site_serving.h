// Static sites over HTTP (docs/SITES.md): a request that no function and no platform path
// answers is looked up in the sites table by Host and path prefix and served from the
// site's current version, as a good static server does: content type, ETag and
// Last-Modified with their 304s, one byte range, precompressed .br/.gz copies, cache
// policy, the SPA fallback, the configured security headers. Files are read off the io
// threads (HandlerContext::file_reads): small ones once, then from memory; large ones in
// pieces as they are sent.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "common/config.h"
#include "gateway/handler_context.h"
#include "gateway/http_event.h"
#include "gateway/http_message.h"
#include "sites/site_archive.h"
#include "sites/site_store.h"

namespace sofaas {

SiteUploadLimits site_upload_limits(const SitesSettings& settings);

// The platform's own path that `prefix` ("/docs") is or lies below ("/v1", "/fn", ...), or
// nullopt: a site may not be served there, on any host.
std::optional<std::string_view> platform_path_of(std::string_view prefix);

boost::asio::awaitable<HttpResponseParts> serve_site(HandlerContext& context, const IncomingRequest& request,
                                                     SiteMatch match);

// /v1/sites[/NAME[/rollback]] (sites_api.cpp); `path` is the decoded segments. Admin only.
boost::asio::awaitable<HttpResponseParts> handle_sites_api(HandlerContext& context, const IncomingRequest& request,
                                                           const std::vector<std::string>& path);

}  // namespace sofaas
