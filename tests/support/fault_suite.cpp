#include "support/fault_suite.h"

#include <cstdlib>
#include <cstring>
#include <exception>

namespace sofaas::testing {

bool full_fault_suite() {
    const char* value = std::getenv("SOFAAS_FULL_FAULT_SUITE");
    return value != nullptr && std::strcmp(value, "1") == 0;
}

int fault_suite_size(int scaled, int full) { return full_fault_suite() ? full : scaled; }

HealthyTraffic::HealthyTraffic(const DaemonProcess& daemon, std::string function, std::string event)
    : thread_([this, &daemon, function = std::move(function), event = std::move(event)] {
          run(daemon, function, event);
      }) {}

HealthyTraffic::~HealthyTraffic() { stop(); }

void HealthyTraffic::stop() {
    stopping_ = true;
    if (thread_.joinable()) thread_.join();
}

void HealthyTraffic::run(const DaemonProcess& daemon, const std::string& function, const std::string& event) {
    auto http = daemon.http();
    http.set_timeout(std::chrono::seconds(30));
    const std::string target = "/v1/functions/" + function + "/invoke";
    while (!stopping_) {
        std::string failure;
        try {
            auto response = http.request("POST", target, event);
            if (response.status != 200) failure = "HTTP " + std::to_string(response.status) + ": " + response.body;
        } catch (const std::exception& error) {
            failure = error.what();
        }
        if (failure.empty()) {
            ++succeeded_;
        } else {
            if (failed_ == 0) first_failure_ = failure;
            ++failed_;
        }
    }
}

}  // namespace sofaas::testing
