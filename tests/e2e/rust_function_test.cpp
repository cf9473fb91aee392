// The Rust example (functions/hello-rust, on sdk/rust) deployed and invoked like any
// other function: its init hook, its output, its errors, and a panic that is a function
// error and leaves the execution environment alive.
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/daemon_test.h"

namespace sofaas::testing {
namespace {

class RustFunction : public DaemonTest {
protected:
    void SetUp() override {
#ifndef SOFAAS_HAVE_RUST
        GTEST_SKIP() << "cargo was not found when this build was configured: no Rust function to deploy";
#endif
        DaemonTest::SetUp();
    }
};

TEST_F(RustFunction, DeploysAndAnswersWithItsInitsState) {
    auto deployed = daemon().deploy("hello-rust", function_library("hello-rust"));
    ASSERT_EQ(deployed.exit_code, 0) << deployed;
    auto result = daemon().cli({"invoke", "hello-rust", "--data", "ferris"});
    ASSERT_EQ(result.exit_code, 0) << result;
    EXPECT_EQ(result.out, "Hello from Rust, ferris! (hello-rust 1)");
}

TEST_F(RustFunction, ErrorsAndPanicsAreFunctionErrors) {
    auto deployed = daemon().deploy("rust-errors", function_library("hello-rust"));
    ASSERT_EQ(deployed.exit_code, 0) << deployed;
    auto empty = daemon().cli({"invoke", "rust-errors"});
    EXPECT_EQ(empty.exit_code, 6) << empty;
    EXPECT_EQ(empty.err.rfind("InvalidInput: send a name", 0), 0u) << empty;

    auto panicked = daemon().cli({"invoke", "rust-errors", "--data", "panic"});
    EXPECT_EQ(panicked.exit_code, 6) << panicked;
    EXPECT_EQ(panicked.err.rfind("Panic: asked to panic", 0), 0u) << panicked;

    // Caught, not a crash: the same environment answers the next call.
    auto after = daemon().cli({"invoke", "rust-errors", "--data", "again"});
    ASSERT_EQ(after.exit_code, 0) << after;
    EXPECT_EQ(after.out, "Hello from Rust, again! (rust-errors 1)");
    const auto records = daemon().billing_records("rust-errors");
    ASSERT_EQ(records.size(), 3u);
    EXPECT_EQ(records[1]["status"], "error");
    EXPECT_EQ(records[2]["status"], "ok");
    EXPECT_FALSE(records[2].contains("init_ms")) << records[2].dump() << ": a second cold start after the panic";
}

}  // namespace
}  // namespace sofaas::testing
