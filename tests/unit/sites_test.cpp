// The pure rules of serving a static site: request paths and uploaded names, content
// types, cache policy, byte ranges, Accept-Encoding, HTTP dates, and the tar archive
// uploads come in.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include "sites/byte_range.h"
#include "sites/cache_policy.h"
#include "sites/content_coding.h"
#include "sites/content_type.h"
#include "sites/http_date.h"
#include "sites/site_archive.h"
#include "sites/site_path.h"
#include "sites/site_store.h"

namespace sofaas {
namespace {

std::variant<SiteRequestPath, PathRefusal> resolved(std::string_view raw) { return resolve_request_path(raw); }

PathRefusal refusal_of(std::string_view raw) {
    const auto result = resolved(raw);
    EXPECT_TRUE(std::holds_alternative<PathRefusal>(result)) << raw;
    return std::holds_alternative<PathRefusal>(result) ? std::get<PathRefusal>(result) : PathRefusal::too_long;
}

TEST(SitePath, ResolvesAFileAndADirectory) {
    const auto file = std::get<SiteRequestPath>(resolved("/assets/app.js"));
    EXPECT_EQ(file.relative, "assets/app.js");
    EXPECT_FALSE(file.names_directory);
    const auto root = std::get<SiteRequestPath>(resolved("/"));
    EXPECT_EQ(root.relative, "");
    EXPECT_TRUE(root.names_directory);
    const auto docs = std::get<SiteRequestPath>(resolved("//docs//"));
    EXPECT_EQ(docs.relative, "docs");
    EXPECT_TRUE(docs.names_directory);
    EXPECT_EQ(std::get<SiteRequestPath>(resolved("/a%20b.txt")).relative, "a b.txt");
}

TEST(SitePath, RefusesEveryWayOutOfTheRoot) {
    EXPECT_EQ(refusal_of("/../etc/passwd"), PathRefusal::dot_segment);
    EXPECT_EQ(refusal_of("/a/%2e%2e/%2e%2e/etc/passwd"), PathRefusal::dot_segment);
    EXPECT_EQ(refusal_of("/%2E%2E/x"), PathRefusal::dot_segment);
    EXPECT_EQ(refusal_of("/./index.html"), PathRefusal::dot_segment);
    EXPECT_EQ(refusal_of("/..%5c..%5cwindows"), PathRefusal::backslash);
    EXPECT_EQ(refusal_of("/a\\b"), PathRefusal::backslash);
    EXPECT_EQ(refusal_of("/index.html%00.png"), PathRefusal::nul);
    EXPECT_EQ(refusal_of("/a%0d%0aSet-Cookie:x"), PathRefusal::control_character);
    EXPECT_EQ(refusal_of("/bad%2"), PathRefusal::malformed_escape);
    EXPECT_EQ(refusal_of("/bad%zz"), PathRefusal::malformed_escape);
    EXPECT_EQ(refusal_of("/" + std::string(300, 'a')), PathRefusal::too_long);
    // Decoded once: %252e%252e is the name "%2e%2e", which is no dot segment.
    EXPECT_EQ(std::get<SiteRequestPath>(resolved("/%252e%252e")).relative, "%2e%2e");
}

TEST(SitePath, ChecksUploadedNamesWithoutDecoding) {
    EXPECT_EQ(std::get<std::string>(check_upload_name("assets/app.js")), "assets/app.js");
    EXPECT_EQ(std::get<std::string>(check_upload_name("a%2e%2e")), "a%2e%2e");
    EXPECT_EQ(std::get<PathRefusal>(check_upload_name("../x")), PathRefusal::dot_segment);
    EXPECT_EQ(std::get<PathRefusal>(check_upload_name("a/../../x")), PathRefusal::dot_segment);
    EXPECT_EQ(std::get<PathRefusal>(check_upload_name("/etc/passwd")), PathRefusal::absolute);
    EXPECT_EQ(std::get<PathRefusal>(check_upload_name("a//b")), PathRefusal::empty_segment);
    EXPECT_EQ(std::get<PathRefusal>(check_upload_name(std::string("a\0b", 3))), PathRefusal::nul);
    EXPECT_EQ(std::get<PathRefusal>(check_upload_name("a\\b")), PathRefusal::backslash);
    EXPECT_EQ(std::get<PathRefusal>(check_upload_name(std::string(256, 'x'))), PathRefusal::too_long);
    EXPECT_EQ(std::get<PathRefusal>(check_upload_name(std::string(1100, 'x'))), PathRefusal::too_long);
}

TEST(SiteContentType, ByExtensionAndUtf8ForText) {
    EXPECT_EQ(content_type_for("index.html"), "text/html; charset=utf-8");
    EXPECT_EQ(content_type_for("a/b/app.3f2a9c1b.js"), "text/javascript; charset=utf-8");
    EXPECT_EQ(content_type_for("STYLE.CSS"), "text/css; charset=utf-8");
    EXPECT_EQ(content_type_for("logo.svg"), "image/svg+xml");
    EXPECT_EQ(content_type_for("font.woff2"), "font/woff2");
    EXPECT_EQ(content_type_for("app.wasm"), "application/wasm");
    EXPECT_EQ(content_type_for("README"), "application/octet-stream");
    EXPECT_EQ(content_type_for(".htaccess"), "application/octet-stream");
    EXPECT_EQ(content_type_for("dir.html/file"), "application/octet-stream");
}

TEST(SiteCachePolicy, HashedNamesAreImmutableHtmlAndPlainNamesRevalidate) {
    EXPECT_EQ(cache_policy_for("app.3f2a9c1b.js"), CachePolicy::immutable);
    EXPECT_EQ(cache_policy_for("assets/chunk-7GXQ2KRT.js"), CachePolicy::immutable);
    EXPECT_EQ(cache_policy_for("style.0123456789abcdef.css"), CachePolicy::immutable);
    EXPECT_EQ(cache_policy_for("index.html"), CachePolicy::revalidate);
    EXPECT_EQ(cache_policy_for("page.3f2a9c1b.html"), CachePolicy::revalidate);
    EXPECT_EQ(cache_policy_for("app.js"), CachePolicy::revalidate);
    EXPECT_EQ(cache_policy_for("my-component.js"), CachePolicy::revalidate);
    EXPECT_EQ(cache_policy_for("jquery-3.7.1.min.js"), CachePolicy::revalidate);
    EXPECT_EQ(cache_policy_for("favicon-32x32.png"), CachePolicy::revalidate);
    EXPECT_EQ(cache_policy_for("myComponent2Fancy.js"), CachePolicy::revalidate);
    EXPECT_EQ(cache_policy_for("x.ComponentV2.js"), CachePolicy::revalidate);
    EXPECT_EQ(cache_control_value(CachePolicy::immutable), "public, max-age=31536000, immutable");
    EXPECT_EQ(cache_control_value(CachePolicy::revalidate), "no-cache");
}

TEST(SiteByteRange, OneRangeInItsThreeForms) {
    const auto first = std::get<ByteRange>(parse_range("bytes=0-99", 1000));
    EXPECT_EQ(first.first, 0u);
    EXPECT_EQ(first.last, 99u);
    EXPECT_EQ(first.length(), 100u);
    const auto open = std::get<ByteRange>(parse_range("bytes=900-", 1000));
    EXPECT_EQ(open.first, 900u);
    EXPECT_EQ(open.last, 999u);
    const auto suffix = std::get<ByteRange>(parse_range("bytes=-10", 1000));
    EXPECT_EQ(suffix.first, 990u);
    EXPECT_EQ(suffix.last, 999u);
    const auto clipped = std::get<ByteRange>(parse_range("bytes=500-5000", 1000));
    EXPECT_EQ(clipped.last, 999u);
    const auto whole_suffix = std::get<ByteRange>(parse_range("bytes=-5000", 1000));
    EXPECT_EQ(whole_suffix.first, 0u);
}

TEST(SiteByteRange, PastTheEndIsUnsatisfiableAndTheRestIgnored) {
    EXPECT_TRUE(std::holds_alternative<UnsatisfiableRange>(parse_range("bytes=1000-", 1000)));
    EXPECT_TRUE(std::holds_alternative<UnsatisfiableRange>(parse_range("bytes=-0", 1000)));
    EXPECT_TRUE(std::holds_alternative<UnsatisfiableRange>(parse_range("bytes=0-", 0)));
    EXPECT_TRUE(std::holds_alternative<WholeFile>(parse_range("bytes=0-1,5-6", 1000)));
    EXPECT_TRUE(std::holds_alternative<WholeFile>(parse_range("items=0-1", 1000)));
    EXPECT_TRUE(std::holds_alternative<WholeFile>(parse_range("bytes=9-3", 1000)));
    EXPECT_TRUE(std::holds_alternative<WholeFile>(parse_range("bytes=a-b", 1000)));
    EXPECT_TRUE(std::holds_alternative<WholeFile>(parse_range("bytes=99999999999999999999-", 1000)));
}

TEST(SiteContentCoding, FollowsAcceptEncodingAndItsWeights) {
    EXPECT_TRUE(accepts_coding("gzip, deflate, br", ContentCoding::br));
    EXPECT_TRUE(accepts_coding("gzip, deflate, br", ContentCoding::gzip));
    EXPECT_FALSE(accepts_coding("gzip", ContentCoding::br));
    EXPECT_FALSE(accepts_coding("", ContentCoding::gzip));
    EXPECT_FALSE(accepts_coding("br;q=0, gzip", ContentCoding::br));
    EXPECT_FALSE(accepts_coding("br; q=0.000", ContentCoding::br));
    EXPECT_TRUE(accepts_coding("br;q=0.5", ContentCoding::br));
    EXPECT_TRUE(accepts_coding("*", ContentCoding::br));
    EXPECT_FALSE(accepts_coding("*, br;q=0", ContentCoding::br));
    EXPECT_TRUE(accepts_coding("X-GZIP", ContentCoding::gzip));
    EXPECT_FALSE(accepts_coding("brotli", ContentCoding::br));
}

TEST(SiteHttpDate, FormatsAndReadsImfFixdate) {
    const WallTime time{std::chrono::seconds(1796565600)};
    EXPECT_EQ(format_http_date(time), "Sun, 06 Dec 2026 14:00:00 GMT");
    EXPECT_EQ(parse_http_date_text("Sun, 06 Dec 2026 14:00:00 GMT"), time);
    EXPECT_FALSE(parse_http_date_text("Sunday, 06-Dec-26 14:00:00 GMT"));
    EXPECT_FALSE(parse_http_date_text("yesterday"));
}

TEST(SiteSettingsCheck, NormalizesAndRefuses) {
    SiteSettings settings{"App.Example.COM.", "/docs/", false};
    EXPECT_FALSE(normalize_site_settings(settings));
    EXPECT_EQ(settings.domain, "app.example.com");
    EXPECT_EQ(settings.path_prefix, "/docs");
    SiteSettings with_port{"example.com:8080", "/", false};
    EXPECT_TRUE(normalize_site_settings(with_port));
    SiteSettings dots{"", "/a/../b", false};
    EXPECT_TRUE(normalize_site_settings(dots));
    SiteSettings relative{"", "docs", false};
    EXPECT_TRUE(normalize_site_settings(relative));
    EXPECT_TRUE(is_valid_site_name("web-app_2"));
    EXPECT_FALSE(is_valid_site_name("../x"));
    EXPECT_FALSE(is_valid_site_name(""));
}

// --- uploads ---------------------------------------------------------------------------

const SiteUploadLimits small_limits{.max_files = 3, .max_total_bytes = 100};

ArchiveRefusalKind refusal_kind(const std::string& archive, const SiteUploadLimits& limits = small_limits) {
    const auto read = read_site_archive(archive, limits);
    EXPECT_TRUE(std::holds_alternative<ArchiveRefusal>(read));
    return std::holds_alternative<ArchiveRefusal>(read) ? std::get<ArchiveRefusal>(read).kind
                                                        : ArchiveRefusalKind::malformed;
}

TEST(SiteArchive, ReadsWhatTheCliWrites) {
    const std::string long_name = std::string(150, 'd') + "/file.txt";
    const std::string archive = write_site_archive({{"index.html", "<h1>hi</h1>"}, {long_name, "x"}, {"empty.txt", ""}});
    const auto read = read_site_archive(archive, small_limits);
    ASSERT_TRUE(std::holds_alternative<std::vector<SiteUploadFile>>(read)) << std::get<ArchiveRefusal>(read).message;
    const auto& files = std::get<std::vector<SiteUploadFile>>(read);
    ASSERT_EQ(files.size(), 3u);
    EXPECT_EQ(files[0].path, "index.html");
    EXPECT_EQ(files[0].content, "<h1>hi</h1>");
    EXPECT_EQ(files[1].path, long_name);
    EXPECT_EQ(files[2].content, "");
}

TEST(SiteArchive, RefusesUnsafeNamesDuplicatesAndLimits) {
    EXPECT_EQ(refusal_kind(write_site_archive({{"../evil", "x"}})), ArchiveRefusalKind::unsafe_name);
    EXPECT_EQ(refusal_kind(write_site_archive({{"/etc/cron.d/x", "x"}})), ArchiveRefusalKind::unsafe_name);
    EXPECT_EQ(refusal_kind(write_site_archive({{std::string("a\0b", 3), "x"}})), ArchiveRefusalKind::unsafe_name);
    EXPECT_EQ(refusal_kind(write_site_archive({{"a", "x"}, {"a", "y"}})), ArchiveRefusalKind::conflicting_names);
    EXPECT_EQ(refusal_kind(write_site_archive({{"a", "x"}, {"a/b", "y"}})), ArchiveRefusalKind::conflicting_names);
    EXPECT_EQ(refusal_kind(write_site_archive({{"a", "x"}, {"b", "x"}, {"c", "x"}, {"d", "x"}})),
              ArchiveRefusalKind::too_many_files);
    EXPECT_EQ(refusal_kind(write_site_archive({{"a", std::string(101, 'x')}})), ArchiveRefusalKind::too_large);
    EXPECT_EQ(refusal_kind("not a tar archive at all"), ArchiveRefusalKind::malformed);
    std::string corrupted = write_site_archive({{"a", "x"}});
    corrupted[0] = 'b';  // the checksum no longer matches
    EXPECT_EQ(refusal_kind(corrupted), ArchiveRefusalKind::malformed);
    const std::string archive = write_site_archive({{"a", std::string(100, 'x')}});
    EXPECT_EQ(refusal_kind(archive.substr(0, 600)), ArchiveRefusalKind::malformed);
}

TEST(SiteArchive, RefusesLinksAndDevices) {
    std::string archive = write_site_archive({{"link", ""}});
    archive[156] = '2';  // a symbolic link; the checksum is made again
    std::fill(archive.begin() + 148, archive.begin() + 156, ' ');
    unsigned sum = 0;
    for (size_t i = 0; i < 512; ++i) sum += static_cast<unsigned char>(archive[i]);
    const std::string checksum = fmt::format("{:06o}", sum);
    std::copy(checksum.begin(), checksum.end(), archive.begin() + 148);
    archive[154] = '\0';
    EXPECT_EQ(refusal_kind(archive), ArchiveRefusalKind::unsupported_entry);
}

}  // namespace
}  // namespace sofaas
