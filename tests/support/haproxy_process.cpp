#include "support/haproxy_process.h"

#include <chrono>
#include <sstream>
#include <stdexcept>

#include "cli/http_client.h"
#include "support/unused_port.h"

namespace sofaas::testing {

using namespace std::chrono_literals;

namespace {

std::vector<std::string> split(const std::string& line, char separator) {
    std::vector<std::string> fields;
    std::stringstream in(line);
    std::string field;
    while (std::getline(in, field, separator)) fields.push_back(field);
    return fields;
}

}  // namespace

HaproxyProcess::HaproxyProcess(std::filesystem::path config, std::vector<std::string> nodes)
    : dir_("haproxy-test"), config_(std::move(config)), nodes_(std::move(nodes)), server_("haproxy", dir_ / "haproxy.log") {
    if (nodes_.empty() || nodes_.size() > 3) throw std::invalid_argument("haproxy: one to three nodes");
    UnusedPort port, stats_port;  // both held at once: two different ports
    port_ = port.port();
    stats_port_ = stats_port.port();
}

void HaproxyProcess::start() {
    std::vector<std::pair<std::string, std::string>> env = {
        {"SOFAAS_LB_BIND", "127.0.0.1:" + std::to_string(port_)},
        {"SOFAAS_LB_STATS", "127.0.0.1:" + std::to_string(stats_port_)}};
    for (size_t i = 0; i < 3; ++i) {
        // A node not run is a server nobody listens at: always down, never chosen.
        env.emplace_back("SOFAAS_NODE" + std::to_string(i + 1), i < nodes_.size() ? nodes_[i] : "127.0.0.1:9");
    }
    server_.start({haproxy_binary.string(), "-db", "-f", config_.string()}, env, [&] {
        size_t up = 0;
        for (const auto& server : servers()) up += server.value("status", "") == "UP";
        return up == nodes_.size();
    }, 10s);
}

std::string HaproxyProcess::endpoint() const { return "http://127.0.0.1:" + std::to_string(port_); }

std::vector<nlohmann::json> HaproxyProcess::servers() const {
    HttpClient client("http://127.0.0.1:" + std::to_string(stats_port_), "");
    client.set_timeout(2s);
    const HttpResponse response = client.request("GET", "/;csv");
    if (response.status != 200) throw std::runtime_error("haproxy stats: " + std::to_string(response.status));
    std::stringstream in(response.body);
    std::string header;
    std::getline(in, header);
    if (header.rfind("# ", 0) != 0) throw std::runtime_error("haproxy stats: no CSV header");
    const std::vector<std::string> columns = split(header.substr(2), ',');
    std::vector<nlohmann::json> servers;
    for (std::string line; std::getline(in, line);) {
        const std::vector<std::string> fields = split(line, ',');
        if (fields.size() < 2 || fields[0] != "nodes" || fields[1].rfind("node", 0) != 0) continue;
        nlohmann::json server = nlohmann::json::object();
        for (size_t i = 0; i < columns.size() && i < fields.size(); ++i) server[columns[i]] = fields[i];
        servers.push_back(std::move(server));
    }
    return servers;
}

}  // namespace sofaas::testing
