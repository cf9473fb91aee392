// Shared pieces of the fault and abuse suite (tests/e2e/faults*, bad_http*, crash_safety*):
// its scale switch and a healthy caller that must never see a failure.
#pragma once

#include <atomic>
#include <string>
#include <thread>

#include "support/daemon_process.h"

namespace sofaas::testing {

// SOFAAS_FULL_FAULT_SUITE=1 runs the suite at full size; CI runs it scaled down.
bool full_fault_suite();
// `scaled` normally, `full` under SOFAAS_FULL_FAULT_SUITE=1.
int fault_suite_size(int scaled, int full);

// Invokes one healthy function in a loop on its own connection until stop(): the proof
// that whatever else happens meanwhile harms nobody else.
class HealthyTraffic {
public:
    // `function` must already be deployed and answer 200 to `event`.
    HealthyTraffic(const DaemonProcess& daemon, std::string function, std::string event = "traffic");
    ~HealthyTraffic();
    HealthyTraffic(const HealthyTraffic&) = delete;
    HealthyTraffic& operator=(const HealthyTraffic&) = delete;

    void stop();
    int succeeded() const { return succeeded_; }
    int failed() const { return failed_; }
    const std::string& first_failure() const { return first_failure_; }  // set before failed() grows

private:
    void run(const DaemonProcess& daemon, const std::string& function, const std::string& event);

    std::atomic<bool> stopping_{false};
    std::atomic<int> succeeded_{0}, failed_{0};
    std::string first_failure_;
    std::thread thread_;
};

}  // namespace sofaas::testing
