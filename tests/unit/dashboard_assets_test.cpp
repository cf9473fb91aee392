// The dashboard's files (gateway/dashboard_assets.h): only what was found in its directory
// when it was read, of the kinds a page uses, by exactly the name below /ui/.
#include <gtest/gtest.h>

#include <fstream>

#include "gateway/dashboard_assets.h"
#include "support/temp_dir.h"

using namespace sofaas;
namespace fs = std::filesystem;

namespace {

IncomingRequest dashboard_request(std::string target, std::string method = "GET") {
    IncomingRequest request;
    request.method = std::move(method);
    request.target = std::move(target);
    return request;
}

std::string dashboard_header(const HttpResponseParts& response, std::string_view name) {
    for (const auto& [key, value] : response.headers) {
        if (key == name) return value;
    }
    return "";
}

class DashboardAssetsTest : public ::testing::Test {
protected:
    void SetUp() override {
        fs::create_directories(ui / "vendor");
        std::ofstream(ui / "index.html") << "<title>t</title>";
        std::ofstream(ui / "vendor" / "chart.js") << "chart()";
        std::ofstream(ui / "notes.md") << "private";
        fs::create_directories(outside.path() / "secrets");
        std::ofstream(outside.path() / "secrets" / "key.txt") << "secret";
    }
    sofaas::testing::TempDir dir{"sofaas-ui"};
    sofaas::testing::TempDir outside{"sofaas-outside"};
    fs::path ui = dir.path() / "ui";
};

}  // namespace

TEST_F(DashboardAssetsTest, ServesTheIndexAndFilesBelowWithTheirTypesAndPolicy) {
    const DashboardAssets assets(ui);
    EXPECT_EQ(assets.file_count(), 2u);  // notes.md is of no served kind
    const HttpResponseParts index = assets.respond(dashboard_request("/ui/"));
    EXPECT_EQ(index.status, 200);
    EXPECT_EQ(index.body, "<title>t</title>");
    EXPECT_EQ(dashboard_header(index, "Content-Type"), "text/html; charset=utf-8");
    EXPECT_EQ(dashboard_header(index, "Content-Security-Policy").rfind("default-src 'self'", 0), 0u);
    const HttpResponseParts script = assets.respond(dashboard_request("/ui/vendor/chart.js?v=1"));
    EXPECT_EQ(script.body, "chart()");
    EXPECT_EQ(dashboard_header(script, "Content-Type"), "text/javascript; charset=utf-8");
    EXPECT_EQ(assets.respond(dashboard_request("/ui/notes.md")).status, 404);
}

TEST_F(DashboardAssetsTest, AnEtagThatMatchesIsA304) {
    const DashboardAssets assets(ui);
    const std::string etag = dashboard_header(assets.respond(dashboard_request("/ui/")), "ETag");
    ASSERT_FALSE(etag.empty());
    IncomingRequest again = dashboard_request("/ui/");
    again.headers.emplace_back("If-None-Match", etag);
    const HttpResponseParts cached = assets.respond(again);
    EXPECT_EQ(cached.status, 304);
    EXPECT_TRUE(cached.body.empty());
}

TEST_F(DashboardAssetsTest, ASymlinkedDirectoryIsNotFollowed) {
    fs::create_directory_symlink(outside.path() / "secrets", ui / "linked");
    const DashboardAssets assets(ui);
    EXPECT_EQ(assets.respond(dashboard_request("/ui/linked/key.txt")).status, 404);
}

TEST_F(DashboardAssetsTest, ASymlinkedFileIsNotServed) {
    fs::create_symlink(outside.path() / "secrets" / "key.txt", ui / "key.txt");
    const DashboardAssets assets(ui);
    EXPECT_EQ(assets.respond(dashboard_request("/ui/key.txt")).status, 404);
}

TEST_F(DashboardAssetsTest, FilesAreReadOnceAtTheStart) {
    const DashboardAssets assets(ui);
    std::ofstream(ui / "later.js") << "added()";
    EXPECT_EQ(assets.respond(dashboard_request("/ui/later.js")).status, 404);
}

TEST_F(DashboardAssetsTest, TraversalInAnyEncodingNamesNoFile) {
    std::ofstream(dir.path() / "beside.txt") << "beside";
    const DashboardAssets assets(ui);
    for (const char* target : {"/ui/../beside.txt", "/ui/%2e%2e/beside.txt", "/ui/%2E%2E%2Fbeside.txt",
                               "/ui/vendor/../index.html", "/ui/./index.html", "/ui//index.html", "/ui/vendor/",
                               "/ui/vendor", "/ui/%252e%252e/beside.txt"}) {
        EXPECT_EQ(assets.respond(dashboard_request(target)).status, 404) << target;
    }
}

TEST_F(DashboardAssetsTest, NoDirectoryMeansNotInstalled) {
    const DashboardAssets none(std::nullopt);
    const HttpResponseParts answer = none.respond(dashboard_request("/ui/"));
    EXPECT_EQ(answer.status, 404);
    EXPECT_NE(answer.body.find("not installed"), std::string::npos);
    const DashboardAssets missing(dir.path() / "nonexistent");
    EXPECT_NE(missing.respond(dashboard_request("/ui/")).body.find("not installed"), std::string::npos);
}

TEST_F(DashboardAssetsTest, OnlyGetAndHeadAndUiRedirectsToUiSlash) {
    const DashboardAssets assets(ui);
    EXPECT_EQ(assets.respond(dashboard_request("/ui/", "POST")).status, 405);
    EXPECT_EQ(assets.respond(dashboard_request("/ui/", "HEAD")).status, 200);
    const HttpResponseParts bare = assets.respond(dashboard_request("/ui"));
    EXPECT_EQ(bare.status, 301);
    EXPECT_EQ(dashboard_header(bare, "Location"), "/ui/");
    EXPECT_TRUE(is_dashboard_path("/ui"));
    EXPECT_TRUE(is_dashboard_path("/ui/x"));
    EXPECT_FALSE(is_dashboard_path("/uix"));
    EXPECT_FALSE(is_dashboard_path("/fn/ui"));
}
