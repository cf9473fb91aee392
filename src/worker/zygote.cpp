#include "worker/zygote.h"

#include <dirent.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <csignal>
#include <cstring>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "worker/environment_init.h"
#include "worker/environment_mounts.h"
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
constexpr pid_t init_in_namespace = 1;

constexpr int environment_namespaces = CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWIPC;

struct Preparation {
    SiblingFork fork;
    ProcessImage image;
    bool own_namespaces = false;
    // The zygote's own namespaces, to come back to after forking a worker into others.
    int own_pid_namespace = -1;
    int own_mount_namespace = -1;
    int own_ipc_namespace = -1;
    std::string working_directory;  // a worker's, whichever mount namespace it is in
    int daemon_pidfd = -1;
};

// Everything a cold start would repeat that does not depend on the function. A failure
// to look up the user or to compile the filter is not the zygote's: each worker reports
// it in its Ready frame, as an exec'd worker would. A zygote that was asked for
// namespaces and cannot make them serves no one: its workers would run without them.
std::variant<Preparation, std::string> prepare(const ZygoteOptions& options) {
    if (!options.user.empty()) look_up_user(options.user);
    prepare_syscall_filter();
    auto fork = SiblingFork::prepare();
    if (auto* error = std::get_if<std::string>(&fork)) return std::move(*error);
    auto image = ProcessImage::of_this_process();
    if (auto* error = std::get_if<std::string>(&image)) return std::move(*error);
    Preparation preparation{std::get<SiblingFork>(fork), std::get<ProcessImage>(image)};
    if (!options.own_namespaces) return preparation;

    preparation.own_namespaces = true;
    const std::string failed = "cannot prepare the environments' namespaces: ";
    if (auto error = make_host_read_only()) return failed + *error;
    preparation.own_pid_namespace = open("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC);
    preparation.own_mount_namespace = open("/proc/self/ns/mnt", O_RDONLY | O_CLOEXEC);
    preparation.own_ipc_namespace = open("/proc/self/ns/ipc", O_RDONLY | O_CLOEXEC);
    const int daemon_pidfd = static_cast<int>(syscall(SYS_pidfd_open, options.parent_pid, 0));
    // Above the descriptors a worker keeps (place_descriptors), so that no dup there meets it.
    preparation.daemon_pidfd = fcntl(daemon_pidfd, F_DUPFD_CLOEXEC, first_unshared_fd + 8);
    close(daemon_pidfd);
    if (preparation.own_pid_namespace < 0 || preparation.own_mount_namespace < 0 ||
        preparation.own_ipc_namespace < 0 || preparation.daemon_pidfd < 0)
        return failed + std::strerror(errno);
    char directory[PATH_MAX];
    if (!getcwd(directory, sizeof directory)) return failed + "getcwd: " + std::strerror(errno);
    preparation.working_directory = directory;
    return preparation;
}

// cgroup v2: the directory the worker is cloned straight into (the request's last
// descriptor); -1 otherwise.
int cgroup_directory_of(const zygote::SpawnRequest& request, const std::vector<int>& fds) {
    return request.clone_into_cgroup ? fds.back() : -1;
}

void close_all(const std::vector<int>& fds) {
    for (const int fd : fds) close(fd);
}

// The descriptors a worker keeps beyond 0-3, from 4 up: the cgroup.procs files of its
// environment's cgroup (it writes itself into them first thing, sandbox.h), then, in
// namespaces of its own, the daemon's pidfd until its sandbox is complete. Each is moved
// out of the way first: a source may sit where another goes. Returns false on failure.
bool place_descriptors(const zygote::SpawnRequest& request, const std::vector<int>& fds,
                       const Preparation& preparation) {
    constexpr int out_of_the_way = 64;
    std::vector<int> moved;
    for (uint32_t i = 0; i < request.cgroup_files; ++i)
        moved.push_back(fcntl(fds[zygote::worker_descriptors + i], F_DUPFD_CLOEXEC, out_of_the_way));
    if (preparation.own_namespaces) moved.push_back(fcntl(preparation.daemon_pidfd, F_DUPFD_CLOEXEC, out_of_the_way));
    for (size_t i = 0; i < moved.size(); ++i) {
        if (moved[i] < 0) return false;
        const int target = first_unshared_fd + static_cast<int>(i);
        // The pidfd stays close-on-exec, as the worker's own; the cgroup files are closed
        // before anything could exec.
        const bool pidfd = preparation.own_namespaces && i + 1 == moved.size();
        if ((pidfd ? dup3(moved[i], target, O_CLOEXEC) : dup2(moved[i], target)) < 0) return false;
    }
    close_range(first_unshared_fd + static_cast<unsigned>(moved.size()), ~0u, 0);
    return true;
}

// In the forked child: the state an exec'd worker starts in (worker_spawn.h),
// then the worker itself. Only the request's descriptors survive, on 1, 2 and 3 (and
// those of place_descriptors from 4 up); the zygote's socket (fd 3 until now) is gone
// before any code of the function's is loaded.
[[noreturn]] void become_worker(const zygote::SpawnRequest& request, const std::vector<int>& fds,
                                const Preparation& preparation) {
    const int dev_null = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (dev_null < 0 || dup2(dev_null, 0) < 0 || dup2(fds[1], 1) < 0 || dup2(fds[2], 2) < 0 ||
        dup2(fds[0], daemon_socket) < 0 || !place_descriptors(request, fds, preparation))
        _exit(exit_bad_usage);
    if (preparation.own_namespaces) {
        // Entering a mount namespace moved it to that namespace's root: where the zygote
        // was, so that relative paths (a relative data_dir's library) mean the same.
        if (chdir(preparation.working_directory.c_str()) != 0) _exit(exit_bad_usage);
    }

    // Its own process group, as POSIX_SPAWN_SETPGROUP gives (the daemon kills the group),
    // or the one its namespace's init leads, which the daemon kills instead.
    setpgid(0, preparation.own_namespaces ? init_in_namespace : 0);
    setpriority(PRIO_PROCESS, 0, request.nice);  // best effort, as in the daemon
    // The zygote ignores SIGCHLD (its inits reap themselves); an exec'd
    // worker starts with every signal at its default.
    signal(SIGCHLD, SIG_DFL);
    // The zygote is not dumpable (see run_zygote); an exec'd worker starts dumpable.
    prctl(PR_SET_DUMPABLE, 1);
    // Without it the function would see the zygote's (empty) environment: no worker then.
    if (auto error = preparation.image.present(request.arguments, request.environment)) {
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
    WorkerOptions& options = std::get<WorkerOptions>(parsed);
    if (preparation.own_namespaces) {
        options.own_namespaces = true;
        options.daemon_pidfd = first_unshared_fd + static_cast<int>(request.cgroup_files);
    }
    std::exit(run_worker(options));
}

zygote::SpawnReply spawn_sharing_namespaces(const zygote::SpawnRequest& request, const std::vector<int>& fds,
                                            const Preparation& preparation) {
    const pid_t pid = preparation.fork.fork(CLONE_PARENT, nullptr, cgroup_directory_of(request, fds));
    if (pid == 0) become_worker(request, fds, preparation);
    if (pid < 0) return {-1, errno};
    return {pid, 0, pid};
}

// An environment's namespaces, made ahead of the cold start that uses them: new pid,
// mount and IPC namespaces, whose init (environment_init.h), the zygote's child, has
// mounted the namespace's /proc and waits for its worker.
struct Namespaces {
    pid_t init = -1;  // also the environment's process group
    int init_pidfd = -1;
    int init_socket = -1;

    // Kills the init, and with it the namespaces.
    void discard() {
        kill(init, SIGKILL);
        close(init_pidfd);
        close(init_socket);
    }
};

std::optional<Namespaces> make_namespaces(const Preparation& preparation) {
    int pair[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0) return std::nullopt;
    Namespaces namespaces;
    // A copy of the zygote's read-only mount namespace (environment_mounts.h); System V
    // IPC objects and POSIX message queues die with the IPC namespace.
    namespaces.init = preparation.fork.fork(environment_namespaces | CLONE_PIDFD, &namespaces.init_pidfd);
    if (namespaces.init == 0) {
        close(pair[0]);
        run_environment_init(pair[1]);
    }
    close(pair[1]);
    namespaces.init_socket = pair[0];
    if (namespaces.init < 0) {
        close(pair[0]);
        return std::nullopt;
    }
    // The environment's process group, led by its init: the daemon's kill of the group
    // takes the init too, and with it everything in the namespace.
    setpgid(namespaces.init, namespaces.init);
    return namespaces;
}

// Waits for the init to have mounted its /proc: by the time a request takes namespaces
// made ahead, it has.
bool is_ready(Namespaces& namespaces) {
    char ready = 0;
    ssize_t got;
    do {
        got = read(namespaces.init_socket, &ready, 1);
    } while (got < 0 && errno == EINTR);
    if (got == 1) return true;
    namespaces.discard();
    return false;
}

bool return_to_own_namespaces(const Preparation& preparation) {
    return setns(preparation.own_pid_namespace, CLONE_NEWPID) == 0 &&
           setns(preparation.own_mount_namespace, CLONE_NEWNS) == 0 &&
           setns(preparation.own_ipc_namespace, CLONE_NEWIPC) == 0;
}

// The worker, the daemon's child, as the second process of `namespaces`' pid namespace
// and a member of its mount and IPC namespaces.
zygote::SpawnReply spawn_in_own_namespaces(const zygote::SpawnRequest& request, const std::vector<int>& fds,
                                           const Preparation& preparation, Namespaces namespaces) {
    pid_t worker = -1;
    int error = 0;
    // setns(CLONE_NEWPID) moves only the zygote's next children into the pid namespace.
    if (setns(namespaces.init_pidfd, environment_namespaces) == 0) {
        worker = preparation.fork.fork(CLONE_PARENT, nullptr, cgroup_directory_of(request, fds));
        if (worker == 0) become_worker(request, fds, preparation);
        error = errno;
        // Were it to stay there, the next environment would be forked into this one.
        if (!return_to_own_namespaces(preparation)) _exit(exit_bad_usage);
    } else {
        error = errno;
    }
    if (worker < 0) {
        namespaces.discard();
        return {-1, error};
    }
    (void)!write(namespaces.init_socket, "", 1);
    close(namespaces.init_socket);
    close(namespaces.init_pidfd);
    return {worker, 0, namespaces.init};
}

// Makes a worker; in namespaces of its own, those made ahead (`spare`) if there are.
zygote::SpawnReply spawn(const zygote::SpawnRequest& request, const std::vector<int>& fds,
                         const Preparation& preparation, std::optional<Namespaces>& spare) {
    if (!preparation.own_namespaces) return spawn_sharing_namespaces(request, fds, preparation);
    std::optional<Namespaces> namespaces = std::exchange(spare, std::nullopt);
    if (!namespaces) namespaces = make_namespaces(preparation);
    if (!namespaces || !is_ready(*namespaces)) return {-1, EAGAIN};
    return spawn_in_own_namespaces(request, fds, preparation, *namespaces);
}

// The daemon is gone: its frozen environments (cgroup v1) get to act on their SIGKILLs.
// Through a descriptor opened before the zygote's view of the host became read-only.
void thaw_all(int freezer_directory) {
    DIR* listing = fdopendir(dup(freezer_directory));
    if (!listing) return;
    while (const dirent* entry = readdir(listing)) {
        const std::string name = entry->d_name;
        if (entry->d_type != DT_DIR || name == "." || name == "..") continue;
        const int state = openat(freezer_directory, (name + "/freezer.state").c_str(), O_WRONLY | O_CLOEXEC);
        if (state < 0) continue;
        (void)!write(state, "THAWED", 6);
        close(state);
    }
    closedir(listing);
}

int serve(const Preparation& preparation) {
    std::string message;
    std::vector<int> fds;
    // The next cold start's namespaces, made while the zygote would otherwise wait: making
    // them (a fork into new namespaces, a copy of the mount table, a /proc) is most of
    // what a worker in namespaces of its own costs.
    std::optional<Namespaces> spare;
    for (;;) {
        if (preparation.own_namespaces && !spare) spare = make_namespaces(preparation);
        const auto received = zygote::receive_message(daemon_socket, message, fds);
        if (received == zygote::Received::closed) return 0;
        zygote::SpawnReply reply{-1, EPROTO};
        if (received == zygote::Received::message)
            if (const auto request = zygote::decode_spawn_request(message);
                request && fds.size() == zygote::request_descriptors(*request))
                reply = spawn(*request, fds, preparation, spare);
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
    // Dies with the daemon, as workers do; the daemon also kills it at shutdown. With
    // environments to thaw, it notices the death by the end of its socket instead.
    if (!stay_with_parent(options.parent_pid)) return exit_orphaned;
    int freezer_directory = -1;
    if (!options.thaw_on_exit.empty()) {
        prctl(PR_SET_PDEATHSIG, 0);
        freezer_directory = open(options.thaw_on_exit.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    }
    // Its memory holds nothing secret, but it runs with the daemon's privileges: a worker
    // of the same user must not be able to open /proc/ZYGOTE/mem and write into it.
    prctl(PR_SET_DUMPABLE, 0);
    // Its children, the inits of the environments, reap themselves. Its workers are the
    // daemon's children.
    signal(SIGCHLD, SIG_IGN);
    // The daemon keeps everything it creates private (umask 077); function code starts
    // with the usual umask.
    umask(022);

    auto prepared = prepare(options);
    if (const auto* error = std::get_if<std::string>(&prepared)) {
        zygote::send_message(daemon_socket, *error);
        return exit_bad_usage;
    }
    if (zygote::send_message(daemon_socket, zygote::ready_hello) != 0) return 0;
    // The daemon never closes its end (it SIGKILLs the zygote at shutdown): the end of the
    // socket is its exit. Its children may not have their parent-death signals yet (a
    // process's descriptors close before its children are told): thawed, they act on them
    // when they come.
    const int status = serve(std::get<Preparation>(prepared));
    if (freezer_directory >= 0) thaw_all(freezer_directory);
    return status;
}

}  // namespace sofaas::worker
