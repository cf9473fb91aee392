// The zygote protocol: how the pool asks the zygote (`sofaas-worker --zygote`) for a
// worker. One SOCK_SEQPACKET message each way, over a socketpair private to the two:
//
//   zygote -> daemon  hello         once: `ready_hello`, or why it cannot serve
//   daemon -> zygote  SpawnRequest  with descriptors (SCM_RIGHTS): the worker's socket
//                                   end, its stdout memfd and its stderr memfd, then the
//                                   cgroup.procs files of its environment's cgroup, then
//                                   (cgroup v2) the cgroup's directory to clone it into
//   zygote -> daemon  SpawnReply    the worker's pid and process group, or the errno of
//                                   the failed fork
//
// A request carries exactly what an exec'd worker would be given (command line,
// environment) plus the nice value the daemon sets, so a forked worker cannot differ from
// an exec'd one in anything the daemon decides.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sofaas::zygote {

struct SpawnRequest {
    std::vector<std::string> arguments;    // argv, argv[0] included
    std::vector<std::string> environment;  // "KEY=value"
    int32_t nice = 0;                      // absolute nice value of the worker
    uint32_t cgroup_files = 0;             // cgroup.procs files the worker writes itself into
    bool clone_into_cgroup = false;        // the last descriptor is a cgroup v2 directory
};

struct SpawnReply {
    pid_t pid = -1;  // > 0: the worker, a child of the daemon
    int error = 0;   // errno of the failed fork when pid <= 0
    // The process group to kill to end the environment: the worker's own, or that of the
    // init of its pid namespace (environment_init.h).
    pid_t process_group = -1;
};

inline constexpr std::string_view ready_hello = "ready";

// In this order: fd 3, fd 1 and fd 2 of the worker, then the cgroup's.
inline constexpr size_t worker_descriptors = 3;
// One cgroup.procs file per cgroup v1 hierarchy (4 at most), or the v2 directory.
inline constexpr size_t max_request_descriptors = worker_descriptors + 4 + 1;
size_t request_descriptors(const SpawnRequest& request);
// Larger than any request the daemon sends (a function's environment is small); a larger
// message is refused by the kernel at send time (EMSGSIZE) and the daemon falls back.
inline constexpr size_t max_message_bytes = 256 * 1024;

std::string encode(const SpawnRequest& request);
std::string encode(const SpawnReply& reply);
std::optional<SpawnRequest> decode_spawn_request(std::string_view message);
std::optional<SpawnReply> decode_spawn_reply(std::string_view message);

// Sends one message with `fd_count` descriptors attached. Never raises SIGPIPE.
// Returns 0 or the errno.
int send_message(int socket, std::string_view message, const int* fds = nullptr, size_t fd_count = 0);

enum class Received { message, closed, broken };
// Receives one whole message; the descriptors that came with it are close-on-exec and
// owned by the caller, even when the message is reported broken (truncated).
Received receive_message(int socket, std::string& message, std::vector<int>& fds);

}  // namespace sofaas::zygote
