#include "support/prometheus_process.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <system_error>
#include <thread>
#include <vector>

#include "cli/http_client.h"
#include "support/process.h"
#include "support/unused_port.h"

namespace sofaas::testing {

using namespace std::chrono_literals;

PrometheusProcess::PrometheusProcess(const std::string& target, const std::string& bearer_token)
    : dir_("prometheus-test") {
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

PrometheusProcess::~PrometheusProcess() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    const auto until = std::chrono::steady_clock::now() + 5s;
    int status = 0;
    while (::waitpid(pid_, &status, WNOHANG) == 0) {
        if (std::chrono::steady_clock::now() > until) {
            ::kill(pid_, SIGKILL);
            ::waitpid(pid_, &status, 0);
            break;
        }
        std::this_thread::sleep_for(20ms);
    }
}

void PrometheusProcess::start() {
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    const std::string log_file = (dir_ / "prometheus.log").string();
    posix_spawn_file_actions_addopen(&actions, 1, log_file.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
    posix_spawn_file_actions_addclosefrom_np(&actions, 3);
    std::vector<std::string> argv_strings = {
        prometheus_binary.string(), "--config.file=" + (dir_ / "prometheus.yml").string(),
        "--storage.tsdb.path=" + (dir_ / "tsdb").string(), "--web.listen-address=127.0.0.1:" + std::to_string(port_),
        "--log.level=warn"};
    std::vector<char*> argv = c_strings(argv_strings);
    std::vector<std::string> env_strings = environment_with({});
    std::vector<char*> envp = c_strings(env_strings);
    const int rc = ::posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), envp.data());
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) {
        pid_ = -1;
        throw std::system_error(rc, std::generic_category(), "posix_spawn " + prometheus_binary.string());
    }
    const auto until = std::chrono::steady_clock::now() + 15s;
    HttpClient client("http://127.0.0.1:" + std::to_string(port_), "");
    client.set_timeout(2s);
    while (std::chrono::steady_clock::now() < until) {
        int status = 0;
        if (::waitpid(pid_, &status, WNOHANG) == pid_) {
            pid_ = -1;
            throw std::runtime_error("prometheus exited before it was ready; its log:\n" + log());
        }
        try {
            if (client.request("GET", "/-/ready").status == 200) return;
        } catch (const HttpClientError&) {
            // not listening yet
        }
        std::this_thread::sleep_for(50ms);
    }
    throw std::runtime_error("prometheus was not ready within 15 s; its log:\n" + log());
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

std::string PrometheusProcess::log() const {
    std::ifstream in(dir_ / "prometheus.log");
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

}  // namespace sofaas::testing
