#include "gateway/site_serving.h"

#include <fcntl.h>
#include <unistd.h>

#include <array>
#include <memory>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "common/file_io.h"
#include "common/unique_fd.h"
#include "gateway/awaitable_calls.h"
#include "gateway/responses.h"
#include "sites/byte_range.h"
#include "sites/cache_policy.h"
#include "sites/content_coding.h"
#include "sites/content_type.h"
#include "sites/http_date.h"
#include "sites/site_path.h"

namespace sofaas {
namespace {

namespace fs = std::filesystem;

// A large file's piece: enough that the system calls per byte are few, small enough that
// a thousand slow readers hold a quarter of a gigabyte at most.
constexpr size_t file_piece_bytes = 256 * 1024;

// sofaasd's own paths, on every host: the control API, the Lambda API's dates, function
// URLs, the dashboard, health and metrics, the user pools' endpoints and STS.
constexpr std::array<std::string_view, 10> platform_paths = {
    "/v1", "/2015-03-31", "/2017-03-31", "/2019-09-30", "/fn", "/ui", "/healthz", "/metrics", "/auth", "/sts"};

void add_site_headers(const SitesSettings& settings, HttpResponseParts& response) {
    for (const auto& [name, value] : settings.headers) response.headers.emplace_back(name, value);
    if (settings.behind_tls) {
        std::string hsts = fmt::format("max-age={}", settings.hsts_max_age_s);
        if (settings.hsts_include_subdomains) hsts += "; includeSubDomains";
        response.headers.emplace_back("Strict-Transport-Security", std::move(hsts));
    }
}

HttpResponseParts site_answer(const HandlerContext& context, HttpResponseParts response) {
    add_site_headers(context.services.config.sites, response);
    return response;
}

HttpResponseParts redirect_to(std::string location) {
    return HttpResponseParts{301, {{"Location", std::move(location)}}, {}, nullptr, std::nullopt};
}

// The bytes of [offset, offset + length) of a file, read off the io thread a piece at a
// time as the server asks for them.
class FileRangeStream final : public StreamedBody {
public:
    FileRangeStream(boost::asio::thread_pool& reads, UniqueFd file, uint64_t offset, uint64_t length)
        : reads_(reads), file_(std::move(file)), offset_(offset), remaining_(length) {}

    boost::asio::awaitable<std::optional<std::string>> next() override {
        if (remaining_ == 0) co_return std::nullopt;
        std::string piece;
        co_await run_blocking(reads_, [&] {
            piece.resize(static_cast<size_t>(std::min<uint64_t>(remaining_, file_piece_bytes)));
            const ssize_t got = ::pread(file_.get(), piece.data(), piece.size(), static_cast<off_t>(offset_));
            piece.resize(got > 0 ? static_cast<size_t>(got) : 0);
        });
        if (piece.empty()) co_return std::nullopt;  // the server closes: the file ended short
        offset_ += piece.size();
        remaining_ -= piece.size();
        co_return piece;
    }
    void abandon() override {}

private:
    boost::asio::thread_pool& reads_;
    UniqueFd file_;
    uint64_t offset_;
    uint64_t remaining_;
};

// Site files are opened without following links: an upload cannot make one, and nothing
// else should have.
UniqueFd open_site_file(const fs::path& file) {
    UniqueFd fd(::open(file.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
    if (!fd) throw_file_error("open", file);
    return fd;
}

std::string read_site_file(const fs::path& file, uint64_t size) {
    UniqueFd fd = open_site_file(file);
    std::string bytes(static_cast<size_t>(size), '\0');
    size_t done = 0;
    while (done < bytes.size()) {
        const ssize_t got = ::pread(fd.get(), bytes.data() + done, bytes.size() - done, static_cast<off_t>(done));
        if (got < 0 && errno == EINTR) continue;
        if (got < 0) throw_file_error("read", file);
        if (got == 0) throw std::runtime_error(file.string() + " is shorter than when it was deployed");
        done += static_cast<size_t>(got);
    }
    return bytes;
}

// If-None-Match: "*" or a list of entity tags, compared weakly (RFC 9110 13.1.2).
bool etag_matches(std::string_view header, std::string_view etag) {
    while (!header.empty()) {
        const size_t comma = header.find(',');
        std::string_view tag = header.substr(0, comma);
        header = comma == std::string_view::npos ? std::string_view() : header.substr(comma + 1);
        while (!tag.empty() && (tag.front() == ' ' || tag.front() == '\t')) tag.remove_prefix(1);
        while (!tag.empty() && (tag.back() == ' ' || tag.back() == '\t')) tag.remove_suffix(1);
        if (tag == "*") return true;
        if (tag.starts_with("W/")) tag.remove_prefix(2);
        if (tag == etag) return true;
    }
    return false;
}

bool not_modified(const IncomingRequest& request, std::string_view etag, WallTime last_modified) {
    if (const auto match = request.header("If-None-Match")) return etag_matches(*match, etag);
    if (const auto since_text = request.header("If-Modified-Since")) {
        const auto since = parse_http_date_text(*since_text);
        const auto modified = std::chrono::floor<std::chrono::seconds>(last_modified);
        return since && modified <= *since;
    }
    return false;
}

// If-Range: the range applies only to the representation the client already has part of.
bool range_still_applies(const IncomingRequest& request, std::string_view etag, WallTime last_modified) {
    const auto if_range = request.header("If-Range");
    if (!if_range) return true;
    if (if_range->starts_with('"')) return *if_range == etag;
    const auto date = parse_http_date_text(*if_range);
    return date && std::chrono::floor<std::chrono::seconds>(last_modified) == *date;
}

// With --spa, a page the client navigates to that is no file (/settings/profile) is the
// app's index.html; an asset that is missing (/app.js, an image) stays a 404, so a broken
// build shows as one instead of as HTML parsed as a script.
bool wants_app_page(const IncomingRequest& request, std::string_view relative) {
    const size_t slash = relative.rfind('/');
    const std::string_view last = slash == std::string_view::npos ? relative : relative.substr(slash + 1);
    if (last.find('.') == std::string_view::npos) return true;
    const auto accept = request.header("Accept");
    return accept && accept->find("text/html") != std::string_view::npos;
}

struct ChosenFile {
    std::string relative;  // what is read: "app.js.br"
    const SiteFileEntry* entry = nullptr;
    ContentCoding coding = ContentCoding::identity;
    bool has_variants = false;
};

ChosenFile choose_representation(const SiteVersion& site, const IncomingRequest& request, const std::string& relative,
                                 const SiteFileEntry* entry) {
    ChosenFile chosen{relative, entry};
    const std::string_view accept = request.header("Accept-Encoding").value_or("");
    for (const ContentCoding coding : {ContentCoding::br, ContentCoding::gzip}) {
        const std::string variant = relative + (coding == ContentCoding::gzip ? ".gz" : ".br");
        const SiteFileEntry* found = site.find(variant);
        if (!found) continue;
        chosen.has_variants = true;
        if (chosen.coding == ContentCoding::identity && accepts_coding(accept, coding)) {
            chosen.relative = variant;
            chosen.entry = found;
            chosen.coding = coding;
        }
    }
    return chosen;
}

}  // namespace

SiteUploadLimits site_upload_limits(const SitesSettings& settings) {
    return SiteUploadLimits{settings.max_files, settings.max_total_bytes};
}

std::optional<std::string_view> platform_path_of(std::string_view prefix) {
    const auto at_or_below = [&](std::string_view reserved) {
        return prefix.starts_with(reserved) && (prefix.size() == reserved.size() || prefix[reserved.size()] == '/');
    };
    for (const std::string_view reserved : platform_paths) {
        if (at_or_below(reserved)) return reserved;
    }
    return std::nullopt;
}

boost::asio::awaitable<HttpResponseParts> serve_site(HandlerContext& context, const IncomingRequest& request,
                                                     SiteMatch match) {
    const SiteVersion& site = *match.version;
    const bool head = request.method == "HEAD";
    if (request.method != "GET" && !head) {
        HttpResponseParts refusal = method_not_allowed(request.method, request.path());
        refusal.headers.emplace_back("Allow", "GET, HEAD");
        co_return site_answer(context, std::move(refusal));
    }
    const std::string_view query = request.query();
    const auto with_query = [&](std::string location) {
        if (!query.empty()) location += "?" + std::string(query);
        return location;
    };
    if (match.below_prefix.empty()) co_return site_answer(context, redirect_to(with_query(std::string(request.path()) + "/")));

    std::variant<SiteRequestPath, PathRefusal> resolved = resolve_request_path(match.below_prefix);
    if (const auto* refusal = std::get_if<PathRefusal>(&resolved)) {
        spdlog::info("[{}] site {}: path refused: {}", request.request_id, site.site, describe(*refusal));
        co_return site_answer(context, bad_request(fmt::format("The path has {}.", describe(*refusal))));
    }
    const SiteRequestPath& path = std::get<SiteRequestPath>(resolved);
    std::string relative = path.relative;
    if (path.names_directory) relative += relative.empty() ? "index.html" : "/index.html";
    const SiteFileEntry* entry = site.find(relative);
    bool app_page = false;
    if (!entry && !path.names_directory && site.find(path.relative + "/index.html")) {
        co_return site_answer(context, redirect_to(with_query(std::string(request.path()) + "/")));
    }
    if (!entry && site.settings.spa && wants_app_page(request, path.relative)) {
        relative = "index.html";
        entry = site.find(relative);
        app_page = true;
    }
    if (!entry) co_return site_answer(context, not_found(fmt::format("No such file: {}", request.path())));

    const ChosenFile chosen = choose_representation(site, request, relative, entry);
    HttpResponseParts response;
    add_site_headers(context.services.config.sites, response);
    response.headers.emplace_back("Content-Type", std::string(content_type_for(relative)));
    const CachePolicy policy = app_page ? CachePolicy::revalidate : cache_policy_for(relative);
    response.headers.emplace_back("Cache-Control", std::string(cache_control_value(policy)));
    response.headers.emplace_back("ETag", chosen.entry->etag);
    response.headers.emplace_back("Last-Modified", format_http_date(site.deployed_at));
    response.headers.emplace_back("Accept-Ranges", "bytes");
    if (chosen.has_variants) response.headers.emplace_back("Vary", "Accept-Encoding");
    if (chosen.coding != ContentCoding::identity) {
        response.headers.emplace_back("Content-Encoding", std::string(coding_name(chosen.coding)));
    }
    if (not_modified(request, chosen.entry->etag, site.deployed_at)) {
        response.status = 304;
        co_return response;
    }

    const uint64_t size = chosen.entry->size;
    ByteRange range{0, size == 0 ? 0 : size - 1};
    if (const auto range_header = request.header("Range");
        range_header && range_still_applies(request, chosen.entry->etag, site.deployed_at)) {
        const RangeRequest asked = parse_range(*range_header, size);
        if (std::holds_alternative<UnsatisfiableRange>(asked)) {
            HttpResponseParts refusal = error_response(416, "RangeNotSatisfiableException",
                                                       fmt::format("The file has {} bytes.", size));
            refusal.headers.emplace_back("Content-Range", fmt::format("bytes */{}", size));
            co_return site_answer(context, std::move(refusal));
        }
        if (const auto* one = std::get_if<ByteRange>(&asked)) {
            range = *one;
            response.status = 206;
            response.headers.emplace_back("Content-Range", fmt::format("bytes {}-{}/{}", range.first, range.last, size));
        }
    }
    const uint64_t length = size == 0 ? 0 : range.length();
    const fs::path file = site.files_root / chosen.relative;

    if (size <= cacheable_file_bytes) {
        std::shared_ptr<const std::string> content = site.cached(chosen.relative);
        if (!content) {
            std::string bytes;
            co_await run_blocking(context.file_reads, [&] { bytes = read_site_file(file, size); });
            content = std::make_shared<const std::string>(std::move(bytes));
            site.keep(chosen.relative, content);
        }
        if (!head) response.shared_body = SharedBody{std::move(content), static_cast<size_t>(range.first), static_cast<size_t>(length)};
        else response.stream_length = length;
        co_return response;
    }
    response.stream_length = length;
    if (head) co_return response;
    UniqueFd fd;
    co_await run_blocking(context.file_reads, [&] { fd = open_site_file(file); });
    response.stream = std::make_shared<FileRangeStream>(context.file_reads, std::move(fd), range.first, length);
    co_return response;
}

}  // namespace sofaas
