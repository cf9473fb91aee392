// A real haproxy (Debian's /usr/sbin/haproxy) for end-to-end tests, running the shipped
// config/haproxy.cfg in front of up to three sofaasd nodes, on a port of its own.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "support/server_process.h"
#include "support/temp_dir.h"

namespace sofaas::testing {

inline const std::filesystem::path haproxy_binary = "/usr/sbin/haproxy";
// The configuration the project ships, config/haproxy.cfg.
inline const std::filesystem::path shipped_haproxy_config = SOFAAS_SHIPPED_HAPROXY_CONFIG;

class HaproxyProcess {
public:
    // `nodes`: "HOST:PORT" of each node, at most three (the config's server lines).
    HaproxyProcess(std::filesystem::path config, std::vector<std::string> nodes);
    HaproxyProcess(const HaproxyProcess&) = delete;
    HaproxyProcess& operator=(const HaproxyProcess&) = delete;

    // Starts it and waits (up to 10 s) until every node passes its health check.
    void start();

    std::string endpoint() const;  // http://127.0.0.1:PORT
    // The stats of each node server ("node1".."node3"): haproxy's CSV, one object per
    // server with its columns by name ("status", "stot", ...).
    std::vector<nlohmann::json> servers() const;
    std::string log() const { return server_.log(); }

private:
    TempDir dir_;
    std::filesystem::path config_;
    std::vector<std::string> nodes_;
    int port_ = 0;
    int stats_port_ = 0;
    ServerProcess server_;
};

}  // namespace sofaas::testing
