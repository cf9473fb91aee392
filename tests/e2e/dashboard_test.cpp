// The web dashboard at /ui/: its files served with a strict policy and nothing else of
// the disk, the activity API its charts read, and the whole of it in a real browser
// (headless Chromium through Selenium, tests/e2e/dashboard/browser_check.py).
#include <unistd.h>

#include <fstream>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/daemon_process.h"
#include "support/daemon_test.h"
#include "support/eventually.h"
#include "support/process.h"
#include "support/programs.h"
#include "support/temp_dir.h"

namespace sofaas::testing {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

// Debian's programs, not whatever else PATH finds first.
const fs::path chromium = "/usr/bin/chromium";
const fs::path chromedriver = "/usr/bin/chromedriver";

class Dashboard : public DaemonTest {
protected:
    // No queue: a second call while a function's one slot is busy is throttled at once.
    static void SetUpTestSuite() { start_daemon(json{{"limits", {{"max_queue", 0}}}}); }

    static json activity(const std::string& function, const std::string& query = "") {
        const HttpResponse answer = daemon().http().request("GET", "/v1/functions/" + function + "/activity" + query);
        EXPECT_EQ(answer.status, 200) << answer.body;
        return answer.status == 200 ? json::parse(answer.body) : json();
    }

    static uint64_t sum_of(const json& activity, const std::string& field) {
        uint64_t sum = 0;
        for (const json& bucket : activity["buckets"]) sum += bucket[field].get<uint64_t>();
        return sum;
    }
};

TEST_F(Dashboard, ServesItsPagesWithAStrictContentSecurityPolicy) {
    HttpClient http = daemon().http("");  // the files need no key: the API calls they make do
    const HttpResponse page = http.request("GET", "/ui/");
    ASSERT_EQ(page.status, 200) << page.body;
    EXPECT_EQ(page.header("Content-Type"), "text/html; charset=utf-8");
    EXPECT_NE(page.header("Content-Security-Policy").find("default-src 'self'"), std::string::npos);
    EXPECT_EQ(page.header("X-Content-Type-Options"), "nosniff");
    EXPECT_EQ(page.header("Cache-Control"), "no-cache");
    EXPECT_NE(page.body.find("<title>sofaas dashboard</title>"), std::string::npos);
    EXPECT_EQ(page.body.find("<script>"), std::string::npos) << "an inline script, which the policy forbids";

    EXPECT_EQ(http.request("GET", "/ui/index.html").body, page.body);
    EXPECT_EQ(http.request("GET", "/ui/dashboard.js").header("Content-Type"), "text/javascript; charset=utf-8");
    EXPECT_EQ(http.request("GET", "/ui/dashboard.css").header("Content-Type"), "text/css; charset=utf-8");
    const HttpResponse chart_library = http.request("GET", "/ui/vendor/uPlot.iife.min.js");
    EXPECT_EQ(chart_library.status, 200);
    EXPECT_NE(chart_library.body.find("uPlot"), std::string::npos);
    EXPECT_EQ(http.request("GET", "/ui/vendor/uPlot.LICENSE.txt").status, 200);

    // Unchanged since it was fetched: 304, no body.
    const HttpResponse again = http.request("GET", "/ui/", "", {{"If-None-Match", page.header("ETag")}});
    EXPECT_EQ(again.status, 304);
    EXPECT_TRUE(again.body.empty());

    const HttpResponse bare = http.request("GET", "/ui");
    EXPECT_EQ(bare.status, 301);
    EXPECT_EQ(bare.header("Location"), "/ui/");
    EXPECT_EQ(http.request("POST", "/ui/", "x").status, 405);
}

TEST_F(Dashboard, NoPathReachesAFileOutsideItsDirectoryNorListsOne) {
    HttpClient http = daemon().http("");
    for (const char* target :
         {"/ui/../../../../etc/passwd", "/ui/%2e%2e/%2e%2e/%2e%2e/etc/passwd", "/ui/..%2f..%2f..%2fetc%2fpasswd",
          "/ui/%252e%252e/%252e%252e/etc/passwd", "/ui/vendor/../../sofaasd", "/ui//etc/passwd",
          "/ui/%2fetc%2fpasswd", "/ui/..\\..\\etc\\passwd", "/ui/index.html%00.png", "/ui/vendor/", "/ui/vendor",
          "/ui/nonexistent.js", "/ui/../v1/functions"}) {
        const HttpResponse answer = http.request("GET", target);
        EXPECT_EQ(answer.status, 404) << target << ": " << answer.body;
        EXPECT_EQ(answer.body.find("root:"), std::string::npos) << target;
        EXPECT_EQ(answer.body.find("<html"), std::string::npos) << target;
    }
}

// ui_dir names the files to serve; only those of the dashboard's kinds (HTML, CSS,
// JavaScript, text, images) are served.
TEST_F(Dashboard, UiDirInTheConfigurationReplacesTheBuiltInFiles) {
    TempDir files;
    fs::create_directories(files.path() / "pages");
    std::ofstream(files.path() / "index.html") << "<title>custom</title>";
    std::ofstream(files.path() / "pages" / "about.html") << "about";
    std::ofstream(files.path() / "admin.token") << "not for anyone";
    std::ofstream(files.path() / "index.html.bak") << "old";
    DaemonProcess custom(json{{"ui_dir", files.path().string()}});
    custom.start();
    HttpClient http = custom.http("");
    EXPECT_EQ(http.request("GET", "/ui/").body, "<title>custom</title>");
    EXPECT_EQ(http.request("GET", "/ui/pages/about.html").body, "about");
    EXPECT_EQ(http.request("GET", "/ui/admin.token").status, 404);
    EXPECT_EQ(http.request("GET", "/ui/index.html.bak").status, 404);
    EXPECT_EQ(http.request("GET", "/ui/dashboard.js").status, 404);
    custom.stop();
}

TEST_F(Dashboard, ActivityBucketsTheInvocationsOfTheLastHour) {
    ASSERT_EQ(daemon().deploy("charted", function_library("hello")).exit_code, 0);
    ASSERT_EQ(daemon().deploy("charted-failing", function_library("sleep")).exit_code, 0);
    for (int i = 0; i < 3; ++i) ASSERT_EQ(daemon().cli({"invoke", "charted"}).exit_code, 0);
    ASSERT_NE(daemon().cli({"invoke", "charted-failing", "--data", "not a number"}).exit_code, 0);

    const json charted = activity("charted");
    EXPECT_EQ(charted["function"], "charted");
    EXPECT_EQ(charted["step_s"], 60);
    // An hour by minute: 60 buckets, 61 when the hour does not start on a minute.
    EXPECT_GE(charted["buckets"].size(), 60u);
    EXPECT_LE(charted["buckets"].size(), 61u);
    EXPECT_EQ(sum_of(charted, "invocations"), 3u);  // the deploy's trial load is no invocation
    EXPECT_EQ(sum_of(charted, "cold_starts"), 1u);
    EXPECT_EQ(sum_of(charted, "errors"), 0u);
    bool timed = false;
    for (const json& bucket : charted["buckets"]) {
        if (bucket["invocations"] == 0) {
            EXPECT_TRUE(bucket["duration_p50_ms"].is_null());
        } else {
            timed = bucket["duration_p50_ms"].get<double>() >= 0 &&
                    bucket["duration_p99_ms"].get<double>() >= bucket["duration_p50_ms"].get<double>();
        }
    }
    EXPECT_TRUE(timed) << charted.dump();

    const json failing = activity("charted-failing", "?since=10m&step=15");
    EXPECT_EQ(failing["step_s"], 15);
    EXPECT_EQ(sum_of(failing, "errors"), 1u);
    uint64_t by_status = 0;
    for (const json& bucket : failing["buckets"]) by_status += bucket["errors_by_status"].value("error", 0);
    EXPECT_EQ(by_status, 1u) << failing.dump();
}

TEST_F(Dashboard, ActivityRefusesRangesOfTooManyBucketsNamingTheLimit) {
    ASSERT_EQ(daemon().deploy("bounded", function_library("hello")).exit_code, 0);
    HttpClient http = daemon().http();
    const HttpResponse too_many = http.request("GET", "/v1/functions/bounded/activity?since=1d&step=1");
    EXPECT_EQ(too_many.status, 400);
    EXPECT_NE(too_many.body.find("at most 1500"), std::string::npos) << too_many.body;
    EXPECT_EQ(http.request("GET", "/v1/functions/bounded/activity?since=1d&step=60").status, 200);
    for (const char* query : {"?step=0", "?step=-5", "?step=60s", "?step=604801", "?since=yesterday",
                              "?since=1h&until=2h", "?until=2000-01-01"}) {
        const HttpResponse refused = http.request("GET", std::string("/v1/functions/bounded/activity") + query);
        EXPECT_EQ(refused.status, 400) << query << ": " << refused.body;
    }
    EXPECT_EQ(http.request("GET", "/v1/functions/nobody/activity").status, 404);
    EXPECT_EQ(http.request("POST", "/v1/functions/bounded/activity").status, 405);
    EXPECT_EQ(daemon().http("").request("GET", "/v1/functions/bounded/activity").status, 401);
    // A key that may only invoke the function may not read its activity.
    const ProcessResult created = daemon().cli({"keys", "create", "bounded-caller", "--scope", "invoke", "--function",
                                                "bounded", "--json"});
    ASSERT_EQ(created.exit_code, 0) << created;
    const json key = json::parse(created.out);
    const std::string credential = key["access_key_id"].get<std::string>() + ":" + key["secret_access_key"].get<std::string>();
    EXPECT_EQ(daemon().http(credential).request("GET", "/v1/functions/bounded/activity").status, 403);
}

// Throttled requests are never billed: the activity counts them from the scheduler.
TEST_F(Dashboard, ActivityCountsThrottles) {
    ASSERT_EQ(daemon().deploy("throttled", function_library("sleep"), {"--max-concurrency", "1"}).exit_code, 0);
    std::thread busy([endpoint = daemon().endpoint(), token = daemon().token()] {
        HttpClient(endpoint, token).request("POST", "/v1/functions/throttled/invoke", "1500");
    });
    HttpClient http = daemon().http();
    ASSERT_TRUE(eventually([&] {
        const json described = json::parse(http.request("GET", "/v1/functions/throttled").body);
        return described["workers"]["busy"] == 1;
    }));
    EXPECT_EQ(http.request("POST", "/v1/functions/throttled/invoke", "1").status, 429);
    busy.join();
    const json throttled = activity("throttled", "?since=5m&step=10");
    EXPECT_EQ(sum_of(throttled, "throttles"), 1u) << throttled.dump();
    EXPECT_EQ(sum_of(throttled, "invocations"), 1u);
}

// The dashboard as its user sees it, in headless Chromium.
TEST_F(Dashboard, InARealBrowserSignsInChartsTrafficShowsFailuresAndRefusesAWrongKey) {
    if (::access(chromium.c_str(), X_OK) != 0 || ::access(chromedriver.c_str(), X_OK) != 0) {
        GTEST_SKIP() << "needs Debian's chromium and chromium-driver (scripts/install-deps.sh installs them)";
    }
    ASSERT_EQ(daemon().deploy("browsed", function_library("hello")).exit_code, 0);
    ASSERT_EQ(daemon().deploy("browsed-crash", function_library("crash")).exit_code, 0);
    constexpr int invocations = 4;
    for (int i = 0; i < invocations; ++i) ASSERT_EQ(daemon().cli({"invoke", "browsed"}).exit_code, 0);
    ASSERT_NE(daemon().cli({"invoke", "browsed-crash"}).exit_code, 0);

    // The reason the function's log gives, after "RequestId: ID Error: ".
    const json logs = json::parse(daemon().http().request("GET", "/v1/functions/browsed-crash/logs").body);
    std::string reason;
    for (const json& line : logs["lines"]) {
        const std::string message = line["message"];
        const std::string prefix = "RequestId: " + line["request_id"].get<std::string>() + " Error: ";
        if (message.starts_with(prefix)) reason = message.substr(prefix.size());
    }
    ASSERT_FALSE(reason.empty()) << logs.dump();

    const fs::path script = fs::path(SOFAAS_TESTS_DIR) / "e2e" / "dashboard" / "browser_check.py";
    std::vector<std::string> args = {script.string(), daemon().endpoint(), daemon().token(),
                                     "browsed",       std::to_string(invocations), "browsed-crash", reason};
    // For docs/dashboard.png: the same browser, the same page.
    if (const char* screenshot = std::getenv("SOFAAS_DASHBOARD_SCREENSHOT")) args.emplace_back(screenshot);
    const ProcessResult result = run_process(debian_python3, args, {}, {}, std::chrono::seconds(60));
    EXPECT_EQ(result.exit_code, 0) << result;
    EXPECT_NE(result.out.find("all checks passed"), std::string::npos) << result;
    EXPECT_EQ(daemon().log().find(daemon().token()), std::string::npos) << "the token is in the daemon's log";
}

}  // namespace
}  // namespace sofaas::testing
