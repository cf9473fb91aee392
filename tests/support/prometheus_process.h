// A real Prometheus server (Debian's /usr/bin/prometheus) for end-to-end tests: started
// with a scrape config the test writes, its TSDB and log in a temp directory, on a port of
// its own, and killed when the object goes.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "support/server_process.h"
#include "support/temp_dir.h"

namespace sofaas::testing {

inline const std::filesystem::path prometheus_binary = "/usr/bin/prometheus";

class PrometheusProcess {
public:
    // Scrapes `target` ("HOST:PORT") at /metrics every second, presenting the contents of
    // a file holding `bearer_token` as Authorization: Bearer (Prometheus's
    // authorization.credentials_file).
    PrometheusProcess(const std::string& target, const std::string& bearer_token);
    PrometheusProcess(const PrometheusProcess&) = delete;
    PrometheusProcess& operator=(const PrometheusProcess&) = delete;

    // Spawns it and waits (up to 15 s) until it answers /-/ready. Throws with its log.
    void start();

    // GET /api/v1/query?query=...: the "data" of a successful answer; throws otherwise.
    nlohmann::json query(const std::string& promql) const;
    // The one value of an instant query's result; nullopt when its result is empty. Throws
    // when it has several series.
    std::optional<double> scalar(const std::string& promql) const;

    std::string log() const;

private:
    TempDir dir_;
    int port_ = 0;
    ServerProcess server_;
};

}  // namespace sofaas::testing
