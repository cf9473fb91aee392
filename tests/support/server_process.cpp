#include "support/server_process.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <fstream>
#include <sstream>
#include <stdexcept>
#include <system_error>
#include <thread>

#include "support/process.h"

namespace sofaas::testing {

using namespace std::chrono_literals;

ServerProcess::ServerProcess(std::string name, std::filesystem::path log_file)
    : name_(std::move(name)), log_file_(std::move(log_file)) {}

ServerProcess::~ServerProcess() { stop(); }

void ServerProcess::start(const std::vector<std::string>& argv_in,
                          const std::vector<std::pair<std::string, std::string>>& env,
                          const std::function<bool()>& ready, std::chrono::milliseconds timeout) {
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    const std::string log_path = log_file_.string();
    posix_spawn_file_actions_addopen(&actions, 1, log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
    posix_spawn_file_actions_addclosefrom_np(&actions, 3);
    std::vector<std::string> argv_strings = argv_in;
    std::vector<char*> argv = c_strings(argv_strings);
    std::vector<std::string> env_strings = environment_with(env);
    std::vector<char*> envp = c_strings(env_strings);
    const int rc = ::posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), envp.data());
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) {
        pid_ = -1;
        throw std::system_error(rc, std::generic_category(), "posix_spawn " + argv_in.at(0));
    }
    const auto until = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < until) {
        int status = 0;
        if (::waitpid(pid_, &status, WNOHANG) == pid_) {
            pid_ = -1;
            throw std::runtime_error(name_ + " exited before it was ready; its log:\n" + log());
        }
        try {
            if (ready()) return;
        } catch (const std::exception&) {
            // not listening yet
        }
        std::this_thread::sleep_for(50ms);
    }
    throw std::runtime_error(name_ + " was not ready in time; its log:\n" + log());
}

void ServerProcess::stop() {
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
    pid_ = -1;
}

void ServerProcess::kill9() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
}

std::string ServerProcess::log() const {
    std::ifstream in(log_file_);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

}  // namespace sofaas::testing
