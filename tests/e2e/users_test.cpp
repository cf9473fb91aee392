// User pools end to end: the CLI makes pools and users, anonymous callers sign up and in
// over /auth/POOL/..., a function deployed --auth jwt takes their access tokens and sees
// the verified claims; every forged, expired, foreign, revoked or misused token is refused;
// brute force is locked out; an external OpenID Connect provider's JWKS, served by
// python3's http.server, verifies its tokens; no password or refresh token reaches the log
// or the data directory's text files.
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/daemon_test.h"
#include "support/eventually.h"
#include "support/programs.h"
#include "support/test_data.h"
#include "support/unused_port.h"

namespace sofaas::testing {
namespace {

using nlohmann::json;

const std::string users_password = "tr0ub4dor&3-staple";
const std::filesystem::path tokens_script = std::filesystem::path(SOFAAS_TESTS_DIR) / "e2e" / "users" / "tokens.py";

// python3 -m http.server serving a directory on a port of its own, killed with the object.
class StaticServer {
public:
    // The port is one nothing listened on a moment ago, as the Prometheus of the metrics
    // test takes its own.
    explicit StaticServer(const std::filesystem::path& directory) : port_(UnusedPort().port()) {
        const std::string port = std::to_string(port_);
        std::vector<std::string> args = {debian_python3.string(), "-m", "http.server", "--bind", "127.0.0.1", port,
                                         "--directory", directory.string()};
        std::vector<char*> argv;
        for (auto& arg : args) argv.push_back(arg.data());
        argv.push_back(nullptr);
        posix_spawn_file_actions_t actions;
        posix_spawn_file_actions_init(&actions);
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
        const int rc = ::posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), environ);
        posix_spawn_file_actions_destroy(&actions);
        if (rc != 0) pid_ = -1;
    }
    ~StaticServer() {
        if (pid_ <= 0) return;
        ::kill(pid_, SIGKILL);
        int status = 0;
        ::waitpid(pid_, &status, 0);
    }
    std::string url(const std::string& file) const { return origin() + "/" + file; }
    bool serving(const std::string& file) const {
        try {
            return HttpClient(origin(), "").request("GET", "/" + file).status == 200;
        } catch (const std::exception&) {
            return false;
        }
    }

private:
    std::string origin() const { return "http://127.0.0.1:" + std::to_string(port_); }

    int port_;
    pid_t pid_ = -1;
};

std::string run_tokens(const std::vector<std::string>& args) {
    std::vector<std::string> full = {tokens_script.string()};
    full.insert(full.end(), args.begin(), args.end());
    const ProcessResult result = run_process(debian_python3, full);
    EXPECT_EQ(result.exit_code, 0) << result;
    std::string token = result.out;
    while (!token.empty() && token.back() == '\n') token.pop_back();
    return token;
}

class UserPools : public DaemonTest {
protected:
    static void SetUpTestSuite() {
        provider_dir_ = std::make_unique<TempDir>("users-provider");
        run_tokens({"provider", provider_dir_->path().string()});
        provider_ = std::make_unique<StaticServer>(provider_dir_->path());
        ASSERT_TRUE(eventually([] { return provider_->serving("jwks.json"); }));
        start_daemon({{"users",
                       {{"max_failed_sign_ins", 3},
                        {"oidc_providers",
                         {{{"name", "corp"},
                           {"issuer", "https://login.corp.example"},
                           {"jwks_url", provider_->url("jwks.json")},
                           {"audience", "sofaas-app"}}}}}}});
    }
    static void TearDownTestSuite() {
        DaemonTest::TearDownTestSuite();
        provider_.reset();
        provider_dir_.reset();
    }

    static HttpResponse post(const std::string& path, const json& body) {
        return daemon().http("").request("POST", path, body.dump(), {{"Content-Type", "application/json"}});
    }
    static json sign_in(const std::string& pool, const std::string& username, const std::string& password = users_password) {
        const HttpResponse response = post("/auth/" + pool + "/sign-in", {{"username", username}, {"password", password}});
        EXPECT_EQ(response.status, 200) << response.body;
        return body_of(response);
    }
    static HttpResponse get_with(const std::string& path, const std::string& token) {
        return daemon().http("").request("GET", path, {}, {{"Authorization", "Bearer " + token}});
    }
    static void create_pool(const std::string& pool) {
        const ProcessResult created = daemon().cli({"users", "pool", "create", pool});
        ASSERT_EQ(created.exit_code, 0) << created;
        EXPECT_NE(created.out.find("client id:"), std::string::npos) << created.out;
    }
    static void add_user(const std::string& pool, const std::string& username, const std::vector<std::string>& extra = {}) {
        std::vector<std::string> args = {"users", "add", username, "--pool", pool, "--password-file", "-"};
        args.insert(args.end(), extra.begin(), extra.end());
        const ProcessResult added = daemon().cli(args, users_password + "\n");
        ASSERT_EQ(added.exit_code, 0) << added;
    }
    static std::string header(const HttpResponse& response, const std::string& name) {
        for (const auto& [key, value] : response.headers) {
            if (key.size() == name.size() && std::equal(key.begin(), key.end(), name.begin(), [](char a, char b) {
                    return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
                })) {
                return value;
            }
        }
        return "";
    }

    static inline std::unique_ptr<TempDir> provider_dir_;
    static inline std::unique_ptr<StaticServer> provider_;
};

TEST_F(UserPools, SignedInUserCallsAJwtRouteAndItsClaimsReachTheFunction) {
    create_pool("shop");
    const HttpResponse signed_up = post("/auth/shop/sign-up", {{"username", "alice"}, {"password", users_password}});
    ASSERT_EQ(signed_up.status, 201) << signed_up.body;
    const std::string sub = body_of(signed_up)["sub"];
    const json tokens = sign_in("shop", "alice");
    EXPECT_EQ(tokens["token_type"], "Bearer");
    EXPECT_EQ(tokens["expires_in"], 3600);

    ASSERT_EQ(daemon().deploy("me", function_library("echo"), {"--route", "GET /me", "--auth", "jwt", "--jwt-pool", "shop"})
                  .exit_code,
              0);
    const HttpResponse anonymous = daemon().http("").request("GET", "/me");
    EXPECT_EQ(anonymous.status, 401);
    EXPECT_EQ(header(anonymous, "WWW-Authenticate"), "Bearer realm=\"sofaas\"");
    EXPECT_EQ(body_of(anonymous), (json{{"message", "Unauthorized"}}));

    const HttpResponse called = get_with("/me", tokens["access_token"]);
    ASSERT_EQ(called.status, 200) << called.body;
    const json event = body_of(called);
    const json& jwt = event["requestContext"]["authorizer"]["jwt"];
    EXPECT_EQ(jwt["claims"]["sub"], sub);
    EXPECT_EQ(jwt["claims"]["username"], "alice");
    EXPECT_EQ(jwt["claims"]["token_use"], "access");
    EXPECT_TRUE(jwt["claims"]["exp"].is_string());  // as API Gateway gives it
    EXPECT_EQ(jwt["scopes"], json::array({"openid"}));
    EXPECT_FALSE(event["headers"].contains("authorization")) << event["headers"];
    EXPECT_EQ(called.body.find(tokens["access_token"].get<std::string>()), std::string::npos);

    // The ID token is not an access token; the /fn/ URL is guarded the same way.
    EXPECT_EQ(get_with("/me", tokens["id_token"]).status, 401);
    EXPECT_EQ(daemon().http("").request("GET", "/fn/me").status, 401);
    EXPECT_EQ(get_with("/fn/me", tokens["access_token"]).status, 200);
}

TEST_F(UserPools, AMissingScopeIs403AndAGrantedOnePasses) {
    create_pool("scoped");
    add_user("scoped", "reader", {"--scope", "items.read"});
    add_user("scoped", "nobody");
    ASSERT_EQ(daemon().deploy("items", function_library("echo"),
                              {"--route", "GET /items", "--auth", "jwt", "--jwt-pool", "scoped", "--jwt-scope", "items.read"})
                  .exit_code,
              0);
    const HttpResponse refused = get_with("/items", sign_in("scoped", "nobody")["access_token"]);
    EXPECT_EQ(refused.status, 403);
    EXPECT_NE(header(refused, "WWW-Authenticate").find("error=\"insufficient_scope\", scope=\"items.read\""),
              std::string::npos);
    const HttpResponse granted = get_with("/items", sign_in("scoped", "reader")["access_token"]);
    ASSERT_EQ(granted.status, 200) << granted.body;
    EXPECT_EQ(body_of(granted)["requestContext"]["authorizer"]["jwt"]["scopes"], json::array({"openid", "items.read"}));
    EXPECT_EQ(daemon().billing_records("items").size(), 1u);  // the refused call ran nothing
}

TEST_F(UserPools, ForgedExpiredForeignAndMisusedTokensAreRefused) {
    create_pool("vault");
    create_pool("other");
    add_user("vault", "victim");
    add_user("other", "stranger");
    ASSERT_EQ(daemon().deploy("vault", function_library("echo"), {"--route", "GET /vault", "--auth", "jwt", "--jwt-pool", "vault"})
                  .exit_code,
              0);
    const std::string access = sign_in("vault", "victim")["access_token"];
    ASSERT_EQ(get_with("/vault", access).status, 200);
    const std::string db = (daemon().data_dir() / "users.db").string();
    const std::string issuer = "http://" + daemon().endpoint().substr(7) + "/auth/vault";
    const json jwks = body_of(daemon().http("").request("GET", "/auth/vault/.well-known/jwks.json"));
    const std::string kid = jwks["keys"][0]["kid"];
    const std::string client_id = body_of(daemon().http("").request("GET", "/auth/vault/.well-known/openid-configuration"))["client_id"];
    const auto claims = [&](json overrides) {
        json claims = {{"iss", issuer},   {"sub", "whoever"}, {"client_id", client_id}, {"token_use", "access"},
                       {"scope", "openid"}, {"iat", "now"},    {"exp", "now+600"}};
        if (overrides.is_object()) claims.update(overrides);  // {} arrives as null
        return claims.dump();
    };

    const auto refused_because = [&](const std::string& token, const std::string& why) {
        const HttpResponse response = get_with("/vault", token);
        EXPECT_EQ(response.status, 401) << why << ": " << response.body;
        EXPECT_NE(header(response, "WWW-Authenticate").find("error=\"invalid_token\""), std::string::npos) << why;
    };
    // A payload edited after signing.
    const size_t dot = access.find('.');
    const size_t second = access.find('.', dot + 1);
    std::string tampered = access;
    tampered[dot + 8] = tampered[dot + 8] == 'A' ? 'B' : 'A';
    refused_because(tampered, "tampered payload");
    std::string bad_signature = access;
    bad_signature[second + 8] = bad_signature[second + 8] == 'A' ? 'B' : 'A';
    refused_because(bad_signature, "tampered signature");
    refused_because(run_tokens({"none", claims({}), kid}), "alg none");
    const std::string public_pem = run_tokens({"jwk-pem", jwks.dump()}) + "\n";
    refused_because(run_tokens({"hs256", public_pem, claims({}), kid}), "HS256 keyed with the public key");
    // Signed with the pool's own key (as one who stole it would), but out of date.
    refused_because(run_tokens({"pool-key", db, "vault", claims({{"exp", "now-600"}})}), "expired");
    refused_because(run_tokens({"pool-key", db, "vault", claims({{"nbf", "now+600"}})}), "not yet valid");
    refused_because(run_tokens({"pool-key", db, "vault", claims({{"iss", "https://evil.example/issuer"}})}), "wrong issuer");
    refused_because(run_tokens({"pool-key", db, "vault", claims({{"iss", "https://evil.example/auth/vault"}})}),
                    "the pool's name under another host");
    // Another pool's valid token, and a provider's.
    refused_because(sign_in("other", "stranger")["access_token"], "another pool's token");
    refused_because(run_tokens({"rs256", provider_dir_->path().string(),
                                json{{"iss", "https://login.corp.example"}, {"sub", "x"}, {"aud", "sofaas-app"}, {"exp", "now+600"}}.dump(),
                                "corp-1"}),
                    "a provider's token on a pool's route");
    EXPECT_EQ(daemon().billing_records("vault").size(), 1u);
}

TEST_F(UserPools, RefreshSignOutAndDisablingRevoke) {
    create_pool("sessions");
    add_user("sessions", "carol");
    ASSERT_EQ(daemon().deploy("session", function_library("echo"),
                              {"--route", "GET /session", "--auth", "jwt", "--jwt-pool", "sessions"})
                  .exit_code,
              0);
    const json first = sign_in("sessions", "carol");
    const HttpResponse refreshed = post("/auth/sessions/refresh", {{"refresh_token", first["refresh_token"]}});
    ASSERT_EQ(refreshed.status, 200) << refreshed.body;
    EXPECT_FALSE(body_of(refreshed).contains("refresh_token"));
    EXPECT_EQ(get_with("/session", body_of(refreshed)["access_token"]).status, 200);

    ASSERT_EQ(post("/auth/sessions/sign-out", {{"refresh_token", first["refresh_token"]}}).status, 200);
    EXPECT_EQ(get_with("/session", first["access_token"]).status, 401);
    EXPECT_EQ(get_with("/session", body_of(refreshed)["access_token"]).status, 401);
    const HttpResponse after = post("/auth/sessions/refresh", {{"refresh_token", first["refresh_token"]}});
    EXPECT_EQ(after.status, 401);
    EXPECT_EQ(body_of(after)["errorType"], "NotAuthorizedException");

    const json second = sign_in("sessions", "carol");
    ASSERT_EQ(daemon().cli({"users", "disable", "carol", "--pool", "sessions"}).exit_code, 0);
    EXPECT_EQ(post("/auth/sessions/refresh", {{"refresh_token", second["refresh_token"]}}).status, 401);
    EXPECT_EQ(get_with("/session", second["access_token"]).status, 401);
    const HttpResponse disabled = post("/auth/sessions/sign-in", {{"username", "carol"}, {"password", users_password}});
    EXPECT_EQ(disabled.status, 401);
    EXPECT_EQ(body_of(disabled)["errorMessage"], "User is disabled");
    const ProcessResult listed = daemon().cli({"users", "list", "--pool", "sessions"});
    EXPECT_NE(listed.out.find("carol"), std::string::npos);
    EXPECT_NE(listed.out.find(" no "), std::string::npos) << listed.out;
}

TEST_F(UserPools, BruteForceIsLockedOutAndHostileBodiesGetClearErrors) {
    create_pool("guarded");
    add_user("guarded", "dave");
    for (int i = 0; i < 3; ++i) {
        const HttpResponse wrong = post("/auth/guarded/sign-in", {{"username", "dave"}, {"password", "guess-" + std::to_string(i)}});
        EXPECT_EQ(wrong.status, 401);
        EXPECT_EQ(body_of(wrong)["errorMessage"], "Incorrect username or password");
    }
    const HttpResponse locked = post("/auth/guarded/sign-in", {{"username", "dave"}, {"password", users_password}});
    EXPECT_EQ(locked.status, 429);
    EXPECT_EQ(body_of(locked)["errorType"], "TooManyRequestsException");
    EXPECT_FALSE(header(locked, "Retry-After").empty());
    // Unknown users are locked out alike: the answer tells nothing about who exists.
    for (int i = 0; i < 3; ++i) post("/auth/guarded/sign-in", {{"username", "ghost"}, {"password", "guess-guess"}});
    EXPECT_EQ(post("/auth/guarded/sign-in", {{"username", "ghost"}, {"password", "guess-guess"}}).status, 429);

    const HttpResponse weak = post("/auth/guarded/sign-up", {{"username", "erin"}, {"password", "short"}});
    EXPECT_EQ(weak.status, 400);
    EXPECT_EQ(body_of(weak)["errorType"], "InvalidPasswordException");
    EXPECT_EQ(body_of(weak)["errorMessage"], "The password must be at least 8 characters long");
    EXPECT_EQ(post("/auth/guarded/sign-up", {{"username", "dave"}, {"password", users_password}}).status, 409);
    EXPECT_EQ(daemon().http("").request("POST", "/auth/guarded/sign-in", "not json").status, 400);
    EXPECT_EQ(post("/auth/guarded/sign-in", {{"username", "dave"}, {"password", 12345678}}).status, 400);
    EXPECT_EQ(post("/auth/guarded/sign-in", {{"username", "dave"}, {"password", "x"}, {"admin", true}}).status, 400);
    EXPECT_EQ(post("/auth/guarded/sign-in", {{"username", std::string(9000, 'a')}, {"password", "x"}}).status, 413);
    EXPECT_EQ(post("/auth/nosuchpool/sign-in", {{"username", "dave"}, {"password", users_password}}).status, 404);
    EXPECT_EQ(post("/auth/guarded/../../v1/keys", {{"username", "dave"}}).status, 404);
    EXPECT_EQ(daemon().http("").request("GET", "/auth/guarded/sign-in").status, 405);
}

TEST_F(UserPools, KeysArePublishedAndRotatedWithoutBreakingIssuedTokens) {
    create_pool("rotating");
    add_user("rotating", "frank");
    ASSERT_EQ(daemon().deploy("rotating", function_library("echo"),
                              {"--route", "GET /rotating", "--auth", "jwt", "--jwt-pool", "rotating"})
                  .exit_code,
              0);
    const json discovery = body_of(daemon().http("").request("GET", "/auth/rotating/.well-known/openid-configuration"));
    EXPECT_EQ(discovery["issuer"], "http://" + daemon().endpoint().substr(7) + "/auth/rotating");
    EXPECT_EQ(discovery["jwks_uri"], discovery["issuer"].get<std::string>() + "/.well-known/jwks.json");
    const std::string before = sign_in("rotating", "frank")["access_token"];

    const ProcessResult rotated = daemon().cli({"--output", "json", "users", "pool", "rotate-key", "rotating"});
    ASSERT_EQ(rotated.exit_code, 0) << rotated;
    EXPECT_EQ(json::parse(rotated.out)["key_ids"].size(), 2u);
    const json jwks = body_of(daemon().http("").request("GET", "/auth/rotating/.well-known/jwks.json"));
    ASSERT_EQ(jwks["keys"].size(), 2u);
    for (const json& key : jwks["keys"]) {
        EXPECT_EQ(key["kty"], "EC");
        EXPECT_FALSE(key.contains("d"));
    }
    EXPECT_EQ(get_with("/rotating", before).status, 200);
    EXPECT_EQ(get_with("/rotating", sign_in("rotating", "frank")["access_token"]).status, 200);
}

TEST_F(UserPools, AnExternalProvidersTokensVerifyWithItsFetchedKeys) {
    ASSERT_EQ(daemon().deploy("corp", function_library("echo"), {"--route", "GET /corp", "--auth", "jwt", "--jwt-pool", "corp"})
                  .exit_code,
              0);
    const std::string directory = provider_dir_->path().string();
    const std::string token = run_tokens(
        {"rs256", directory,
         json{{"iss", "https://login.corp.example"}, {"sub", "emp-42"}, {"aud", "sofaas-app"}, {"exp", "now+600"}, {"iat", "now"}}
             .dump(),
         "corp-1"});
    // The keys are fetched at start, in the background: the first call may come before.
    ASSERT_TRUE(eventually([&] { return get_with("/corp", token).status == 200; }));
    const json event = body_of(get_with("/corp", token));
    EXPECT_EQ(event["requestContext"]["authorizer"]["jwt"]["claims"]["sub"], "emp-42");

    const auto refused = [&](const json& claims, const std::string& why) {
        EXPECT_EQ(get_with("/corp", run_tokens({"rs256", directory, claims.dump(), "corp-1"})).status, 401) << why;
    };
    refused({{"iss", "https://login.corp.example"}, {"sub", "x"}, {"aud", "someone-else"}, {"exp", "now+600"}}, "audience");
    refused({{"iss", "https://login.corp.example"}, {"sub", "x"}, {"aud", "sofaas-app"}, {"exp", "now-600"}}, "expired");
    refused({{"iss", "https://login.corp.example"}, {"sub", "x"}, {"aud", "sofaas-app"}, {"exp", "now+600"},
             {"token_use", "id"}},
            "an ID token");
    // Signed by a key of the same id that the provider never published.
    TempDir impostor("users-impostor");
    run_tokens({"provider", impostor.path().string()});
    EXPECT_EQ(get_with("/corp", run_tokens({"rs256", impostor.path().string(),
                                            json{{"iss", "https://login.corp.example"}, {"sub", "x"}, {"aud", "sofaas-app"},
                                                 {"exp", "now+600"}}
                                                .dump(),
                                            "corp-1"}))
                  .status,
              401);
    // A pool's token is no provider's.
    create_pool("notcorp");
    add_user("notcorp", "gina");
    EXPECT_EQ(get_with("/corp", sign_in("notcorp", "gina")["access_token"]).status, 401);
}

TEST_F(UserPools, NoPasswordOrRefreshTokenInTheLogOrTheDataDirectory) {
    create_pool("secrets");
    const std::string password = "unmistakable-Passw0rd-4242";
    ASSERT_EQ(post("/auth/secrets/sign-up", {{"username", "henry"}, {"password", password}}).status, 201);
    const json tokens = sign_in("secrets", "henry", password);
    ASSERT_EQ(post("/auth/secrets/sign-in", {{"username", "henry"}, {"password", password + "x"}}).status, 401);
    ASSERT_EQ(post("/auth/secrets/refresh", {{"refresh_token", tokens["refresh_token"]}}).status, 200);
    const std::string refresh_token = tokens["refresh_token"];

    EXPECT_EQ(daemon().log().find(password), std::string::npos);
    EXPECT_EQ(daemon().log().find(refresh_token), std::string::npos);
    size_t files = 0;
    for (const auto& entry : std::filesystem::recursive_directory_iterator(daemon().data_dir())) {
        if (!entry.is_regular_file()) continue;
        ++files;
        const std::string contents = file_text(entry.path());
        EXPECT_EQ(contents.find(password), std::string::npos) << entry.path();
        EXPECT_EQ(contents.find(refresh_token), std::string::npos) << entry.path();
    }
    EXPECT_GT(files, 0u);
}

}  // namespace
}  // namespace sofaas::testing
