// A real sofaasd for end-to-end tests: started on an ephemeral port with its own data
// directory (kept across restart()), its log in a file, and the real CLI pointed at it.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli/http_client.h"
#include "support/proc_inspect.h"
#include "support/process.h"
#include "support/temp_dir.h"

namespace sofaas::testing {

// The JSON body of an answer; throws if it is not JSON.
inline nlohmann::json body_of(const HttpResponse& response) { return nlohmann::json::parse(response.body); }

// build/functions/NAME.so and build/fixtures/NAME.so.
std::filesystem::path function_library(std::string_view name);
std::filesystem::path fixture_library(std::string_view name);

class DaemonProcess {
public:
    // `extra_config`: keys of config/sofaasd.json merged over the test defaults, e.g.
    // {{"limits", {{"max_queue", 0}}}}.
    explicit DaemonProcess(nlohmann::json extra_config = nlohmann::json::object());
    ~DaemonProcess();  // kills the daemon if it still runs
    DaemonProcess(const DaemonProcess&) = delete;
    DaemonProcess& operator=(const DaemonProcess&) = delete;

    // Spawns sofaasd and waits (up to 10 s) for its "listening on" line. Throws with the
    // daemon's log if it exits or stays silent.
    void start();
    // SIGTERM, then waits (up to 20 s) for the exit; a test failure unless it exits 0.
    // Returns the exit code.
    int stop();
    void kill9();
    void restart();  // stop() + start() on the same data directory
    // Before the first start(): no SOFAAS_ADMIN_TOKEN, so the daemon generates
    // DATA/admin.token; start() then reads token() from that file.
    void use_generated_token() { generated_token_ = true; }
    // Before start(): a variable sofaasd's environment gets on top of the test's.
    void set_environment(std::string name, std::string value) {
        environment_.emplace_back(std::move(name), std::move(value));
    }
    // Before start(): run this sofaasd and this sofaas (an installed tree's) instead of
    // the build tree's.
    void use_programs(std::filesystem::path sofaasd, std::filesystem::path sofaas) {
        sofaasd_ = std::move(sofaasd);
        sofaas_ = std::move(sofaas);
    }
    // Before start(): sofaasd is started through this command (its pid stays sofaasd's:
    // the command must exec it), e.g. {"setpriv", "--bounding-set", "-sys_admin"}.
    void start_through(std::vector<std::string> launcher) { launcher_ = std::move(launcher); }
    bool running() const { return pid_ > 0; }

    std::string endpoint() const;  // http://127.0.0.1:PORT
    const std::string& token() const { return token_; }
    const std::filesystem::path& data_dir() const { return data_dir_; }
    std::string log() const;

    // A client with the admin token (pass "" for an anonymous one).
    HttpClient http() const { return HttpClient(endpoint(), token_); }
    HttpClient http(std::string token) const { return HttpClient(endpoint(), std::move(token)); }
    // Runs the CLI (build/bin/sofaas unless use_programs() said otherwise) with SOFAAS_ENDPOINT and SOFAAS_TOKEN pointing here.
    ProcessResult cli(const std::vector<std::string>& args, const std::string& input = {}) const;
    // `sofaas deploy NAME LIBRARY extra_args...`
    ProcessResult deploy(const std::string& name, const std::filesystem::path& library,
                         const std::vector<std::string>& extra_args = {}) const;
    // `sofaas billing --records --function NAME`, one JSON object per record, oldest first:
    // the records of invocations (triggers http, invoke, async, schedule), or all of them, the inits no
    // invocation paid for (triggers deploy and warm) too.
    std::vector<nlohmann::json> billing_records(const std::string& function) const;
    std::vector<nlohmann::json> all_billing_records(const std::string& function) const;

private:
    TempDir dir_;
    std::filesystem::path data_dir_;
    std::filesystem::path config_file_;
    std::filesystem::path log_file_;
    std::string token_;
    bool generated_token_ = false;
    std::vector<std::pair<std::string, std::string>> environment_;
    std::filesystem::path sofaasd_;
    std::filesystem::path sofaas_;
    std::vector<std::string> launcher_;
    pid_t pid_ = -1;
    int port_ = 0;
};

// The sofaas-worker processes serving `daemon`: their --library lies in its data directory
// (the zygote's command line names none). Zombies and orphans of a killed daemon included.
std::vector<ProcessStatus> worker_processes(const DaemonProcess& daemon);

}  // namespace sofaas::testing
