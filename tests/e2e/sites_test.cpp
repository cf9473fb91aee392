// Static sites, the tour and the attacks: `sofaas site deploy` a directory, fetch it with
// curl as a browser would (types, ETags, ranges, precompressed copies, cache policy, the
// SPA fallback), roll back, delete; and what a hostile uploader or caller tries: archives
// with `..`, absolute names, links, NULs, too many or too big files; requests with
// %2e%2e, backslashes and NULs. None of them stores or serves anything.
#include <fstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "common/sha256.h"
#include "support/curl.h"
#include "support/daemon_process.h"
#include "support/daemon_test.h"
#include "support/process.h"
#include "support/programs.h"
#include "support/raw_socket.h"
#include "support/temp_dir.h"
#include "support/test_data.h"

namespace sofaas::testing {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

const fs::path curl_program = "/usr/bin/curl";

void write_file(const fs::path& file, const std::string& content) {
    fs::create_directories(file.parent_path());
    std::ofstream(file, std::ios::binary) << content;
}

// Bytes no compressor's output could be mistaken for: the test tells the files apart.
std::string pattern(size_t size, char seed) {
    std::string bytes(size, '\0');
    for (size_t i = 0; i < size; ++i) bytes[i] = static_cast<char>((i * 31 + static_cast<size_t>(seed)) % 251);
    return bytes;
}

class Sites : public DaemonTest {
protected:
    static void SetUpTestSuite() {
        start_daemon(json{{"sites", {{"max_files", 20}, {"max_total_bytes", 8 * 1024 * 1024}}}});
    }

    static std::string url(const std::string& path) { return daemon().endpoint() + path; }

    // A directory of `files` deployed as site `name`; the CLI's result.
    static ProcessResult deploy_site(const std::string& name, const std::vector<std::pair<std::string, std::string>>& files,
                                     const std::vector<std::string>& flags) {
        TempDir directory("sofaas-site");
        for (const auto& [path, content] : files) write_file(directory / path, content);
        std::vector<std::string> args = {"site", "deploy", name, directory.path().string()};
        args.insert(args.end(), flags.begin(), flags.end());
        return daemon().cli(args);
    }

    // What a hostile uploader sends: an archive made by Python's tarfile from `script`,
    // which adds entries to the open archive `tar`.
    static std::string crafted_archive(const std::string& script) {
        TempDir scratch("sofaas-tar");
        const std::string program = "import io, tarfile, sys\n"
                                    "tar = tarfile.open(sys.argv[1], 'w', format=tarfile.PAX_FORMAT)\n"
                                    "def add(name, data=b'x', kind=tarfile.REGTYPE, link=''):\n"
                                    "    info = tarfile.TarInfo(name); info.type = kind; info.linkname = link\n"
                                    "    info.size = len(data) if kind == tarfile.REGTYPE else 0\n"
                                    "    tar.addfile(info, io.BytesIO(data) if kind == tarfile.REGTYPE else None)\n" +
                                    script + "\ntar.close()\n";
        const ProcessResult made = run_process(debian_python3, {"-c", program, (scratch / "a.tar").string()});
        EXPECT_EQ(made.exit_code, 0) << made;
        return file_text(scratch / "a.tar");
    }

    static HttpResponse upload(const std::string& name, const std::string& archive) {
        return daemon().http().request("PUT", "/v1/sites/" + name, archive, {{"Content-Type", "application/x-tar"}});
    }
};

TEST_F(Sites, DeployServesRollsBackAndDeletes) {
    const ProcessResult first = deploy_site("tour", {{"index.html", "<h1>one</h1>"}, {"app.3f2a9c1b.js", "let one;"}},
                                            {"--path", "/tour"});
    ASSERT_EQ(first.exit_code, 0) << first;
    EXPECT_NE(first.out.find("deployed site tour version 1 (2 files"), std::string::npos) << first.out;

    const CurlAnswer page = curl(url("/tour/"));
    EXPECT_EQ(page.status, 200);
    EXPECT_EQ(page.body, "<h1>one</h1>");
    EXPECT_EQ(page.header("Content-Type"), "text/html; charset=utf-8");
    EXPECT_EQ(page.header("Cache-Control"), "no-cache");
    EXPECT_EQ(page.header("X-Content-Type-Options"), "nosniff");
    EXPECT_NE(page.header("Content-Security-Policy").find("default-src 'self'"), std::string::npos);
    EXPECT_EQ(page.header("Strict-Transport-Security"), "") << "HSTS only when configured as behind TLS";
    EXPECT_EQ(curl(url("/tour/index.html")).body, page.body);
    const CurlAnswer script = curl(url("/tour/app.3f2a9c1b.js"));
    EXPECT_EQ(script.header("Content-Type"), "text/javascript; charset=utf-8");
    EXPECT_EQ(script.header("Cache-Control"), "public, max-age=31536000, immutable");
    const CurlAnswer bare = curl(url("/tour?x=1"));
    EXPECT_EQ(bare.status, 301);
    EXPECT_EQ(bare.header("Location"), "/tour/?x=1");

    ASSERT_EQ(deploy_site("tour", {{"index.html", "<h1>two</h1>"}}, {"--path", "/tour"}).exit_code, 0);
    EXPECT_EQ(curl(url("/tour/")).body, "<h1>two</h1>");
    EXPECT_EQ(curl(url("/tour/app.3f2a9c1b.js")).status, 404) << "version 2 has no such file";

    const ProcessResult back = daemon().cli({"site", "rollback", "tour"});
    ASSERT_EQ(back.exit_code, 0) << back;
    EXPECT_NE(back.out.find("now serves version 1"), std::string::npos) << back.out;
    EXPECT_EQ(curl(url("/tour/")).body, "<h1>one</h1>");
    ASSERT_EQ(daemon().cli({"site", "rollback", "tour", "2"}).exit_code, 0);
    EXPECT_EQ(curl(url("/tour/")).body, "<h1>two</h1>");
    const ProcessResult missing = daemon().cli({"site", "rollback", "tour", "9"});
    EXPECT_NE(missing.exit_code, 0);
    EXPECT_NE(missing.err.find("no version 9"), std::string::npos) << missing;

    const ProcessResult listed = daemon().cli({"site", "list", "--output", "json"});
    ASSERT_EQ(listed.exit_code, 0) << listed;
    bool found = false;
    const json sites = json::parse(listed.out);
    for (const json& site : sites["sites"]) {
        if (site["name"] != "tour") continue;
        found = true;
        EXPECT_EQ(site["version"], 2);
        EXPECT_EQ(site["path"], "/tour");
        EXPECT_EQ(site["versions"], json::array({1, 2}));
    }
    EXPECT_TRUE(found) << listed.out;

    // A restarted daemon serves what it served.
    daemon().restart();
    EXPECT_EQ(curl(url("/tour/")).body, "<h1>two</h1>");

    ASSERT_EQ(daemon().cli({"site", "delete", "tour"}).exit_code, 0);
    EXPECT_EQ(curl(url("/tour/")).status, 404);
    EXPECT_FALSE(fs::exists(daemon().data_dir() / "sites" / "tour"));
}

TEST_F(Sites, ConditionalRequestsAnswer304) {
    ASSERT_EQ(deploy_site("cond", {{"index.html", "hello"}}, {"--path", "/cond"}).exit_code, 0);
    const CurlAnswer first = curl(url("/cond/index.html"));
    ASSERT_EQ(first.status, 200);
    const std::string etag = first.header("ETag");
    const std::string modified = first.header("Last-Modified");
    EXPECT_EQ(etag.front(), '"');
    EXPECT_TRUE(modified.ends_with(" GMT")) << modified;

    const CurlAnswer same = curl(url("/cond/index.html"), {"-H", "If-None-Match: " + etag});
    EXPECT_EQ(same.status, 304);
    EXPECT_EQ(same.body, "");
    EXPECT_EQ(same.header("ETag"), etag);
    EXPECT_EQ(curl(url("/cond/index.html"), {"-H", "If-None-Match: \"other\", W/" + etag}).status, 304);
    EXPECT_EQ(curl(url("/cond/index.html"), {"-H", "If-None-Match: \"other\""}).status, 200);
    EXPECT_EQ(curl(url("/cond/index.html"), {"-H", "If-Modified-Since: " + modified}).status, 304);
    EXPECT_EQ(curl(url("/cond/index.html"), {"-H", "If-Modified-Since: Thu, 01 Jan 2015 00:00:00 GMT"}).status, 200);
}

TEST_F(Sites, RangesOfSmallAndStreamedFiles) {
    const std::string small = pattern(1000, 'a');
    const std::string large = pattern(3 * 1024 * 1024 + 17, 'b');  // above the in-memory size: streamed
    ASSERT_EQ(deploy_site("ranges", {{"small.bin", small}, {"large.bin", large}}, {"--path", "/ranges"}).exit_code, 0);

    const CurlAnswer part = curl(url("/ranges/small.bin"), {"-H", "Range: bytes=100-199"});
    EXPECT_EQ(part.status, 206);
    EXPECT_EQ(part.header("Content-Range"), "bytes 100-199/1000");
    EXPECT_EQ(part.body, small.substr(100, 100));
    EXPECT_EQ(curl(url("/ranges/small.bin"), {"-H", "Range: bytes=-10"}).body, small.substr(990));
    const CurlAnswer past = curl(url("/ranges/small.bin"), {"-H", "Range: bytes=5000-"});
    EXPECT_EQ(past.status, 416);
    EXPECT_EQ(past.header("Content-Range"), "bytes */1000");
    const CurlAnswer stale = curl(url("/ranges/small.bin"), {"-H", "Range: bytes=0-9", "-H", "If-Range: \"old\""});
    EXPECT_EQ(stale.status, 200) << "a range of another version is the whole file";
    EXPECT_EQ(stale.body, small);

    const CurlAnswer whole = curl(url("/ranges/large.bin"));
    EXPECT_EQ(whole.status, 200);
    EXPECT_EQ(whole.header("Content-Length"), std::to_string(large.size()));
    EXPECT_EQ(sha256_hex(whole.body), sha256_hex(large));
    const CurlAnswer middle = curl(url("/ranges/large.bin"), {"-H", "Range: bytes=1048570-2097160"});
    EXPECT_EQ(middle.status, 206);
    EXPECT_EQ(middle.body, large.substr(1048570, 2097160 - 1048570 + 1));
    const CurlAnswer head = curl(url("/ranges/large.bin"), {"-I"});
    EXPECT_EQ(head.status, 200);
    EXPECT_EQ(head.header("Content-Length"), std::to_string(large.size()));
    EXPECT_LT(head.body.size(), 2000u) << "curl -I writes the head where the body would go; no body follows";

    // The connection stays usable after a streamed file: two in a row on one connection.
    const ProcessResult twice = run_process(curl_program, {"-sS", "-o", "/dev/null", "-o", "/dev/null", "-w",
                                                           "%{http_code} %{num_connects}\n", url("/ranges/large.bin"),
                                                           url("/ranges/small.bin")});
    EXPECT_EQ(twice.out, "200 1\n200 0\n") << twice;
}

TEST_F(Sites, PrecompressedCopiesByAcceptEncoding) {
    const std::string plain = "console.log('plain');";
    const std::string gz = pattern(40, 'g'), br = pattern(30, 'r');
    ASSERT_EQ(deploy_site("coded", {{"app.js", plain}, {"app.js.gz", gz}, {"app.js.br", br}, {"other.css", "a{}"}},
                          {"--path", "/coded"})
                  .exit_code,
              0);
    const CurlAnswer with_br = curl(url("/coded/app.js"), {"-H", "Accept-Encoding: gzip, br"});
    EXPECT_EQ(with_br.header("Content-Encoding"), "br");
    EXPECT_EQ(with_br.header("Content-Type"), "text/javascript; charset=utf-8");
    EXPECT_EQ(with_br.header("Vary"), "Accept-Encoding");
    EXPECT_EQ(with_br.body, br);
    const CurlAnswer with_gzip = curl(url("/coded/app.js"), {"-H", "Accept-Encoding: gzip, br;q=0"});
    EXPECT_EQ(with_gzip.header("Content-Encoding"), "gzip");
    EXPECT_EQ(with_gzip.body, gz);
    EXPECT_NE(with_gzip.header("ETag"), with_br.header("ETag"));
    const CurlAnswer identity = curl(url("/coded/app.js"));
    EXPECT_EQ(identity.header("Content-Encoding"), "");
    EXPECT_EQ(identity.header("Vary"), "Accept-Encoding");
    EXPECT_EQ(identity.body, plain);
    EXPECT_EQ(curl(url("/coded/other.css"), {"-H", "Accept-Encoding: br"}).header("Vary"), "");
}

TEST_F(Sites, SinglePageAppFallbackButMissingAssetsStay404) {
    ASSERT_EQ(deploy_site("spa", {{"index.html", "<div id=app></div>"}, {"assets/app.js", "x"}},
                          {"--domain", "spa.example.test", "--spa"})
                  .exit_code,
              0);
    const std::vector<std::string> host = {"-H", "Host: spa.example.test"};
    const CurlAnswer route = curl(url("/settings/profile"), host);
    EXPECT_EQ(route.status, 200);
    EXPECT_EQ(route.body, "<div id=app></div>");
    EXPECT_EQ(route.header("Cache-Control"), "no-cache");
    EXPECT_EQ(curl(url("/assets/missing.js"), host).status, 404);
    std::vector<std::string> html = host;
    html.insert(html.end(), {"-H", "Accept: text/html,*/*"});
    EXPECT_EQ(curl(url("/report.2026"), html).status, 200) << "a navigation to a page with a dot in its name";
    EXPECT_EQ(curl(url("/assets/app.js"), host).body, "x");
    std::vector<std::string> post = host;
    post.insert(post.end(), {"-X", "POST"});
    const CurlAnswer refused = curl(url("/settings"), post);
    EXPECT_EQ(refused.status, 405);
    EXPECT_EQ(refused.header("Allow"), "GET, HEAD");
    EXPECT_EQ(curl(url("/settings/profile")).status, 404) << "another host: not this site";
}

TEST_F(Sites, HostAndPrefixChooseTheSiteAndFunctionRoutesWin) {
    ASSERT_EQ(daemon().deploy("site-neighbour", function_library("echo"), {"--route", "GET /api/{what}"}).exit_code, 0);
    ASSERT_EQ(deploy_site("host-a", {{"index.html", "A"}, {"api/x", "site"}}, {"--domain", "a.example.test"}).exit_code, 0);
    ASSERT_EQ(deploy_site("host-b", {{"index.html", "B"}}, {"--domain", "B.Example.Test"}).exit_code, 0);
    ASSERT_EQ(deploy_site("host-a-docs", {{"index.html", "A docs"}}, {"--domain", "a.example.test", "--path", "/docs"})
                  .exit_code,
              0);
    EXPECT_EQ(curl(url("/"), {"-H", "Host: a.example.test"}).body, "A");
    EXPECT_EQ(curl(url("/"), {"-H", "Host: b.example.test:8080"}).body, "B");
    EXPECT_EQ(curl(url("/docs/"), {"-H", "Host: a.example.test"}).body, "A docs");
    EXPECT_EQ(curl(url("/"), {"-H", "Host: c.example.test"}).status, 404);
    const CurlAnswer api = curl(url("/api/x"), {"-H", "Host: a.example.test"});
    EXPECT_EQ(api.status, 200);
    EXPECT_NE(api.body.find("\"rawPath\":\"/api/x\""), std::string::npos) << "the function answers, not the site: " << api.body;
    EXPECT_EQ(curl(url("/healthz"), {"-H", "Host: a.example.test"}).status, 200);
}

TEST_F(Sites, ConflictingDeploysAreRefused) {
    const ProcessResult platform = deploy_site("on-api", {{"index.html", "x"}}, {"--path", "/v1/mine"});
    EXPECT_NE(platform.exit_code, 0);
    EXPECT_NE(platform.err.find("within /v1"), std::string::npos) << platform;
    EXPECT_NE(deploy_site("on-fn", {{"index.html", "x"}}, {"--path", "/fn"}).exit_code, 0);
    EXPECT_NE(deploy_site("on-auth", {{"index.html", "x"}}, {"--path", "/auth"}).exit_code, 0);

    ASSERT_EQ(daemon().deploy("shop-api", function_library("echo"), {"--route", "GET /shop/items/{id}"}).exit_code, 0);
    const ProcessResult route = deploy_site("shop", {{"index.html", "x"}}, {"--path", "/shop"});
    EXPECT_NE(route.exit_code, 0);
    EXPECT_NE(route.err.find("GET /shop/items/{id}"), std::string::npos) << route;

    ASSERT_EQ(deploy_site("first", {{"index.html", "1"}}, {"--path", "/taken"}).exit_code, 0);
    const ProcessResult second = deploy_site("second", {{"index.html", "2"}}, {"--path", "/taken/"});
    EXPECT_NE(second.exit_code, 0);
    EXPECT_NE(second.err.find("Site first is already served"), std::string::npos) << second;
    EXPECT_EQ(curl(url("/taken/")).body, "1");
    EXPECT_FALSE(fs::exists(daemon().data_dir() / "sites" / "second"));

    const ProcessResult bad_domain = deploy_site("bad", {{"index.html", "x"}}, {"--domain", "evil.test:80"});
    EXPECT_NE(bad_domain.exit_code, 0);
    EXPECT_NE(bad_domain.err.find("--domain"), std::string::npos) << bad_domain;
}

TEST_F(Sites, HostileUploadsAreRefusedAndStoreNothing) {
    const std::vector<std::pair<std::string, std::string>> attacks = {
        {"add('../outside.html')", "not a file's place"},
        {"add('ok.html'); add('a/../../outside.html')", "not a file's place"},
        {"add('/etc/cron.d/evil')", "absolute"},
        {"add('link', kind=tarfile.SYMTYPE, link='/etc/passwd')", "symbolic link"},
        {"add('hard', kind=tarfile.LNKTYPE, link='index.html')", "hard link"},
        {"add('fifo', kind=tarfile.FIFOTYPE)", "FIFO"},
        {"add('index.html\\x00.png')", "NUL"},
        {"add('a' * 300)", "too long"},
        {"add('dup'); add('dup')", "twice"},
        {"add('a..b\\\\..\\\\x')", "backslash"},
    };
    for (const auto& [script, reason] : attacks) {
        const HttpResponse answer = upload("evil", crafted_archive(script));
        EXPECT_EQ(answer.status, 400) << script << ": " << answer.body;
        EXPECT_NE(answer.body.find(reason), std::string::npos) << script << ": " << answer.body;
    }
    const HttpResponse many = upload("evil", crafted_archive("for i in range(21): add(f'f{i}')"));
    EXPECT_EQ(many.status, 413) << many.body;
    const HttpResponse big = upload("evil", crafted_archive("add('big', b'x' * (8 * 1024 * 1024 + 1))"));
    EXPECT_EQ(big.status, 413) << big.body;
    const HttpResponse garbage = upload("evil", std::string(2048, 'z'));
    EXPECT_EQ(garbage.status, 400) << garbage.body;

    EXPECT_FALSE(fs::exists(daemon().data_dir() / "sites" / "evil")) << "a refused upload stores nothing";
    EXPECT_FALSE(fs::exists(daemon().data_dir() / "outside.html"));
    EXPECT_FALSE(fs::exists(daemon().data_dir() / "sites" / "outside.html"));

    HttpClient anonymous = daemon().http("");
    EXPECT_EQ(anonymous.request("PUT", "/v1/sites/evil", crafted_archive("add('index.html')")).status, 401);
}

TEST_F(Sites, HostileRequestsReachNothingOutsideTheSite) {
    ASSERT_EQ(deploy_site("walled", {{"index.html", "inside"}, {"assets/app.js", "x"}}, {"--path", "/walled"}).exit_code, 0);
    write_file(daemon().data_dir() / "sites" / "walled" / "secret.txt", "outside");
    for (const std::string& path :
         {"/walled/../walled/secret.txt", "/walled/%2e%2e/secret.txt", "/walled/%2E%2E/%2e%2e/admin.token",
          "/walled/..%2fsecret.txt", "/walled/..%5csecret.txt", "/walled/assets%5c..%5c..%5csecret.txt",
          "/walled/index.html%00.js", "/walled/bad%zzescape"}) {
        const CurlAnswer answer = curl(url(path));
        EXPECT_EQ(answer.status, 400) << path << ": " << answer.body;
        EXPECT_EQ(answer.body.find("outside"), std::string::npos) << path;
    }
    // A backslash sent raw, as no client would.
    RawConnection raw(daemon().endpoint());
    raw.send("GET /walled/assets\\..\\..\\secret.txt HTTP/1.1\r\nHost: x\r\n\r\n");
    const std::optional<RawResponse> raw_answer = raw.read_response();
    ASSERT_TRUE(raw_answer);
    EXPECT_EQ(raw_answer->status, 400);
    // No listing of a directory: its index or nothing.
    const CurlAnswer directory = curl(url("/walled/assets/"));
    EXPECT_EQ(directory.status, 404);
    EXPECT_EQ(directory.body.find("app.js"), std::string::npos);
    EXPECT_EQ(curl(url("/walled/assets")).status, 404);
}

// A site behind a TLS proxy, with its own policy: HSTS then, and the configured headers.
class SitesBehindTls : public DaemonTest {
protected:
    static void SetUpTestSuite() {
        start_daemon(json{{"sites",
                           {{"behind_tls", true},
                            {"hsts_max_age_s", 600},
                            {"headers", {{"Content-Security-Policy", "default-src 'none'"}, {"X-Frame-Options", ""}}}}}});
    }
};

TEST_F(SitesBehindTls, SendsHstsAndTheConfiguredHeaders) {
    TempDir directory("sofaas-site");
    write_file(directory / "index.html", "tls");
    ASSERT_EQ(daemon().cli({"site", "deploy", "secure", directory.path().string()}).exit_code, 0);
    const CurlAnswer page = curl(daemon().endpoint() + "/");
    EXPECT_EQ(page.body, "tls");
    EXPECT_EQ(page.header("Strict-Transport-Security"), "max-age=600");
    EXPECT_EQ(page.header("Content-Security-Policy"), "default-src 'none'");
    EXPECT_EQ(page.header("X-Frame-Options"), "") << "removed by the configuration";
    EXPECT_EQ(page.header("X-Content-Type-Options"), "nosniff") << "a default kept";
    EXPECT_EQ(curl(daemon().endpoint() + "/missing.png").header("Strict-Transport-Security"), "max-age=600");
}

}  // namespace
}  // namespace sofaas::testing
