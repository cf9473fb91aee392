#include "support/daemon_process.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <regex>
#include <sstream>
#include <stdexcept>
#include <system_error>
#include <thread>

#include <gtest/gtest.h>

#include "support/programs.h"

namespace sofaas::testing {

namespace {

using namespace std::chrono_literals;


// Test defaults: a quick shutdown and every record synced promptly.
nlohmann::json test_config() {
    return {{"shutdown_grace_s", 5}, {"ledger_fsync_interval_ms", 5}};
}

std::string read_whole(const std::filesystem::path& file, std::streamoff from = 0) {
    std::ifstream in(file, std::ios::binary);
    in.seekg(from);
    std::stringstream contents;
    contents << in.rdbuf();
    return contents.str();
}

// DATA/admin.token as the daemon wrote it: the token and a newline.
std::string read_generated_token(const std::filesystem::path& data_dir) {
    std::string token = read_whole(data_dir / "admin.token");
    while (!token.empty() && token.back() == '\n') token.pop_back();
    return token;
}

// waitpid with a bound; nullopt if the process is still running after `timeout`.
std::optional<int> wait_for_exit(pid_t pid, std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        int status = 0;
        pid_t done = ::waitpid(pid, &status, WNOHANG);
        if (done == pid) return exit_code_of(status);
        if (done < 0 && errno != EINTR) return -1;
        if (std::chrono::steady_clock::now() > deadline) return std::nullopt;
        std::this_thread::sleep_for(10ms);
    }
}

}  // namespace

std::filesystem::path function_library(std::string_view name) {
    return std::filesystem::path(SOFAAS_FUNCTIONS_DIR) / (std::string(name) + ".so");
}

std::filesystem::path fixture_library(std::string_view name) {
    return std::filesystem::path(SOFAAS_FIXTURES_DIR) / (std::string(name) + ".so");
}

std::vector<ProcessStatus> worker_processes(const DaemonProcess& daemon) {
    std::vector<ProcessStatus> workers;
    for (const auto& process : all_processes())
        if (process.comm == "sofaas-worker" && process.cmdline.find(daemon.data_dir().string()) != std::string::npos)
            workers.push_back(process);
    return workers;
}

DaemonProcess::DaemonProcess(nlohmann::json extra_config)
    : dir_("sofaasd-test"),
      data_dir_(dir_ / "data"),
      config_file_(dir_ / "sofaasd.json"),
      log_file_(dir_ / "sofaasd.log"),
      token_("test-admin-token-0123456789"),
      sofaasd_(programs_dir() / "sofaasd"),
      sofaas_(programs_dir() / "sofaas") {
    nlohmann::json config = test_config();
    config.merge_patch(extra_config);
    std::ofstream(config_file_) << config.dump(2) << "\n";
}

DaemonProcess::~DaemonProcess() {
    if (running()) kill9();
}

void DaemonProcess::start() {
    if (running()) throw std::logic_error("DaemonProcess::start: already running");
    std::error_code ignored;
    auto log_offset = static_cast<std::streamoff>(std::filesystem::file_size(log_file_, ignored));
    if (ignored) log_offset = 0;

    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    // Both streams go to one file, appended to across restarts so a failure shows all.
    posix_spawn_file_actions_addopen(&actions, 1, log_file_.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
    // The test's own sockets and files must not keep living in the daemon.
    posix_spawn_file_actions_addclosefrom_np(&actions, 3);

    std::vector<std::string> argv_strings = launcher_;
    argv_strings.insert(argv_strings.end(), {sofaasd_.string(), "--config", config_file_.string(), "--listen",
                                             "127.0.0.1:0", "--data-dir", data_dir_.string()});
    const std::filesystem::path program = argv_strings.front();
    std::vector<char*> argv = c_strings(argv_strings);
    auto environment = environment_;
    environment.emplace_back("SOFAAS_ADMIN_TOKEN", generated_token_ ? "" : token_);
    std::vector<std::string> env_strings = environment_with(environment);
    std::vector<char*> envp = c_strings(env_strings);

    int rc = ::posix_spawnp(&pid_, program.c_str(), &actions, nullptr, argv.data(), envp.data());
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) {
        pid_ = -1;
        throw std::system_error(rc, std::generic_category(), "posix_spawn " + program.string());
    }

    static const std::regex listening(R"(listening on 127\.0\.0\.1:(\d+))");
    auto deadline = std::chrono::steady_clock::now() + 10s;
    while (std::chrono::steady_clock::now() < deadline) {
        std::smatch match;
        std::string output = read_whole(log_file_, log_offset);
        if (std::regex_search(output, match, listening)) {
            port_ = std::stoi(match[1]);
            if (generated_token_) token_ = read_generated_token(data_dir_);
            return;
        }
        if (auto code = wait_for_exit(pid_, 0ms)) {
            pid_ = -1;
            throw std::runtime_error("sofaasd exited with code " + std::to_string(*code) +
                                     " before listening; its log:\n" + log());
        }
        std::this_thread::sleep_for(20ms);
    }
    kill9();
    throw std::runtime_error("sofaasd did not print 'listening on' within 10 s; its log:\n" + log());
}

int DaemonProcess::stop() {
    if (!running()) return 0;
    ::kill(pid_, SIGTERM);
    auto code = wait_for_exit(pid_, 20s);
    if (!code) {
        ADD_FAILURE() << "sofaasd did not exit within 20 s of SIGTERM; its log:\n" << log();
        kill9();
        return -1;
    }
    pid_ = -1;
    if (*code != 0) ADD_FAILURE() << "sofaasd exited with code " << *code << " after SIGTERM; its log:\n" << log();
    return *code;
}

void DaemonProcess::kill9() {
    if (!running()) return;
    ::kill(pid_, SIGKILL);
    wait_for_exit(pid_, 10s);
    pid_ = -1;
}

void DaemonProcess::restart() {
    stop();
    start();
}

std::string DaemonProcess::endpoint() const { return "http://127.0.0.1:" + std::to_string(port_); }

std::string DaemonProcess::log() const { return read_whole(log_file_); }

ProcessResult DaemonProcess::cli(const std::vector<std::string>& args, const std::string& input) const {
    return run_process(sofaas_, args, {{"SOFAAS_ENDPOINT", endpoint()}, {"SOFAAS_TOKEN", token_}}, input);
}

ProcessResult DaemonProcess::deploy(const std::string& name, const std::filesystem::path& library,
                                    const std::vector<std::string>& extra_args) const {
    std::vector<std::string> args = {"deploy", name, library.string()};
    args.insert(args.end(), extra_args.begin(), extra_args.end());
    return cli(args);
}

std::vector<nlohmann::json> DaemonProcess::billing_records(const std::string& function) const {
    std::vector<nlohmann::json> invocations;
    for (auto& record : all_billing_records(function))
        if (record["trigger"] != "deploy" && record["trigger"] != "warm") invocations.push_back(std::move(record));
    return invocations;
}

std::vector<nlohmann::json> DaemonProcess::all_billing_records(const std::string& function) const {
    auto result = cli({"billing", "--records", "--function", function});
    EXPECT_EQ(result.exit_code, 0) << result;
    std::vector<nlohmann::json> records;
    std::istringstream lines(result.out);
    for (std::string line; std::getline(lines, line);) records.push_back(nlohmann::json::parse(line));
    return records;
}

}  // namespace sofaas::testing
