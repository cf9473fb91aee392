// The AWS Lambda API, driven by the real AWS CLI (Debian's awscli) and boto3, signing with
// an API key made by `sofaas keys create`: what a user with existing scripts and SDK code
// does against sofaas with --endpoint-url as the only change.
#include <fstream>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/daemon_process.h"
#include "support/process.h"
#include "support/programs.h"
#include "support/temp_dir.h"

namespace sofaas::testing {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

// Debian's programs, not whatever else PATH finds first.
const fs::path aws_cli = "/usr/bin/aws";

struct AccessKey {
    std::string id;
    std::string secret;
};

class LambdaApi : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        // One slot and no queue for boto-sleep: the second call at once is throttled.
        daemon_ = std::make_unique<DaemonProcess>(json{{"limits", {{"max_queue", 0}}}});
        daemon_->start();
        admin_ = create_key("ci-admin", {"--scope", "admin"});
        invoker_ = create_key("ci-invoker", {"--scope", "invoke", "--function", "hello"});
        for (const char* name : {"hello", "sleep", "crash"}) {
            const fs::path library = function_library(name);
            const fs::path zip = dir_->path() / (std::string(name) + ".zip");
            // The zip holds NAME.so, as a user would pack it.
            auto packed = run_process(debian_python3, {"-c", "import sys, zipfile\nwith zipfile.ZipFile(sys.argv[1], 'w') as z: "
                                                     "z.write(sys.argv[2], sys.argv[3])",
                                               zip.string(), library.string(), std::string(name) + ".so"});
            ASSERT_EQ(packed.exit_code, 0) << packed;
        }
    }
    static void TearDownTestSuite() {
        if (daemon_) daemon_->stop();
        daemon_.reset();
    }

    static AccessKey create_key(const std::string& name, std::vector<std::string> args) {
        args.insert(args.begin(), {"keys", "create", name});
        args.push_back("--json");
        auto created = daemon_->cli(args);
        EXPECT_EQ(created.exit_code, 0) << created;
        const json key = json::parse(created.out);
        return {key["access_key_id"], key["secret_access_key"]};
    }

    static std::vector<std::pair<std::string, std::string>> aws_environment(const AccessKey& key) {
        return {{"AWS_ACCESS_KEY_ID", key.id},
                {"AWS_SECRET_ACCESS_KEY", key.secret},
                {"AWS_DEFAULT_REGION", "us-east-1"},
                {"AWS_CONFIG_FILE", "/dev/null"},
                {"AWS_SHARED_CREDENTIALS_FILE", "/dev/null"},
                {"AWS_PAGER", ""},
                {"AWS_MAX_ATTEMPTS", "1"},
                {"HOME", dir_->path().string()}};
    }

    static ProcessResult aws(std::vector<std::string> args, const AccessKey& key = admin_) {
        args.insert(args.begin(), {"--endpoint-url", daemon_->endpoint(), "lambda"});
        return run_process(aws_cli, args, aws_environment(key), {}, std::chrono::seconds(60));
    }

    static json aws_json(std::vector<std::string> args) {
        auto result = aws(std::move(args));
        EXPECT_EQ(result.exit_code, 0) << result;
        return result.exit_code == 0 ? json::parse(result.out) : json();
    }

    static fs::path zip_of(const std::string& name) { return dir_->path() / (name + ".zip"); }
    static std::string read(const fs::path& file) {
        std::ifstream in(file, std::ios::binary);
        return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    }
    static fs::path out_file() { return dir_->path() / "out.json"; }

    static inline std::unique_ptr<TempDir> dir_ = std::make_unique<TempDir>();
    static inline std::unique_ptr<DaemonProcess> daemon_;
    static inline AccessKey admin_;
    static inline AccessKey invoker_;
};

TEST_F(LambdaApi, TheAwsCliCreatesWaitsInvokesUpdatesAndDeletes) {
    const json created = aws_json({"create-function", "--function-name", "hello", "--runtime", "provided.al2023",
                                   "--role", "arn:aws:iam::000000000000:role/ignored", "--handler", "hello.so",
                                   "--zip-file", "fileb://" + zip_of("hello").string()});
    EXPECT_EQ(created["FunctionArn"], "arn:aws:lambda:us-east-1:000000000000:function:hello");
    EXPECT_EQ(created["State"], "Active");
    EXPECT_EQ(created["Handler"], "function.so:sofaas_handler");
    auto waited = aws({"wait", "function-active-v2", "--function-name", "hello"});
    EXPECT_EQ(waited.exit_code, 0) << waited;

    // RequestResponse with the log's tail.
    const json invoked = aws_json({"invoke", "--function-name", "hello", "--cli-binary-format", "raw-in-base64-out",
                                   "--payload", "\"aws\"", "--log-type", "Tail", out_file().string()});
    EXPECT_EQ(invoked["StatusCode"], 200);
    EXPECT_EQ(invoked["ExecutedVersion"], "1");
    EXPECT_FALSE(invoked.contains("FunctionError"));
    EXPECT_EQ(read(out_file()), "Hello, \"aws\"!");
    auto log = run_process(debian_python3, {"-c", "import base64, sys; print(base64.b64decode(sys.argv[1]).decode())",
                                    invoked["LogResult"].get<std::string>()});
    EXPECT_EQ(log.out.rfind("START RequestId: ", 0), 0u) << log.out;
    EXPECT_NE(log.out.find("REPORT RequestId: "), std::string::npos) << log.out;

    EXPECT_EQ(aws_json({"invoke", "--function-name", "hello", "--invocation-type", "DryRun", out_file().string()})["StatusCode"], 204);
    EXPECT_EQ(aws_json({"invoke", "--function-name", "hello", "--invocation-type", "Event", "--cli-binary-format",
                        "raw-in-base64-out", "--payload", "{}", out_file().string()})["StatusCode"], 202);

    // Settings without new code, then new code: each a new version.
    const json updated = aws_json({"update-function-configuration", "--function-name", "hello", "--memory-size", "256",
                                   "--environment", "Variables={GREETING=hi}"});
    EXPECT_EQ(updated["MemorySize"], 256);
    EXPECT_EQ(updated["Environment"]["Variables"]["GREETING"], "hi");
    EXPECT_EQ(updated["CodeSha256"], created["CodeSha256"]);
    EXPECT_EQ(aws({"wait", "function-updated-v2", "--function-name", "hello"}).exit_code, 0);
    const json code = aws_json({"update-function-code", "--function-name", "hello", "--zip-file",
                                "fileb://" + zip_of("hello").string()});
    EXPECT_EQ(code["MemorySize"], 256) << "new code keeps the settings";
    const json published = aws_json({"publish-version", "--function-name", "hello"});
    EXPECT_EQ(published["Version"], "3");
    const json versions = aws_json({"list-versions-by-function", "--function-name", "hello"});
    ASSERT_EQ(versions["Versions"].size(), 4u);
    EXPECT_EQ(versions["Versions"][0]["Version"], "$LATEST");
    // The record says which version ran, and the new memory size.
    aws_json({"invoke", "--function-name", "hello", "--qualifier", "3", out_file().string()});
    const auto records = daemon_->billing_records("hello");
    ASSERT_FALSE(records.empty());
    EXPECT_EQ(records.back()["trigger"], "lambda-api");
    EXPECT_EQ(records.back()["version"], 3);
    EXPECT_EQ(records.back()["memory_mb"], 256);

    auto put = aws_json({"put-function-concurrency", "--function-name", "hello", "--reserved-concurrent-executions", "7"});
    EXPECT_EQ(put["ReservedConcurrentExecutions"], 7);
    EXPECT_EQ(aws_json({"get-function-concurrency", "--function-name", "hello"})["ReservedConcurrentExecutions"], 7);

    auto deleted = aws({"delete-function", "--function-name", "hello"});
    EXPECT_EQ(deleted.exit_code, 0) << deleted;
    auto gone = aws({"get-function", "--function-name", "hello"});
    EXPECT_NE(gone.exit_code, 0);
    EXPECT_NE(gone.err.find("ResourceNotFoundException"), std::string::npos) << gone;
}

TEST_F(LambdaApi, FunctionFailuresAre200WithFunctionError) {
    aws_json({"create-function", "--function-name", "crash", "--runtime", "provided.al2023", "--role", "r",
              "--handler", "crash.so", "--zip-file", "fileb://" + zip_of("crash").string()});
    const json crashed = aws_json({"invoke", "--function-name", "crash", out_file().string()});
    EXPECT_EQ(crashed["StatusCode"], 200);
    EXPECT_EQ(crashed["FunctionError"], "Unhandled");
    EXPECT_EQ(json::parse(read(out_file()))["errorType"], "Runtime.ExitError");

    aws_json({"create-function", "--function-name", "slow", "--runtime", "provided.al2023", "--role", "r",
              "--handler", "sleep.so", "--timeout", "1", "--zip-file", "fileb://" + zip_of("sleep").string()});
    const json timed_out = aws_json({"invoke", "--function-name", "slow", "--cli-binary-format", "raw-in-base64-out",
                                     "--payload", "3000", out_file().string()});
    EXPECT_EQ(timed_out["FunctionError"], "Unhandled");
    EXPECT_EQ(json::parse(read(out_file()))["errorType"], "Sandbox.Timedout");
}

TEST_F(LambdaApi, WrongSecretsUnknownKeysAndNarrowKeysAreRefused) {
    AccessKey wrong_secret = admin_;
    wrong_secret.secret[0] = wrong_secret.secret[0] == 'a' ? 'b' : 'a';
    auto refused = aws({"list-functions"}, wrong_secret);
    EXPECT_NE(refused.exit_code, 0);
    EXPECT_NE(refused.err.find("InvalidSignatureException"), std::string::npos) << refused;

    auto unknown = aws({"list-functions"}, AccessKey{"SOFAUNKNOWNKEY000000", admin_.secret});
    EXPECT_NE(unknown.err.find("UnrecognizedClientException"), std::string::npos) << unknown;

    // An invoke key invokes its function, and nothing else.
    aws_json({"create-function", "--function-name", "hello", "--runtime", "provided.al2023", "--role", "r",
              "--handler", "hello.so", "--zip-file", "fileb://" + zip_of("hello").string()});
    auto invoked = aws({"invoke", "--function-name", "hello", out_file().string()}, invoker_);
    EXPECT_EQ(invoked.exit_code, 0) << invoked;
    auto listed = aws({"list-functions"}, invoker_);
    EXPECT_NE(listed.err.find("AccessDeniedException"), std::string::npos) << listed;
    EXPECT_EQ(aws({"delete-function", "--function-name", "hello"}).exit_code, 0);
}

TEST_F(LambdaApi, Boto3ClientsWorkAsAgainstLambda) {
    const fs::path script = fs::path(SOFAAS_TESTS_DIR) / "e2e" / "lambda" / "boto3_client.py";
    auto env = aws_environment(admin_);
    env.emplace_back("SOFAAS_ENDPOINT", daemon_->endpoint());
    auto result = run_process(debian_python3, {script.string(), zip_of("hello").string(), zip_of("sleep").string()}, env, {},
                              std::chrono::seconds(120));
    EXPECT_EQ(result.exit_code, 0) << result;
    EXPECT_NE(result.out.find("all checks passed"), std::string::npos) << result;
}

// botocore retries a read timeout with the call's amz-sdk-invocation-id: the retries wait
// for the first attempt's answer, and the bill has one run. A retried Event queues once.
TEST_F(LambdaApi, ARetriedInvokeRunsOnce) {
    const fs::path script = fs::path(SOFAAS_TESTS_DIR) / "e2e" / "lambda" / "boto3_retries.py";
    auto env = aws_environment(admin_);
    env.emplace_back("SOFAAS_ENDPOINT", daemon_->endpoint());
    auto result = run_process(debian_python3, {script.string(), zip_of("sleep").string(), zip_of("hello").string()}, env, {},
                              std::chrono::seconds(60));
    ASSERT_EQ(result.exit_code, 0) << result;
    EXPECT_NE(result.out.find("all checks passed"), std::string::npos) << result;

    const auto runs = daemon_->billing_records("retry-sleep");
    ASSERT_EQ(runs.size(), 1u) << "the retries ran the function again";
    EXPECT_EQ(runs[0]["status"], "ok");

    // The event runs soon after it is queued; a second one would run as soon.
    std::vector<nlohmann::json> events;
    for (int i = 0; i < 100 && events.empty(); ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        events = daemon_->billing_records("retry-event");
    }
    std::this_thread::sleep_for(std::chrono::seconds(1));
    events = daemon_->billing_records("retry-event");
    EXPECT_EQ(events.size(), 1u);
    EXPECT_EQ(aws({"delete-function", "--function-name", "retry-sleep"}).exit_code, 0);
    EXPECT_EQ(aws({"delete-function", "--function-name", "retry-event"}).exit_code, 0);
}

}  // namespace
}  // namespace sofaas::testing
