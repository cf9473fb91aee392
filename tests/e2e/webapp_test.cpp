// The example single-page app (examples/webapp/, built by scripts/vendor-webapp.sh into
// dist/) deployed with `sofaas site deploy` as a user would, and served as it was built:
// the page, its hashed bundle immutable and precompressed, the bundle's script running in
// headless Chromium under the site's Content-Security-Policy.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/curl.h"
#include "support/daemon_process.h"
#include "support/daemon_test.h"
#include "support/process.h"
#include "support/programs.h"

namespace sofaas::testing {
namespace {

namespace fs = std::filesystem;

const fs::path webapp_dist = fs::path(SOFAAS_TESTS_DIR) / ".." / "examples" / "webapp" / "dist";

class WebApp : public DaemonTest {};

// The bundle's name, as the build wrote it into dist/: app.HASH.js.
std::string bundle_name() {
    for (const auto& entry : fs::directory_iterator(webapp_dist)) {
        const std::string name = entry.path().filename().string();
        if (name.starts_with("app.") && name.ends_with(".js")) return name;
    }
    return "";
}

TEST_F(WebApp, TheBuiltAppIsServedAsASite) {
    const std::string bundle = bundle_name();
    ASSERT_FALSE(bundle.empty()) << "no app.HASH.js in " << webapp_dist << ": run scripts/vendor-webapp.sh";
    const ProcessResult deployed = daemon().cli({"site", "deploy", "webapp", webapp_dist.string(), "--spa"});
    ASSERT_EQ(deployed.exit_code, 0) << deployed;

    const CurlAnswer page = curl(daemon().endpoint() + "/");
    EXPECT_EQ(page.status, 200);
    EXPECT_EQ(page.header("Cache-Control"), "no-cache");
    EXPECT_NE(page.body.find("<script src=\"" + bundle + "\"></script>"), std::string::npos) << page.body;
    EXPECT_EQ(page.body.find("<script>"), std::string::npos) << "an inline script, which the policy forbids";

    const CurlAnswer script = curl(daemon().endpoint() + "/" + bundle, {"-H", "Accept-Encoding: gzip"});
    EXPECT_EQ(script.status, 200);
    EXPECT_EQ(script.header("Cache-Control"), "public, max-age=31536000, immutable");
    EXPECT_EQ(script.header("Content-Encoding"), "gzip");
    EXPECT_EQ(script.header("Content-Type"), "text/javascript; charset=utf-8");
    EXPECT_EQ(curl(daemon().endpoint() + "/account/settings").body, page.body) << "the SPA fallback";

    const fs::path check = fs::path(SOFAAS_TESTS_DIR) / "e2e" / "webapp" / "page_check.py";
    std::vector<std::string> args = {check.string(), daemon().endpoint() + "/"};
    if (const char* screenshot = std::getenv("SOFAAS_WEBAPP_SCREENSHOT")) args.emplace_back(screenshot);
    const ProcessResult browsed = run_process(debian_python3, args, {}, {}, std::chrono::seconds(60));
    EXPECT_EQ(browsed.exit_code, 0) << browsed;
    EXPECT_NE(browsed.out.find("all checks passed"), std::string::npos) << browsed;
}

}  // namespace
}  // namespace sofaas::testing
