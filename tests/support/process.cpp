#include "support/process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <system_error>

extern char** environ;

namespace sofaas::testing {

namespace {

struct Pipe {
    int read = -1;
    int write = -1;
    Pipe() {
        int fds[2];
        if (::pipe2(fds, O_CLOEXEC) != 0) throw std::system_error(errno, std::generic_category(), "pipe2");
        read = fds[0];
        write = fds[1];
    }
    ~Pipe() {
        close_read();
        close_write();
    }
    void close_read() {
        if (read >= 0) ::close(read);
        read = -1;
    }
    void close_write() {
        if (write >= 0) ::close(write);
        write = -1;
    }
};

}  // namespace

std::vector<std::string> environment_with(const std::vector<std::pair<std::string, std::string>>& env) {
    std::vector<std::string> result;
    for (char** entry = environ; *entry; ++entry) {
        std::string_view text(*entry);
        std::string_view key = text.substr(0, text.find('='));
        bool overridden = false;
        for (const auto& [name, value] : env) overridden = overridden || name == key;
        if (!overridden) result.emplace_back(text);
    }
    for (const auto& [name, value] : env) result.push_back(name + "=" + value);
    return result;
}

std::ostream& operator<<(std::ostream& out, const ProcessResult& result) {
    return out << "exit code " << result.exit_code << "\n--- stdout:\n" << result.out << "\n--- stderr:\n" << result.err;
}

std::vector<char*> c_strings(std::vector<std::string>& strings) {
    std::vector<char*> pointers;
    for (auto& text : strings) pointers.push_back(text.data());
    pointers.push_back(nullptr);
    return pointers;
}

int exit_code_of(int wait_status) {
    if (WIFEXITED(wait_status)) return WEXITSTATUS(wait_status);
    if (WIFSIGNALED(wait_status)) return 128 + WTERMSIG(wait_status);
    return -1;
}

ProcessResult run_process(const std::filesystem::path& program, const std::vector<std::string>& args,
                          const std::vector<std::pair<std::string, std::string>>& env, const std::string& input,
                          std::chrono::milliseconds timeout) {
    Pipe in, out, err;
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, in.read, 0);
    posix_spawn_file_actions_adddup2(&actions, out.write, 1);
    posix_spawn_file_actions_adddup2(&actions, err.write, 2);

    // Only the three pipes: whatever else the test process has open stays out.
    posix_spawn_file_actions_addclosefrom_np(&actions, 3);

    std::vector<std::string> argv_strings{program.string()};
    argv_strings.insert(argv_strings.end(), args.begin(), args.end());
    std::vector<char*> argv = c_strings(argv_strings);
    std::vector<std::string> env_strings = environment_with(env);
    std::vector<char*> envp = c_strings(env_strings);

    // The test process ignores SIGPIPE (a child that exits before reading all its input
    // must not kill the test); the child gets the default back.
    ::signal(SIGPIPE, SIG_IGN);
    posix_spawnattr_t attributes;
    posix_spawnattr_init(&attributes);
    sigset_t default_signals;
    sigemptyset(&default_signals);
    sigaddset(&default_signals, SIGPIPE);
    posix_spawnattr_setsigdefault(&attributes, &default_signals);
    posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETSIGDEF);

    pid_t pid = 0;
    int rc = ::posix_spawn(&pid, program.c_str(), &actions, &attributes, argv.data(), envp.data());
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attributes);
    if (rc != 0) throw std::system_error(rc, std::generic_category(), "posix_spawn " + program.string());
    in.close_read();
    out.close_write();
    err.close_write();
    if (input.empty()) in.close_write();
    else ::fcntl(in.write, F_SETFL, O_NONBLOCK);

    ProcessResult result;
    size_t written = 0;
    auto deadline = std::chrono::steady_clock::now() + timeout;
    bool timed_out = false;
    while (out.read >= 0 || err.read >= 0) {
        pollfd fds[3];
        nfds_t count = 0;
        for (int fd : {out.read, err.read}) {
            if (fd >= 0) fds[count++] = {fd, POLLIN, 0};
        }
        if (in.write >= 0) fds[count++] = {in.write, POLLOUT, 0};
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) {
            timed_out = true;
            ::kill(pid, SIGKILL);
            break;
        }
        if (::poll(fds, count, static_cast<int>(left.count())) < 0 && errno != EINTR) break;
        for (nfds_t i = 0; i < count; ++i) {
            if (fds[i].revents == 0) continue;
            if (fds[i].fd == in.write) {
                ssize_t n = ::write(in.write, input.data() + written, input.size() - written);
                if (n > 0) written += static_cast<size_t>(n);
                if (n < 0 && errno != EAGAIN) in.close_write();  // the child stopped reading
                if (written == input.size()) in.close_write();
                continue;
            }
            char buffer[65536];
            ssize_t n = ::read(fds[i].fd, buffer, sizeof buffer);
            bool is_out = fds[i].fd == out.read;
            if (n > 0) {
                (is_out ? result.out : result.err).append(buffer, static_cast<size_t>(n));
            } else if (n == 0 || errno != EINTR) {
                (is_out ? out : err).close_read();
            }
        }
    }
    in.close_write();
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    result.exit_code = exit_code_of(status);
    if (timed_out) result.err += "\n[test support: " + program.filename().string() + " killed after timeout]\n";
    return result;
}

}  // namespace sofaas::testing
