// An outside server program for end-to-end tests (Prometheus, haproxy, ...): spawned with
// its output in a log file, waited for until it answers, stopped when the object goes.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace sofaas::testing {

class ServerProcess {
public:
    // `name` names it in errors; `log_file` receives its stdout and stderr.
    ServerProcess(std::string name, std::filesystem::path log_file);
    ~ServerProcess();  // stop()
    ServerProcess(const ServerProcess&) = delete;
    ServerProcess& operator=(const ServerProcess&) = delete;

    // Spawns argv[0] (a path) with the test's environment plus `env`, then calls `ready`
    // until it returns true (it may throw while the server is not listening yet). Throws
    // with the log if the program exits first or is not ready within `timeout`.
    void start(const std::vector<std::string>& argv, const std::vector<std::pair<std::string, std::string>>& env,
               const std::function<bool()>& ready, std::chrono::milliseconds timeout);
    // SIGTERM, then SIGKILL after 5 s; always reaped. Nothing if not running.
    void stop();
    void kill9();
    bool running() const { return pid_ > 0; }
    pid_t pid() const { return pid_; }
    std::string log() const;

private:
    std::string name_;
    std::filesystem::path log_file_;
    pid_t pid_ = -1;
};

}  // namespace sofaas::testing
