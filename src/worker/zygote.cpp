#include "worker/zygote.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <variant>
#include <vector>

#include "worker/process_image.h"
#include "worker/sandbox.h"
#include "worker/sibling_fork.h"
#include "worker/syscall_filter.h"
#include "worker/worker_options.h"
#include "worker/worker_session.h"
#include "worker/worker_user.h"
#include "worker/zygote_protocol.h"

namespace sofaas::worker {
namespace {

constexpr int daemon_socket = 3;
constexpr int first_unshared_fd = 4;

struct Preparation {
    SiblingFork fork;
    ProcessImage image;
};

// Everything a cold start would repeat that does not depend on the function. A failure
// to look up the user or to compile the filter is not the zygote's: each worker reports
// it in its Ready frame, as an exec'd worker would.
std::variant<Preparation, std::string> prepare(const ZygoteOptions& options) {
    if (!options.user.empty()) look_up_user(options.user);
    prepare_syscall_filter();
    auto fork = SiblingFork::prepare();
    if (auto* error = std::get_if<std::string>(&fork)) return std::move(*error);
    auto image = ProcessImage::of_this_process();
    if (auto* error = std::get_if<std::string>(&image)) return std::move(*error);
    return Preparation{std::get<SiblingFork>(fork), std::get<ProcessImage>(image)};
}

void close_all(const std::vector<int>& fds) {
    for (const int fd : fds) close(fd);
}

// In the forked child: the state an exec'd worker starts in (worker_spawn.h),
// then the worker itself. Only the request's descriptors survive, on 1, 2 and 3; the
// zygote's socket (fd 3 until now) is gone before any code of the function's is loaded.
[[noreturn]] void become_worker(const zygote::SpawnRequest& request, const std::vector<int>& fds,
                                const ProcessImage& image) {
    const int dev_null = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (dev_null < 0 || dup2(dev_null, 0) < 0 || dup2(fds[1], 1) < 0 || dup2(fds[2], 2) < 0 ||
        dup2(fds[0], daemon_socket) < 0)
        _exit(exit_bad_usage);
    close_range(first_unshared_fd, ~0u, 0);

    // Its own process group, as POSIX_SPAWN_SETPGROUP gives (the daemon kills the group).
    setpgid(0, 0);
    setpriority(PRIO_PROCESS, 0, request.nice);  // best effort, as in the daemon
    // The zygote is not dumpable (see run_zygote); an exec'd worker starts dumpable.
    prctl(PR_SET_DUMPABLE, 1);
    // Without it the function would see the zygote's (empty) environment: no worker then.
    if (auto error = image.present(request.arguments, request.environment)) {
        std::fprintf(stderr, "sofaas-worker: %s\n", error->c_str());
        _exit(exit_bad_usage);
    }

    std::vector<char*> argv;
    for (const std::string& argument : request.arguments) argv.push_back(const_cast<char*>(argument.c_str()));
    argv.push_back(nullptr);
    auto parsed = parse_options(static_cast<int>(request.arguments.size()), argv.data());
    if (const auto* error = std::get_if<std::string>(&parsed)) {
        std::fprintf(stderr, "sofaas-worker: %s\n", error->c_str());
        std::exit(exit_bad_usage);
    }
    std::exit(run_worker(std::get<WorkerOptions>(parsed)));
}

zygote::SpawnReply spawn(const zygote::SpawnRequest& request, const std::vector<int>& fds,
                         const Preparation& preparation) {
    const pid_t pid = preparation.fork.fork();
    if (pid == 0) become_worker(request, fds, preparation.image);
    if (pid < 0) return {-1, errno};
    return {pid, 0};
}

int serve(const Preparation& preparation) {
    std::string message;
    std::vector<int> fds;
    for (;;) {
        const auto received = zygote::receive_message(daemon_socket, message, fds);
        if (received == zygote::Received::closed) return 0;
        zygote::SpawnReply reply{-1, EPROTO};
        if (received == zygote::Received::message && fds.size() == zygote::request_descriptors)
            if (const auto request = zygote::decode_spawn_request(message))
                reply = spawn(*request, fds, preparation);
        close_all(fds);
        if (zygote::send_message(daemon_socket, zygote::encode(reply)) != 0) return 0;  // the daemon is gone
    }
}

}  // namespace

int run_zygote(int argc, char** argv) {
    auto parsed = parse_zygote_options(argc, argv);
    if (const auto* error = std::get_if<std::string>(&parsed)) {
        std::fprintf(stderr, "sofaas-worker --zygote: %s\n", error->c_str());
        return exit_bad_usage;
    }
    const ZygoteOptions& options = std::get<ZygoteOptions>(parsed);
    // Dies with the daemon, as workers do; the daemon also kills it at shutdown.
    if (!stay_with_parent(options.parent_pid)) return exit_orphaned;
    // Its memory holds nothing secret, but it runs with the daemon's privileges: a worker
    // of the same user must not be able to open /proc/ZYGOTE/mem and write into it.
    prctl(PR_SET_DUMPABLE, 0);
    // The daemon keeps everything it creates private (umask 077); function code starts
    // with the usual umask.
    umask(022);

    auto prepared = prepare(options);
    if (const auto* error = std::get_if<std::string>(&prepared)) {
        zygote::send_message(daemon_socket, *error);
        return exit_bad_usage;
    }
    if (zygote::send_message(daemon_socket, zygote::ready_hello) != 0) return 0;
    return serve(std::get<Preparation>(prepared));
}

}  // namespace sofaas::worker
