#include "support/prometheus_process.h"

#include <chrono>
#include <fstream>
#include <stdexcept>

#include "cli/http_client.h"
#include "support/unused_port.h"

namespace sofaas::testing {

using namespace std::chrono_literals;

PrometheusProcess::PrometheusProcess(const std::string& target, const std::string& bearer_token)
    : dir_("prometheus-test"), server_("prometheus", dir_ / "prometheus.log") {
    {
        // Bound but not listening while we hold it: free for Prometheus once released.
        UnusedPort port;
        port_ = port.port();
    }
    std::ofstream(dir_ / "credentials") << bearer_token;
    std::filesystem::permissions(dir_ / "credentials",
                                 std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
    std::ofstream(dir_ / "prometheus.yml") << "global:\n"
                                              "  scrape_interval: 1s\n"
                                              "  scrape_timeout: 1s\n"
                                              "scrape_configs:\n"
                                              "  - job_name: sofaasd\n"
                                              "    authorization:\n"
                                              "      credentials_file: "
                                           << (dir_ / "credentials").string()
                                           << "\n"
                                              "    static_configs:\n"
                                              "      - targets: ['"
                                           << target << "']\n";
}

void PrometheusProcess::start() {
    const std::vector<std::string> argv = {
        prometheus_binary.string(), "--config.file=" + (dir_ / "prometheus.yml").string(),
        "--storage.tsdb.path=" + (dir_ / "tsdb").string(), "--web.listen-address=127.0.0.1:" + std::to_string(port_),
        "--log.level=warn"};
    HttpClient client("http://127.0.0.1:" + std::to_string(port_), "");
    client.set_timeout(2s);
    server_.start(argv, {}, [&] { return client.request("GET", "/-/ready").status == 200; }, 15s);
}

nlohmann::json PrometheusProcess::query(const std::string& promql) const {
    HttpClient client("http://127.0.0.1:" + std::to_string(port_), "");
    client.set_timeout(5s);
    const HttpResponse response = client.request("GET", "/api/v1/query?query=" + url_encode(promql));
    const nlohmann::json answer = nlohmann::json::parse(response.body);
    if (response.status != 200 || answer.value("status", "") != "success") {
        throw std::runtime_error("prometheus query " + promql + " failed: " + response.body);
    }
    return answer.at("data");
}

std::optional<double> PrometheusProcess::scalar(const std::string& promql) const {
    const nlohmann::json data = query(promql);
    const nlohmann::json& result = data.at("result");
    if (result.empty()) return std::nullopt;
    if (result.size() > 1)
        throw std::runtime_error("prometheus query " + promql + " has several series: " + data.dump());
    // An instant vector's value is [time, "value"].
    return std::stod(result.at(0).at("value").at(1).get<std::string>());
}

std::string PrometheusProcess::log() const { return server_.log(); }

}  // namespace sofaas::testing
