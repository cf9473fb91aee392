// One sofaas-worker started the way the pool starts it (posix_spawn; fd 0 /dev/null,
// fds 1 and 2 memfds, fd 3 a socketpair end; nothing else), so tests can speak the
// worker protocol to it frame by frame.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include "worker/protocol.h"

namespace sofaas::testing {

struct WorkerLaunch {
    std::filesystem::path library;
    std::string handler = "sofaas_handler";
    std::string function = "test-function";
    uint32_t version = 1;
    uint32_t memory_mb = 128;
    std::optional<pid_t> parent_pid;  // default: this process, as it should be
    std::string user;                 // --user, when not empty
};

class WorkerProcess {
public:
    explicit WorkerProcess(const WorkerLaunch& launch);
    ~WorkerProcess();  // kills the worker if it still runs
    WorkerProcess(const WorkerProcess&) = delete;
    WorkerProcess& operator=(const WorkerProcess&) = delete;

    // The Ready frame, after the Sandboxed frame that precedes it when the sandbox was set
    // up; nullopt if the worker closed the socket or stayed silent for 10 s.
    std::optional<protocol::Ready> ready();
    // Whether ready() saw the Sandboxed frame.
    bool sandboxed() const { return sandboxed_; }

    // Sends one Invoke (deadline `timeout` from now) and waits up to 10 s for its Result.
    std::optional<protocol::Result> invoke(
        const std::string& payload, std::chrono::milliseconds timeout = std::chrono::seconds(3),
        const std::string& request_id = "req-test-1", const Principal& caller = {});

    // The two halves of invoke(), for tests that act between them: the Invoke frame, and
    // the next Result (waiting up to 10 s).
    void send_invoke(const std::string& payload, std::chrono::milliseconds timeout = std::chrono::seconds(3),
                     const std::string& request_id = "req-test-1", const Principal& caller = {});
    std::optional<protocol::Result> next_result();

    pid_t pid() const { return pid_; }

    // Raw bytes on the socket, for protocol violations.
    void send_bytes(const std::string& bytes);
    // Closes the daemon's end of the socket (the worker sees EOF).
    void close_socket();

    // Waits up to 10 s for the exit: the exit code, or 128 + signal. -1 if still running.
    int wait_exit();

    // What the function wrote to stdout / stderr so far.
    std::string stdout_text() const;
    std::string stderr_text() const;

private:
    // The next frame of `type` (or `or_type`), nullopt on EOF, timeout or an unexpected
    // frame type.
    std::optional<std::string> read_body(protocol::FrameType type,
                                         std::optional<protocol::FrameType> or_type = std::nullopt);
    bool read_exactly(char* into, size_t size);

    protocol::FrameType last_type_ = protocol::FrameType::ready;
    bool sandboxed_ = false;

    pid_t pid_ = -1;
    int socket_ = -1;
    int stdout_fd_ = -1;
    int stderr_fd_ = -1;
};

}  // namespace sofaas::testing
