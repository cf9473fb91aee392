// Authentication: the control API needs the admin token or an admin key; a function
// deployed with --auth key needs a key that may invoke it on its HTTP endpoints; no
// credential ever reaches function code. A key works as a bearer credential or signs
// with AWS Signature Version 4, as botocore does.
#include <filesystem>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/daemon_process.h"
#include "support/daemon_test.h"
#include "support/raw_socket.h"

namespace sofaas::testing {
namespace {

using nlohmann::json;

class Auth : public DaemonTest {};

TEST_F(Auth, ControlApiNeedsTheAdminToken) {
    for (const std::string token : {"", "wrong-token"}) {
        auto response = daemon().http(token).request("GET", "/v1/functions");
        EXPECT_EQ(response.status, 401) << "token '" << token << "'";
        EXPECT_EQ(json::parse(response.body)["errorType"], "UnauthorizedException");
        EXPECT_FALSE(response.header("X-Sofaas-Request-Id").empty());
    }
    EXPECT_EQ(daemon().http("").request("PUT", "/v1/functions/sneaky", "x").status, 401);
    EXPECT_EQ(daemon().http().request("GET", "/v1/functions").status, 200);
    EXPECT_EQ(daemon().http("").request("GET", "/healthz").status, 200);
}

TEST_F(Auth, CliSaysWhatToCheck) {
    auto result = daemon().cli({"--token", "wrong-token", "list"});
    EXPECT_EQ(result.exit_code, 4) << result;
    EXPECT_EQ(result.err, "unauthorized: sofaasd refused the token from --token (check --token or SOFAAS_TOKEN)\n");
}

TEST_F(Auth, KeyProtectedFunctionRefusesAnonymousCalls) {
    ASSERT_EQ(daemon().deploy("private", function_library("hello"), {"--auth", "key"}).exit_code, 0);
    ASSERT_EQ(daemon().deploy("public", function_library("hello")).exit_code, 0);

    EXPECT_EQ(daemon().http("").request("GET", "/fn/private").status, 401);
    EXPECT_EQ(daemon().http("wrong-token").request("GET", "/fn/private").status, 401);
    EXPECT_EQ(daemon().http().request("GET", "/fn/private").status, 200);
    EXPECT_EQ(daemon().http("").request("GET", "/fn/public").status, 200);
}

// Neither a wrong token a client sent nor the admin token shows up in an answer or in the
// daemon's log.
TEST_F(Auth, TokensNeverAppearInAnswersOrLogs) {
    const std::string wrong = "wrong-token-4f3e2d1c";
    ASSERT_EQ(daemon().deploy("guarded", function_library("hello"), {"--auth", "key"}).exit_code, 0);
    for (const auto& [method, path] : {std::pair{"GET", "/v1/functions"}, std::pair{"GET", "/fn/guarded"},
                                       std::pair{"POST", "/v1/functions/guarded/invoke"}}) {
        auto response = daemon().http(wrong).request(method, path);
        EXPECT_EQ(response.status, 401) << path;
        EXPECT_EQ(response.body.find(wrong), std::string::npos) << response.body;
        EXPECT_EQ(response.body.find(daemon().token()), std::string::npos) << response.body;
    }
    EXPECT_EQ(daemon().http().request("GET", "/fn/guarded").status, 200);
    const std::string log = daemon().log();
    EXPECT_NE(log.find("401"), std::string::npos) << "the refusals are logged: " << log;
    EXPECT_EQ(log.find(wrong), std::string::npos) << log;
    EXPECT_EQ(log.find(daemon().token()), std::string::npos) << log;
}

struct Key {
    std::string id;
    std::string secret;
    std::string bearer() const { return id + ":" + secret; }
};

Key create_key(const DaemonProcess& daemon, const std::vector<std::string>& args) {
    std::vector<std::string> command = {"keys", "create"};
    command.insert(command.end(), args.begin(), args.end());
    command.push_back("--json");
    auto created = daemon.cli(command);
    EXPECT_EQ(created.exit_code, 0) << created;
    const json key = json::parse(created.out);
    return {key.value("access_key_id", ""), key.value("secret_access_key", "")};
}

// The credential a caller presents is the platform's: neither the admin token nor a key
// is in the event a function gets, whether the function needs one or not.
TEST_F(Auth, NoCredentialReachesTheFunction) {
    ASSERT_EQ(daemon().deploy("tells-all", function_library("echo"), {"--auth", "key"}).exit_code, 0);
    ASSERT_EQ(daemon().deploy("tells-all-public", function_library("echo")).exit_code, 0);
    const Key key = create_key(daemon(), {"tells-all-reader", "--function", "tells-all"});
    for (const std::string& credential : {daemon().token(), key.bearer()}) {
        for (const char* path : {"/fn/tells-all", "/fn/tells-all-public"}) {
            auto response = daemon().http(credential).request("GET", path, "", {{"X-Visible", "yes"}});
            ASSERT_EQ(response.status, 200) << path << " " << response.body;
            EXPECT_NE(response.body.find("x-visible"), std::string::npos) << "echo shows the headers: " << response.body;
            EXPECT_EQ(response.body.find(key.secret), std::string::npos) << response.body;
            EXPECT_EQ(response.body.find(daemon().token()), std::string::npos) << response.body;
            EXPECT_EQ(json::parse(response.body)["headers"].count("authorization"), 0u) << response.body;
        }
    }
}

// Signs a request with AWS Signature Version 4 by botocore, as the AWS CLI and boto3 do,
// sends it with botocore's own HTTP session, and prints the status and the body.
constexpr const char* botocore_call = R"(
import sys
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.httpsession import URLLib3Session
endpoint, key_id, secret, region, method, path, body = sys.argv[1:8]
request = AWSRequest(method=method, url=endpoint + path, data=body.encode())
SigV4Auth(Credentials(key_id, secret), "lambda", region).add_auth(request)
response = URLLib3Session().send(request.prepare())
print(response.status_code)
sys.stdout.write(response.content.decode())
)";

struct SignedAnswer {
    int status = 0;
    std::string body;
};

// Debian's python3 with python3-boto3 (scripts/install-deps.sh).
SignedAnswer signed_by_botocore(const DaemonProcess& daemon, const Key& key, const std::string& method,
                                const std::string& path, const std::string& body = "",
                                const std::string& region = "us-east-1") {
    auto result = run_process("/usr/bin/python3",
                              {"-c", botocore_call, daemon.endpoint(), key.id, key.secret, region, method, path, body});
    EXPECT_EQ(result.exit_code, 0) << result;
    const size_t newline = result.out.find('\n');
    if (newline == std::string::npos) return {};
    return {std::stoi(result.out.substr(0, newline)), result.out.substr(newline + 1)};
}

// What the AWS CLI and SDKs send: a signature made with a key's id and secret, checked
// against the key (its scope included) and against the whole request, body and all.
TEST_F(Auth, SigV4SignedRequestsActAsTheirKey) {
    if (run_process("/usr/bin/python3", {"-c", "import botocore"}).exit_code != 0) {
        GTEST_SKIP() << "needs python3-boto3 (scripts/install-deps.sh)";
    }
    ASSERT_EQ(daemon().deploy("signed-hello", function_library("hello"), {"--auth", "key"}).exit_code, 0);
    const Key admin = create_key(daemon(), {"sigv4-admin", "--scope", "admin"});
    const Key invoker = create_key(daemon(), {"sigv4-invoker", "--function", "signed-hello"});

    const SignedAnswer listed = signed_by_botocore(daemon(), admin, "GET", "/v1/functions");
    EXPECT_EQ(listed.status, 200) << listed.body;
    EXPECT_NE(listed.body.find("signed-hello"), std::string::npos) << listed.body;

    const SignedAnswer invoked =
        signed_by_botocore(daemon(), invoker, "POST", "/v1/functions/signed-hello/invoke", "botocore");
    EXPECT_EQ(invoked.status, 200) << invoked.body;
    EXPECT_EQ(invoked.body, "Hello, botocore!");
    EXPECT_EQ(signed_by_botocore(daemon(), invoker, "GET", "/v1/functions").status, 403);

    const Key wrong_secret{admin.id, std::string(40, 'x')};
    const SignedAnswer refused = signed_by_botocore(daemon(), wrong_secret, "GET", "/v1/functions");
    EXPECT_EQ(refused.status, 401) << refused.body;
    EXPECT_EQ(json::parse(refused.body)["errorType"], "UnauthorizedException");
    EXPECT_NE(refused.body.find("The request signature we calculated does not match"), std::string::npos)
        << refused.body;
    EXPECT_EQ(signed_by_botocore(daemon(), admin, "GET", "/v1/functions", "", "eu-west-1").status, 401);
    EXPECT_EQ(daemon().log().find(admin.secret), std::string::npos);
}

// Scoped keys: an invoke key calls the functions it names, nothing else; an admin key
// does what the admin token does; a deleted key stops working; secrets are shown once.
TEST_F(Auth, KeysAreScoped) {
    ASSERT_EQ(daemon().deploy("scoped-a", function_library("hello"), {"--auth", "key"}).exit_code, 0);
    ASSERT_EQ(daemon().deploy("scoped-b", function_library("hello"), {"--auth", "key"}).exit_code, 0);
    const Key invoker = create_key(daemon(), {"invoker-a", "--function", "scoped-a"});
    ASSERT_EQ(invoker.id.size(), 20u) << invoker.id;
    ASSERT_GE(invoker.secret.size(), 40u);
    auto as_invoker = daemon().http(invoker.bearer());
    EXPECT_EQ(as_invoker.request("GET", "/fn/scoped-a").status, 200);
    EXPECT_EQ(as_invoker.request("GET", "/fn/scoped-b").status, 403);
    EXPECT_EQ(as_invoker.request("POST", "/v1/functions/scoped-a/invoke", "key").body, "Hello, key!");
    auto other = as_invoker.request("POST", "/v1/functions/scoped-b/invoke", "key");
    EXPECT_EQ(other.status, 403) << other.body;
    EXPECT_EQ(json::parse(other.body)["errorType"], "AccessDeniedException");
    EXPECT_EQ(as_invoker.request("GET", "/v1/functions").status, 403);
    EXPECT_EQ(as_invoker.request("PUT", "/v1/functions/scoped-a", "x").status, 403);
    EXPECT_EQ(as_invoker.request("POST", "/v1/keys", R"({"name":"escalate","scope":"admin"})").status, 403);
    EXPECT_EQ(daemon().http(invoker.id + ":wrong-secret-0000000000000000000000000000").request("GET", "/fn/scoped-a").status,
              401);

    const Key admin = create_key(daemon(), {"second-admin", "--scope", "admin"});
    auto as_admin = daemon().http(admin.bearer());
    EXPECT_EQ(as_admin.request("GET", "/v1/functions").status, 200);
    EXPECT_EQ(as_admin.request("GET", "/fn/scoped-b").status, 200);

    auto listed = daemon().cli({"keys", "list"});
    ASSERT_EQ(listed.exit_code, 0) << listed;
    EXPECT_NE(listed.out.find("invoker-a"), std::string::npos) << listed.out;
    EXPECT_NE(listed.out.find(invoker.id), std::string::npos) << listed.out;
    EXPECT_EQ(listed.out.find(invoker.secret), std::string::npos) << listed.out;
    EXPECT_EQ(listed.out.find(admin.secret), std::string::npos) << listed.out;
    EXPECT_EQ(daemon().log().find(invoker.secret), std::string::npos);

    ASSERT_EQ(daemon().cli({"keys", "delete", "invoker-a"}).exit_code, 0);
    EXPECT_EQ(as_invoker.request("GET", "/fn/scoped-a").status, 401);
    auto again = daemon().cli({"keys", "delete", "invoker-a"});
    EXPECT_EQ(again.exit_code, 3) << again;
    EXPECT_NE(again.err.find("ResourceNotFoundException"), std::string::npos) << again;
    auto duplicate = daemon().cli({"keys", "create", "second-admin"});
    EXPECT_EQ(duplicate.exit_code, 1) << duplicate;
    EXPECT_NE(duplicate.err.find("ResourceConflictException"), std::string::npos) << duplicate;
}

// A body is not asked for before the credential is checked: a deploy with a wrong token
// gets its 401 instead of 100 Continue.
TEST_F(Auth, NoContinueWithoutACredential) {
    RawConnection connection(daemon().endpoint());
    ASSERT_TRUE(connection.send("PUT /v1/functions/uploaded HTTP/1.1\r\nHost: x\r\n"
                                "Authorization: Bearer wrong-token\r\nExpect: 100-continue\r\n"
                                "Content-Length: 30000000\r\n\r\n"));
    auto response = connection.read_response(std::chrono::seconds(5));
    ASSERT_TRUE(response);
    EXPECT_EQ(response->status, 401);
    EXPECT_TRUE(connection.wait_closed(std::chrono::seconds(5)));

    RawConnection admitted(daemon().endpoint());
    ASSERT_TRUE(admitted.send("PUT /v1/functions/uploaded HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " +
                              daemon().token() + "\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n"));
    auto interim = admitted.read_response(std::chrono::seconds(5));
    ASSERT_TRUE(interim);
    EXPECT_EQ(interim->status, 100);
}

// Keys survive a restart, in a file only the daemon's user can read.
TEST(AuthKeys, KeysPersistInAPrivateFile) {
    DaemonProcess daemon;
    daemon.start();
    const Key key = create_key(daemon, {"lasting", "--scope", "admin"});
    namespace fs = std::filesystem;
    EXPECT_EQ(fs::status(daemon.data_dir() / "keys.json").permissions(), fs::perms::owner_read | fs::perms::owner_write);
    daemon.restart();
    EXPECT_EQ(daemon.http(key.bearer()).request("GET", "/v1/functions").status, 200);
    EXPECT_EQ(daemon.stop(), 0);
}

// With no token configured, the daemon generates one into a file only its owner can read.
TEST(AdminTokenFile, IsGeneratedPrivateAndAccepted) {
    DaemonProcess daemon;
    daemon.use_generated_token();
    daemon.start();
    const auto file = daemon.data_dir() / "admin.token";
    namespace fs = std::filesystem;
    EXPECT_EQ(fs::status(file).permissions(), fs::perms::owner_read | fs::perms::owner_write);
    EXPECT_EQ(daemon.token().size(), 64u) << daemon.token();
    EXPECT_EQ(daemon.http().request("GET", "/v1/functions").status, 200);
    EXPECT_EQ(daemon.http("").request("GET", "/v1/functions").status, 401);

    // A restart reads the same file: the token stays valid.
    const std::string token = daemon.token();
    daemon.restart();
    EXPECT_EQ(daemon.http(token).request("GET", "/v1/functions").status, 200);
    EXPECT_EQ(daemon.log().find(token), std::string::npos);
}

}  // namespace
}  // namespace sofaas::testing
