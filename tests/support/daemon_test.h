// A test fixture sharing one sofaasd among the tests of a suite: started before the
// first test, stopped (and required to exit cleanly) after the last. Tests of such a
// suite must not depend on each other: each deploys under names of its own.
#pragma once

#include <memory>
#include <utility>

#include <gtest/gtest.h>

#include "support/daemon_process.h"

namespace sofaas::testing {

class DaemonTest : public ::testing::Test {
protected:
    static void SetUpTestSuite() { start_daemon(); }
    // A suite whose daemon needs settings of its own calls this from its SetUpTestSuite.
    static void start_daemon(nlohmann::json extra_config = nlohmann::json::object()) {
        daemon_ = std::make_unique<DaemonProcess>(std::move(extra_config));
        daemon_->start();
    }
    static void TearDownTestSuite() {
        if (daemon_) daemon_->stop();
        daemon_.reset();
    }
    void SetUp() override { ASSERT_TRUE(daemon_ && daemon_->running()) << "sofaasd is not running"; }

    static DaemonProcess& daemon() { return *daemon_; }

private:
    static inline std::unique_ptr<DaemonProcess> daemon_;
};

}  // namespace sofaas::testing
