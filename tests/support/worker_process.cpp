#include "support/worker_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "support/process.h"
#include "support/programs.h"

namespace sofaas::testing {
namespace {

constexpr int reply_timeout_ms = 10'000;

// Moves a descriptor above the ones the child gets (0-3), so the dup2 in the child never
// has source == target (which would keep FD_CLOEXEC and lose the descriptor at exec).
int move_high(int fd) {
    const int high = fcntl(fd, F_DUPFD_CLOEXEC, 10);
    close(fd);
    if (high < 0) throw std::runtime_error("fcntl(F_DUPFD_CLOEXEC) failed");
    return high;
}

int make_output_memfd(const char* name) {
    const int fd = memfd_create(name, MFD_CLOEXEC);
    if (fd < 0) throw std::runtime_error("memfd_create failed");
    fcntl(fd, F_SETFL, O_APPEND);  // as the daemon opens them
    return move_high(fd);
}

std::string read_all(int fd) {
    std::string text;
    char chunk[4096];
    off_t offset = 0;
    for (ssize_t got; (got = pread(fd, chunk, sizeof chunk, offset)) > 0; offset += got)
        text.append(chunk, static_cast<size_t>(got));
    return text;
}

int64_t unix_ms_in(std::chrono::milliseconds from_now) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               (std::chrono::system_clock::now() + from_now).time_since_epoch())
        .count();
}

}  // namespace

WorkerProcess::WorkerProcess(const WorkerLaunch& launch) {
    int sockets[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sockets) != 0)
        throw std::runtime_error("socketpair failed");
    socket_ = move_high(sockets[0]);
    const int worker_socket = move_high(sockets[1]);
    stdout_fd_ = make_output_memfd("worker-stdout");
    stderr_fd_ = make_output_memfd("worker-stderr");

    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&actions, stdout_fd_, 1);
    posix_spawn_file_actions_adddup2(&actions, stderr_fd_, 2);
    posix_spawn_file_actions_adddup2(&actions, worker_socket, 3);
    posix_spawn_file_actions_addclosefrom_np(&actions, 4);

    const std::string program = (programs_dir() / "sofaas-worker").string();
    std::vector<std::string> args = {
        program,
        "--library", launch.library.string(),
        "--handler", launch.handler,
        "--function", launch.function,
        "--version", std::to_string(launch.version),
        "--memory-mb", std::to_string(launch.memory_mb),
        "--parent-pid", std::to_string(launch.parent_pid.value_or(getpid())),
    };
    if (!launch.user.empty()) args.insert(args.end(), {"--user", launch.user});
    std::vector<std::string> env = {
        "PATH=/usr/local/bin:/usr/bin:/bin",
        "LANG=C.UTF-8",
        "SOFAAS_FUNCTION_NAME=" + launch.function,
        "SOFAAS_FUNCTION_VERSION=" + std::to_string(launch.version),
        "SOFAAS_FUNCTION_MEMORY_MB=" + std::to_string(launch.memory_mb),
    };
    std::vector<char*> argv, envp;
    for (auto& arg : args) argv.push_back(arg.data());
    for (auto& var : env) envp.push_back(var.data());
    argv.push_back(nullptr);
    envp.push_back(nullptr);

    const int error = posix_spawn(&pid_, program.c_str(), &actions, nullptr, argv.data(),
                                  envp.data());
    posix_spawn_file_actions_destroy(&actions);
    close(worker_socket);
    if (error != 0) throw std::runtime_error("posix_spawn " + program + " failed");
}

WorkerProcess::~WorkerProcess() {
    if (pid_ > 0) {
        kill(pid_, SIGKILL);
        waitpid(pid_, nullptr, 0);
    }
    for (int fd : {socket_, stdout_fd_, stderr_fd_})
        if (fd >= 0) close(fd);
}

std::optional<protocol::Ready> WorkerProcess::ready() {
    auto body = read_body(protocol::FrameType::sandboxed, protocol::FrameType::ready);
    if (body && body->empty() && last_type_ == protocol::FrameType::sandboxed) {
        sandboxed_ = true;
        body = read_body(protocol::FrameType::ready);
    }
    if (!body) return std::nullopt;
    return protocol::decode_ready(*body);
}

std::optional<protocol::Result> WorkerProcess::invoke(const std::string& payload,
                                                      std::chrono::milliseconds timeout,
                                                      const std::string& request_id, const Principal& caller) {
    send_invoke(payload, timeout, request_id, caller);
    return next_result();
}

void WorkerProcess::send_invoke(const std::string& payload, std::chrono::milliseconds timeout,
                                const std::string& request_id, const Principal& caller) {
    std::string frame;
    protocol::encode(protocol::Invoke{request_id, unix_ms_in(timeout), payload, caller}, frame);
    send_bytes(frame);
}

std::optional<protocol::Result> WorkerProcess::next_result() {
    const auto body = read_body(protocol::FrameType::result);
    if (!body) return std::nullopt;
    return protocol::decode_result(*body);
}

void WorkerProcess::send_bytes(const std::string& bytes) {
    // The worker may already be dead (that is what some tests check): no SIGPIPE.
    size_t sent = 0;
    while (sent < bytes.size()) {
        const ssize_t n = send(socket_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
        if (n <= 0) return;
        sent += static_cast<size_t>(n);
    }
}

void WorkerProcess::close_socket() {
    close(socket_);
    socket_ = -1;
}

int WorkerProcess::wait_exit() {
    if (pid_ <= 0) return -1;
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < give_up) {
        int status = 0;
        if (waitpid(pid_, &status, WNOHANG) == pid_) {
            pid_ = -1;
            return exit_code_of(status);
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return -1;
}

std::string WorkerProcess::stdout_text() const { return read_all(stdout_fd_); }
std::string WorkerProcess::stderr_text() const { return read_all(stderr_fd_); }

std::optional<std::string> WorkerProcess::read_body(protocol::FrameType type,
                                                 std::optional<protocol::FrameType> or_type) {
    char header_bytes[protocol::header_size];
    if (!read_exactly(header_bytes, sizeof header_bytes)) return std::nullopt;
    const protocol::FrameHeader header = protocol::read_header(header_bytes);
    const bool expected = header.type == static_cast<uint32_t>(type) ||
                          (or_type && header.type == static_cast<uint32_t>(*or_type));
    if (!expected || header.body_size > protocol::max_body_size) return std::nullopt;
    last_type_ = static_cast<protocol::FrameType>(header.type);
    std::string body(header.body_size, '\0');
    if (!read_exactly(body.data(), body.size())) return std::nullopt;
    return body;
}

bool WorkerProcess::read_exactly(char* into, size_t size) {
    while (size > 0) {
        pollfd readable{socket_, POLLIN, 0};
        if (poll(&readable, 1, reply_timeout_ms) <= 0) return false;
        const ssize_t got = recv(socket_, into, size, 0);
        if (got <= 0) return false;
        into += got;
        size -= static_cast<size_t>(got);
    }
    return true;
}

}  // namespace sofaas::testing
