// Temporary credentials, as a front-end developer's code gets and uses them: a user of a
// pool signs in, exchanges the ID token for credentials of a role with STS's
// AssumeRoleWithWebIdentity (boto3 and the AWS CLI, pointed at sofaas), and invokes the
// functions the role grants with them, and nothing else; expired and revoked credentials
// are refused, and no secret reaches the daemon's log.
#include <algorithm>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/daemon_process.h"
#include "support/eventually.h"
#include "support/process.h"
#include "support/programs.h"
#include "support/temp_dir.h"

namespace sofaas::testing {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

const fs::path aws_program = "/usr/bin/aws";
constexpr const char* role_arn = "arn:aws:iam::000000000000:role/web";

struct SessionKeys {
    std::string id;
    std::string secret;
    std::string token;
};

struct SignedInUser {
    std::string sub;
    std::string id_token;
};

class Sts : public ::testing::Test {
protected:
    void SetUp() override {
        daemon_.start();
        ASSERT_EQ(daemon_.deploy("hello", function_library("hello")).exit_code, 0);
        ASSERT_EQ(daemon_.deploy("echo", function_library("echo")).exit_code, 0);
        ASSERT_EQ(daemon_.deploy("whoami", function_library("whoami")).exit_code, 0);
        for (const char* pool : {"customers", "staff"}) {
            auto created = daemon_.cli({"users", "pool", "create", pool});
            ASSERT_EQ(created.exit_code, 0) << created;
        }
        auto role = daemon_.cli(
            {"roles", "create", "web", "--invoke", "hello", "--invoke", "whoami", "--trust-pool", "customers"});
        ASSERT_EQ(role.exit_code, 0) << role;
    }

    // Signs a user up and in over the pool's public endpoints, as a browser would.
    SignedInUser sign_in(const std::string& pool, const std::string& username) {
        HttpClient anonymous = daemon_.http("");
        const json credentials = {{"username", username}, {"password", password_}};
        const HttpHeaders headers = {{"Content-Type", "application/json"}};
        const HttpResponse signed_up = anonymous.request("POST", "/auth/" + pool + "/sign-up", credentials.dump(), headers);
        EXPECT_EQ(signed_up.status, 201) << signed_up.body;
        const HttpResponse signed_in = anonymous.request("POST", "/auth/" + pool + "/sign-in", credentials.dump(), headers);
        EXPECT_EQ(signed_in.status, 200) << signed_in.body;
        return {body_of(signed_up).value("sub", ""), body_of(signed_in).value("id_token", "")};
    }

    std::vector<std::pair<std::string, std::string>> aws_environment(const SessionKeys* keys) const {
        std::vector<std::pair<std::string, std::string>> env = {{"AWS_DEFAULT_REGION", "us-east-1"},
                                                                {"AWS_CONFIG_FILE", "/dev/null"},
                                                                {"AWS_SHARED_CREDENTIALS_FILE", "/dev/null"},
                                                                {"AWS_PAGER", ""},
                                                                {"AWS_MAX_ATTEMPTS", "1"},
                                                                {"HOME", dir_.path().string()}};
        if (keys) {
            env.emplace_back("AWS_ACCESS_KEY_ID", keys->id);
            env.emplace_back("AWS_SECRET_ACCESS_KEY", keys->secret);
            env.emplace_back("AWS_SESSION_TOKEN", keys->token);
        }
        return env;
    }

    ProcessResult aws_invoke(const SessionKeys& keys, const std::string& function) const {
        return run_process(aws_program,
                           {"--endpoint-url", daemon_.endpoint(), "lambda", "invoke", "--function-name", function,
                            "--cli-binary-format", "raw-in-base64-out", "--payload", "\"cli\"",
                            (dir_.path() / "answer.json").string()},
                           aws_environment(&keys), {}, std::chrono::seconds(60));
    }

    // The log of the daemon holds none of what would let someone act as the user.
    void expect_no_secret_in_log(const std::vector<std::string>& secrets) const {
        const std::string log = daemon_.log();
        for (const std::string& secret : secrets) {
            ASSERT_FALSE(secret.empty());
            EXPECT_EQ(log.find(secret), std::string::npos) << "the daemon's log holds a secret";
        }
    }

    TempDir dir_{"sts-test"};
    DaemonProcess daemon_;
    const std::string password_ = "correct horse battery staple";
};

TEST_F(Sts, Boto3AssumesARoleAndInvokesWhatItGrantsUntilTheCredentialsExpire) {
    const SignedInUser alice = sign_in("customers", "alice");
    const SignedInUser mallory = sign_in("staff", "mallory");
    ASSERT_FALSE(alice.id_token.empty());
    const fs::path script = fs::path(SOFAAS_TESTS_DIR) / "e2e" / "lambda" / "boto3_sts.py";
    auto env = aws_environment(nullptr);
    env.insert(env.end(), {{"SOFAAS_ENDPOINT", daemon_.endpoint()},
                           {"ROLE_ARN", role_arn},
                           {"ID_TOKEN", alice.id_token},
                           {"USER_SUB", alice.sub},
                           {"OTHER_POOL_TOKEN", mallory.id_token}});
    auto result = run_process(debian_python3, {script.string()}, env, {}, std::chrono::seconds(120));
    ASSERT_EQ(result.exit_code, 0) << result;
    ASSERT_NE(result.out.find("all checks passed"), std::string::npos) << result;
    const json printed = json::parse(result.out.substr(0, result.out.find('\n')));
    const SessionKeys keys{printed["AccessKeyId"], printed["SecretAccessKey"], printed["SessionToken"]};

    // The records name who called: the session's key, its role, the signed-in user; the
    // queued invocation's run names who queued it.
    ASSERT_TRUE(eventually([&] { return daemon_.billing_records("hello").size() == 2; }));
    const auto records = daemon_.billing_records("hello");
    std::vector<std::string> triggers;
    for (const json& record : records) {
        triggers.push_back(record["trigger"]);
        EXPECT_EQ(record["key_id"], keys.id) << record.dump();
        EXPECT_EQ(record["role"], "web") << record.dump();
        EXPECT_EQ(record["user_sub"], alice.sub) << record.dump();
    }
    std::sort(triggers.begin(), triggers.end());
    EXPECT_EQ(triggers, (std::vector<std::string>{"async", "lambda-api"}));

    // The credentials last 900 s: the same daemon, its session clock 1000 s ahead.
    ProcessResult before = aws_invoke(keys, "hello");
    EXPECT_EQ(before.exit_code, 0) << before;
    daemon_.set_environment("SOFAAS_TEST_SESSION_CLOCK_OFFSET_S", "1000");
    daemon_.restart();
    ProcessResult expired = aws_invoke(keys, "hello");
    EXPECT_NE(expired.exit_code, 0) << expired;
    EXPECT_NE(expired.err.find("ExpiredTokenException"), std::string::npos) << expired;
    EXPECT_EQ(daemon_.billing_records("hello").size(), 3u);  // the refused call is not billed
    expect_no_secret_in_log({keys.secret, keys.token, alice.id_token, password_});
}

TEST_F(Sts, TheAwsCliAssumesARoleAndRevokedCredentialsAreRefused) {
    const SignedInUser bob = sign_in("customers", "bob");
    auto assumed = run_process(aws_program,
                               {"--endpoint-url", daemon_.endpoint() + "/sts/", "sts", "assume-role-with-web-identity",
                                "--role-arn", role_arn, "--role-session-name", "cli", "--web-identity-token",
                                bob.id_token, "--output", "json"},
                               aws_environment(nullptr), {}, std::chrono::seconds(60));
    ASSERT_EQ(assumed.exit_code, 0) << assumed;
    const json answer = json::parse(assumed.out);
    EXPECT_EQ(answer["SubjectFromWebIdentityToken"], bob.sub);
    const json& credentials = answer["Credentials"];
    const SessionKeys keys{credentials["AccessKeyId"], credentials["SecretAccessKey"], credentials["SessionToken"]};

    ProcessResult invoked = aws_invoke(keys, "hello");
    ASSERT_EQ(invoked.exit_code, 0) << invoked;
    ProcessResult outside = aws_invoke(keys, "echo");
    EXPECT_NE(outside.exit_code, 0);
    EXPECT_NE(outside.err.find("AccessDeniedException"), std::string::npos) << outside;
    EXPECT_NE(outside.err.find("assumed-role/web/cli"), std::string::npos) << outside;

    auto shown = daemon_.cli({"roles", "show", "web", "--json"});
    ASSERT_EQ(shown.exit_code, 0) << shown;
    const json role = json::parse(shown.out);
    ASSERT_EQ(role["sessions"].size(), 1u) << role;
    EXPECT_EQ(role["sessions"][0]["access_key_id"], keys.id);
    EXPECT_EQ(role["sessions"][0]["user_sub"], bob.sub);
    EXPECT_EQ(shown.out.find(keys.secret), std::string::npos);

    auto revoked = daemon_.cli({"roles", "revoke-sessions", "web"});
    ASSERT_EQ(revoked.exit_code, 0) << revoked;
    EXPECT_NE(revoked.out.find("1 sessions revoked"), std::string::npos) << revoked;
    ProcessResult after = aws_invoke(keys, "hello");
    EXPECT_NE(after.exit_code, 0);
    EXPECT_NE(after.err.find("UnrecognizedClientException"), std::string::npos) << after;
    expect_no_secret_in_log({keys.secret, keys.token, bob.id_token});
}

TEST_F(Sts, RolesAreAnAdminsToManage) {
    auto listed = daemon_.cli({"roles", "list"});
    ASSERT_EQ(listed.exit_code, 0) << listed;
    EXPECT_NE(listed.out.find("web"), std::string::npos) << listed;
    EXPECT_NE(listed.out.find("customers"), std::string::npos) << listed;

    auto duplicate = daemon_.cli({"roles", "create", "web", "--invoke", "hello", "--trust-pool", "customers"});
    EXPECT_NE(duplicate.exit_code, 0);
    EXPECT_NE(duplicate.err.find("exists"), std::string::npos) << duplicate;
    auto too_long = daemon_.cli({"roles", "create", "long", "--invoke", "hello", "--trust-pool", "customers",
                                 "--max-session", "50000"});
    EXPECT_NE(too_long.exit_code, 0);
    EXPECT_NE(too_long.err.find("900 to 43200"), std::string::npos) << too_long;
    auto no_trust = daemon_.cli({"roles", "create", "lonely", "--invoke", "hello"});
    EXPECT_NE(no_trust.exit_code, 0);
    EXPECT_NE(no_trust.err.find("--trust-pool"), std::string::npos) << no_trust;

    // An invoke key is no admin: it neither reads nor makes roles.
    auto key = daemon_.cli({"keys", "create", "caller", "--scope", "invoke", "--json"});
    ASSERT_EQ(key.exit_code, 0) << key;
    const json created = json::parse(key.out);
    HttpClient invoker = daemon_.http(created["access_key_id"].get<std::string>() + ":" +
                                      created["secret_access_key"].get<std::string>());
    EXPECT_EQ(invoker.request("GET", "/v1/roles").status, 403);

    auto deleted = daemon_.cli({"roles", "delete", "web"});
    ASSERT_EQ(deleted.exit_code, 0) << deleted;
    auto gone = daemon_.cli({"roles", "show", "web"});
    EXPECT_NE(gone.exit_code, 0);
    // Durable: what an admin did survives a restart.
    daemon_.restart();
    auto after = daemon_.cli({"roles", "list", "--json"});
    ASSERT_EQ(after.exit_code, 0) << after;
    EXPECT_EQ(json::parse(after.out)["roles"].size(), 0u) << after;
}

}  // namespace
}  // namespace sofaas::testing
