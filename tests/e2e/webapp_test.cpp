// The example single-page app (examples/webapp/, built by scripts/vendor-webapp.sh into
// dist/) deployed with `sofaas site deploy` as a user would, and served as it was built: the
// page, its hashed bundle immutable and precompressed. Then the whole serverless app in
// headless Chromium: a user signs up and in with a pool, the page assumes a role with the
// ID token and calls a function with the temporary credentials, and the function answers
// with that user's sub; a function the role does not grant and revoked credentials are
// refused.
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

// What the page calls by default (examples/webapp/src/index.html): the pool "web", the role
// "web" and the function "whoami"; "hello" is deployed but not granted.
class WebApp : public DaemonTest {
protected:
    static void SetUpTestSuite() {
        DaemonTest::SetUpTestSuite();
        for (const std::vector<std::string>& command :
             {std::vector<std::string>{"site", "deploy", "webapp", webapp_dist.string(), "--spa"},
              {"users", "pool", "create", "web"},
              {"deploy", "whoami", function_library("whoami").string()},
              {"deploy", "hello", function_library("hello").string()},
              {"roles", "create", "web", "--invoke", "whoami", "--trust-pool", "web"}}) {
            const ProcessResult done = daemon().cli(command);
            ASSERT_EQ(done.exit_code, 0) << done;
        }
    }
};

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
}

TEST_F(WebApp, AUserSignsInAndTheFunctionTheyCallSeesThem) {
    const fs::path check = fs::path(SOFAAS_TESTS_DIR) / "e2e" / "webapp" / "flow_check.py";
    std::vector<std::string> args = {check.string(), daemon().endpoint() + "/", (programs_dir() / "sofaas").string(),
                                     "web"};
    if (const char* screenshot = std::getenv("SOFAAS_WEBAPP_SCREENSHOT")) args.emplace_back(screenshot);
    const ProcessResult browsed = run_process(debian_python3, args,
                                              {{"SOFAAS_ENDPOINT", daemon().endpoint()}, {"SOFAAS_TOKEN", daemon().token()}},
                                              {}, std::chrono::seconds(120));
    ASSERT_EQ(browsed.exit_code, 0) << browsed;
    EXPECT_NE(browsed.out.find("all checks passed"), std::string::npos) << browsed;
    const size_t at = browsed.out.find("sub: ");
    ASSERT_NE(at, std::string::npos) << browsed;
    const std::string sub = browsed.out.substr(at + 5, browsed.out.find('\n', at) - at - 5);

    // The one call that ran is billed to that user's session; the refused ones are not billed.
    const auto records = daemon().billing_records("whoami");
    ASSERT_EQ(records.size(), 1u);
    EXPECT_EQ(records[0]["user_sub"], sub) << records[0].dump();
    EXPECT_EQ(records[0]["role"], "web") << records[0].dump();
    EXPECT_TRUE(daemon().billing_records("hello").empty());
}

}  // namespace
}  // namespace sofaas::testing
