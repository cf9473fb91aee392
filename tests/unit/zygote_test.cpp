// The zygote (sofaas-worker --zygote) and the launcher that uses it: a forked worker keeps
// the worker contract exactly as an exec'd one does (descriptors, environment, command
// line, process group, nice, parent), speaks the protocol, and its exit is this process's
// to classify; a zygote that dies is restarted once, then each worker gets a zygote of
// its own. With namespaces of its own, a worker is the second process of its pid
// namespace, and the group the caller kills is its init's. A worker with a cgroup is in
// it before it runs anything of the function's.
#include <fcntl.h>
#include <linux/magic.h>
#include <poll.h>
#include <signal.h>
#include <sys/vfs.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <variant>
#include <vector>

#include <gtest/gtest.h>

#include "pool/worker_launcher.h"
#include "pool/worker_spawn.h"
#include "pool/zygote_process.h"
#include "support/daemon_process.h"
#include "support/eventually.h"
#include "support/proc_inspect.h"
#include "worker/protocol.h"

namespace sofaas {
namespace {

using testing::fixture_library;
using testing::function_library;

std::filesystem::path worker_binary() {
    return std::filesystem::path(SOFAAS_BIN_DIR) / "sofaas-worker";
}

FunctionVersion make_version(const std::string& name, std::filesystem::path library,
                             std::vector<std::pair<std::string, std::string>> env = {}) {
    FunctionVersion version;
    version.spec.name = name;
    version.spec.version = 3;
    version.spec.timeout_s = 3;
    version.spec.memory_mb = 128;
    version.spec.env = std::move(env);
    version.library = std::move(library);
    return version;
}

std::string read_text(const std::filesystem::path& path) {
    std::ifstream file(path);
    return std::string((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
}

std::vector<std::string> split_nul(const std::string& text) {
    std::vector<std::string> parts;
    std::istringstream stream(text);
    for (std::string part; std::getline(stream, part, '\0');) parts.push_back(part);
    return parts;
}

struct ProcStat {
    char state = '?';
    pid_t parent = 0;
    pid_t group = 0;
    long nice = 0;
};

// /proc/PID/stat fields 3, 4, 5 and 19 (proc(5)), read after comm's closing ')'.
ProcStat proc_stat(pid_t pid) {
    const std::string line = read_text("/proc/" + std::to_string(pid) + "/stat");
    std::istringstream fields(line.substr(line.rfind(')') + 2));
    ProcStat stat;
    std::string skip;
    fields >> stat.state >> stat.parent >> stat.group;
    for (int field = 6; field < 19; ++field) fields >> skip;
    fields >> stat.nice;
    return stat;
}

// One frame from the worker: its type and body; nullopt after 10 s or at EOF. Reads no
// byte past the frame: the next one may already be waiting behind it.
std::optional<std::pair<uint32_t, std::string>> read_frame(int socket) {
    std::string bytes;
    char chunk[4096];
    for (;;) {
        size_t wanted = protocol::header_size;
        if (bytes.size() >= protocol::header_size) {
            const auto header = protocol::read_header(bytes.data());
            if (bytes.size() >= protocol::header_size + header.body_size)
                return std::pair{header.type, bytes.substr(protocol::header_size, header.body_size)};
            wanted = protocol::header_size + header.body_size;
        }
        pollfd readable{socket, POLLIN, 0};
        if (::poll(&readable, 1, 10'000) != 1) return std::nullopt;
        const ssize_t got = ::recv(socket, chunk, std::min(sizeof chunk, wanted - bytes.size()), 0);
        if (got <= 0) return std::nullopt;
        bytes.append(chunk, static_cast<size_t>(got));
    }
}

std::optional<protocol::Ready> ready_of(const WorkerProcess& worker) {
    auto frame = read_frame(worker.socket.get());
    // A worker whose sandbox is in place says so first.
    if (frame && frame->first == static_cast<uint32_t>(protocol::FrameType::sandboxed)) frame = read_frame(worker.socket.get());
    if (!frame || frame->first != static_cast<uint32_t>(protocol::FrameType::ready)) return std::nullopt;
    return protocol::decode_ready(frame->second);
}

std::optional<protocol::Result> invoke(const WorkerProcess& worker, const std::string& payload) {
    std::string frame;
    protocol::encode(protocol::Invoke{"req-zygote", 0, payload}, frame);
    if (::send(worker.socket.get(), frame.data(), frame.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(frame.size()))
        return std::nullopt;
    auto reply = read_frame(worker.socket.get());
    if (!reply || reply->first != static_cast<uint32_t>(protocol::FrameType::result)) return std::nullopt;
    return protocol::decode_result(reply->second);
}

int wait_status(pid_t pid) {
    int status = 0;
    EXPECT_EQ(::waitpid(pid, &status, 0), pid);
    return status;
}

std::unique_ptr<Zygote> start_zygote() {
    auto started = Zygote::start(worker_binary(), "");
    if (auto* error = std::get_if<std::string>(&started)) {
        ADD_FAILURE() << "the zygote did not start: " << *error;
        return nullptr;
    }
    return std::move(std::get<std::unique_ptr<Zygote>>(started));
}

std::optional<WorkerProcess> fork_from(Zygote& zygote, const WorkerCommand& command) {
    auto channels = open_worker_channels();
    if (auto* error = std::get_if<std::string>(&channels)) {
        ADD_FAILURE() << *error;
        return std::nullopt;
    }
    Zygote::Fork fork = zygote.fork_worker(command, std::move(std::get<WorkerChannels>(channels)));
    EXPECT_TRUE(fork.process) << fork.error;
    EXPECT_FALSE(fork.broken);
    return std::move(fork.process);
}

TEST(Zygote, ForkedWorkerKeepsTheWorkerContract) {
    auto zygote = start_zygote();
    ASSERT_TRUE(zygote);
    const auto version = make_version("greeter", function_library("hello"), {{"GREETING", "hi"}});
    const WorkerCommand command = worker_command(worker_binary(), version);
    auto worker = fork_from(*zygote, command);
    ASSERT_TRUE(worker);
    const auto ready = ready_of(*worker);
    ASSERT_TRUE(ready);
    EXPECT_TRUE(ready->ok) << ready->error_type << ": " << ready->error_message;

    // Once Ready, everything the worker set up itself is in place.
    const std::filesystem::path proc = "/proc/" + std::to_string(worker->pid);
    const ProcStat stat = proc_stat(worker->pid);
    EXPECT_EQ(stat.parent, ::getpid()) << "the worker must be the caller's child, not the zygote's";
    EXPECT_EQ(stat.group, worker->pid) << "the worker leads its own process group";
    EXPECT_EQ(stat.nice, command.nice);

    std::set<std::string> descriptors;
    for (const auto& entry : std::filesystem::directory_iterator(proc / "fd"))
        descriptors.insert(entry.path().filename());
    EXPECT_EQ(descriptors, (std::set<std::string>{"0", "1", "2", "3"}));
    EXPECT_EQ(std::filesystem::read_symlink(proc / "fd/0"), "/dev/null");
    EXPECT_EQ(std::filesystem::read_symlink(proc / "fd/1").string().rfind("/memfd:sofaas-stdout", 0), 0u);
    EXPECT_EQ(std::filesystem::read_symlink(proc / "fd/2").string().rfind("/memfd:sofaas-stderr", 0), 0u);
    EXPECT_EQ(std::filesystem::read_symlink(proc / "fd/3").string().rfind("socket:", 0), 0u);

    // Exactly what posix_spawn would have been given.
    EXPECT_EQ(split_nul(read_text(proc / "environ")), command.environment);
    EXPECT_EQ(split_nul(read_text(proc / "cmdline")), command.arguments);

    const auto result = invoke(*worker, "zygote");
    ASSERT_TRUE(result);
    EXPECT_EQ(result->output, "Hello, zygote!");
    worker->socket.reset();
    const int status = wait_status(worker->pid);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "wait status " << status;
}

TEST(Zygote, FunctionSeesExactlyItsOwnEnvironment) {
    auto zygote = start_zygote();
    ASSERT_TRUE(zygote);
    const auto version = make_version("environment", fixture_library("environment"), {{"GREETING", "hi"}});
    const WorkerCommand command = worker_command(worker_binary(), version);
    auto worker = fork_from(*zygote, command);
    ASSERT_TRUE(worker);
    ASSERT_TRUE(ready_of(*worker));
    const auto result = invoke(*worker, "GREETING\nSOFAAS_FUNCTION_NAME\nHOME");
    ASSERT_TRUE(result);
    EXPECT_EQ(result->output, "count=" + std::to_string(command.environment.size()) +
                                  "\nGREETING=hi\nSOFAAS_FUNCTION_NAME=environment\nHOME unset\n");
    ::kill(worker->pid, SIGKILL);
    wait_status(worker->pid);
}

TEST(Zygote, ForkedWorkerRunsTheFunctionInsideTheSandbox) {
    auto zygote = start_zygote();
    ASSERT_TRUE(zygote);
    // The filter was compiled in the zygote; the worker installs it (and the rest) itself.
    auto worker = fork_from(*zygote, worker_command(worker_binary(), make_version("probe", fixture_library("sandbox_probe"))));
    ASSERT_TRUE(worker);
    const auto ready = ready_of(*worker);
    ASSERT_TRUE(ready && ready->ok);
    const auto result = invoke(*worker, "");
    ASSERT_TRUE(result);
    for (const char* line : {"no_new_privs=1\n", "seccomp=2\n", "pdeathsig=9\n", "core=0\n"})
        EXPECT_NE(result->output.find(line), std::string::npos) << line << " in\n" << result->output;
    ::kill(worker->pid, SIGKILL);
    wait_status(worker->pid);
}

TEST(Zygote, CrashOfAForkedWorkerIsTheCallersToSee) {
    auto zygote = start_zygote();
    ASSERT_TRUE(zygote);
    auto worker = fork_from(*zygote, worker_command(worker_binary(), make_version("crash", function_library("crash"))));
    ASSERT_TRUE(worker);
    ASSERT_TRUE(ready_of(*worker));
    EXPECT_FALSE(invoke(*worker, "boom"));
    const int status = wait_status(worker->pid);
    EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV) << "wait status " << status;
}

TEST(Zygote, WorkersOutliveTheZygote) {
    auto zygote = start_zygote();
    ASSERT_TRUE(zygote);
    auto worker = fork_from(*zygote, worker_command(worker_binary(), make_version("hello", function_library("hello"))));
    ASSERT_TRUE(worker);
    zygote.reset();  // SIGKILL and reaped
    ASSERT_TRUE(ready_of(*worker));
    const auto result = invoke(*worker, "orphan");
    ASSERT_TRUE(result);
    EXPECT_EQ(result->output, "Hello, orphan!");
    ::kill(worker->pid, SIGKILL);
    wait_status(worker->pid);
}

// A cgroup of its own in the unified hierarchy (cgroup v2), where this host has one that
// root may write: every such host can clone into it, with or without controllers.
class CgroupV2Placement : public ::testing::Test {
protected:
    void SetUp() override {
        if (::geteuid() != 0) GTEST_SKIP() << "creating cgroups needs root";
        for (const char* mount : {"/sys/fs/cgroup/unified", "/sys/fs/cgroup"}) {
            struct statfs filesystem {};
            if (::statfs(mount, &filesystem) == 0 && filesystem.f_type == CGROUP2_SUPER_MAGIC) {
                directory_ = std::filesystem::path(mount) / ("sofaas-zygote-test-" + std::to_string(::getpid()));
                break;
            }
        }
        if (directory_.empty()) GTEST_SKIP() << "no cgroup v2 hierarchy here";
        if (!std::filesystem::create_directory(directory_)) GTEST_SKIP() << "cannot create " << directory_;
        relative_ = "/" + directory_.filename().string();
    }
    void TearDown() override {
        if (!directory_.empty()) ::rmdir(directory_.c_str());
    }

    // Channels whose placement is this cgroup: cloned into it, or through its procs file.
    WorkerChannels channels(bool clone_into) {
        auto opened = open_worker_channels();
        EXPECT_TRUE(std::holds_alternative<WorkerChannels>(opened));
        WorkerChannels channels = std::move(std::get<WorkerChannels>(opened));
        if (clone_into) {
            channels.cgroup.directory = UniqueFd(::open(directory_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
        } else {
            channels.cgroup.procs_files.emplace_back(::open((directory_ / "cgroup.procs").c_str(), O_WRONLY | O_CLOEXEC));
        }
        return channels;
    }

    // The worker is in the cgroup (its /proc/PID/cgroup names it), it answers, and it
    // holds none of the cgroup's files.
    void expect_placed(const WorkerProcess& worker) {
        const auto ready = ready_of(worker);
        ASSERT_TRUE(ready && ready->ok);
        const std::string cgroups = read_text("/proc/" + std::to_string(worker.pid) + "/cgroup");
        EXPECT_NE(cgroups.find("0::" + relative_ + "\n"), std::string::npos) << cgroups;
        std::set<std::string> descriptors;
        for (const auto& entry : std::filesystem::directory_iterator("/proc/" + std::to_string(worker.pid) + "/fd"))
            descriptors.insert(entry.path().filename());
        EXPECT_EQ(descriptors, (std::set<std::string>{"0", "1", "2", "3"}));
        const auto result = invoke(worker, "cgroup");
        ASSERT_TRUE(result);
        EXPECT_EQ(result->output, "Hello, cgroup!");
        ::kill(worker.pid, SIGKILL);
        wait_status(worker.pid);
    }

    std::filesystem::path directory_;
    std::string relative_;  // as /proc/PID/cgroup shows it, the hierarchy's root being "/"
};

TEST_F(CgroupV2Placement, TheZygoteClonesTheWorkerStraightIntoItsCgroup) {
    auto zygote = start_zygote();
    ASSERT_TRUE(zygote);
    const auto command = worker_command(worker_binary(), make_version("hello", function_library("hello")), "", true);
    Zygote::Fork fork = zygote->fork_worker(command, channels(/*clone_into=*/true));
    ASSERT_TRUE(fork.process) << fork.error;
    expect_placed(*fork.process);
}

TEST_F(CgroupV2Placement, AForkedWorkerWritesItselfIntoItsCgroup) {
    auto zygote = start_zygote();
    ASSERT_TRUE(zygote);
    const auto command = worker_command(worker_binary(), make_version("hello", function_library("hello")), "", true);
    Zygote::Fork fork = zygote->fork_worker(command, channels(/*clone_into=*/false));
    ASSERT_TRUE(fork.process) << fork.error;
    expect_placed(*fork.process);
}

TEST_F(CgroupV2Placement, InNamespacesOfItsOwnTheWorkerIsClonedIntoItsCgroupToo) {
    auto started = Zygote::start(worker_binary(), "", /*own_namespaces=*/true);
    ASSERT_TRUE(std::holds_alternative<std::unique_ptr<Zygote>>(started)) << std::get<std::string>(started);
    Zygote& zygote = *std::get<std::unique_ptr<Zygote>>(started);
    const auto command = worker_command(worker_binary(), make_version("hello", function_library("hello")), "", true);
    Zygote::Fork fork = zygote.fork_worker(command, channels(/*clone_into=*/true));
    ASSERT_TRUE(fork.process) << fork.error;
    expect_placed(*fork.process);
}

TEST_F(CgroupV2Placement, InNamespacesOfItsOwnAWorkerWritesItselfIntoItsCgroup) {
    auto started = Zygote::start(worker_binary(), "", /*own_namespaces=*/true);
    ASSERT_TRUE(std::holds_alternative<std::unique_ptr<Zygote>>(started)) << std::get<std::string>(started);
    Zygote& zygote = *std::get<std::unique_ptr<Zygote>>(started);
    const auto command = worker_command(worker_binary(), make_version("hello", function_library("hello")), "", true);
    Zygote::Fork fork = zygote.fork_worker(command, channels(/*clone_into=*/false));
    ASSERT_TRUE(fork.process) << fork.error;
    expect_placed(*fork.process);
}

TEST(WorkerLauncher, RestartsADeadZygoteOnceThenStartsOneForEachWorker) {
    WorkerLauncher launcher(worker_binary(), "", /*use_zygote=*/true);
    const auto hello = make_version("hello", function_library("hello"));
    const auto launch_and_greet = [&] {
        SpawnOutcome outcome = launcher.launch(hello);
        EXPECT_TRUE(outcome.process) << outcome.error;
        if (!outcome.process) return;
        EXPECT_TRUE(ready_of(*outcome.process));
        const auto result = invoke(*outcome.process, "again");
        EXPECT_TRUE(result && result->output == "Hello, again!");
        outcome.process->socket.reset();
        wait_status(outcome.process->pid);
    };

    const auto first = launcher.zygote_pid();
    ASSERT_TRUE(first);
    ::kill(*first, SIGKILL);
    launch_and_greet();  // the dead zygote is noticed: this worker gets a zygote of its own
    launch_and_greet();  // from a second zygote
    const auto second = launcher.zygote_pid();
    ASSERT_TRUE(second);
    EXPECT_NE(*second, *first);

    ::kill(*second, SIGKILL);
    launch_and_greet();
    launch_and_greet();
    EXPECT_FALSE(launcher.zygote_pid()) << "a zygote is restarted only once";
}

TEST(WorkerLauncher, LoaderVariablesGetAWorkerExecdAgain) {
#if defined(__SANITIZE_ADDRESS__)
    GTEST_SKIP() << "ASan's runtime refuses to start after an LD_PRELOADed library that is not itself";
#endif
    WorkerLauncher launcher(worker_binary(), "", /*use_zygote=*/true);
    ASSERT_TRUE(launcher.zygote_pid());
    // The dynamic loader reads LD_PRELOAD at exec only: the forked worker execs itself
    // again, inside its sandbox (worker/loader_exec.h).
    const auto preloaded = fixture_library("probe");
    SpawnOutcome outcome =
        launcher.launch(make_version("hello", function_library("hello"), {{"LD_PRELOAD", preloaded.string()}}));
    ASSERT_TRUE(outcome.process) << outcome.error;
    ASSERT_TRUE(ready_of(*outcome.process));
    const std::string maps = read_text("/proc/" + std::to_string(outcome.process->pid) + "/maps");
    EXPECT_NE(maps.find(preloaded.string()), std::string::npos) << "LD_PRELOAD had no effect";
    EXPECT_TRUE(launcher.zygote_pid()) << "the zygote still serves";
    outcome.process->socket.reset();
    wait_status(outcome.process->pid);
}

class ZygoteInOwnNamespaces : public ::testing::Test {
protected:
    void SetUp() override {
        if (::geteuid() != 0) GTEST_SKIP() << "namespaces of its own need root";
    }
};

TEST_F(ZygoteInOwnNamespaces, TheWorkerIsTheSecondProcessOfItsPidNamespace) {
    auto started = Zygote::start(worker_binary(), "", /*own_namespaces=*/true);
    ASSERT_TRUE(std::holds_alternative<std::unique_ptr<Zygote>>(started)) << std::get<std::string>(started);
    auto& zygote = *std::get<std::unique_ptr<Zygote>>(started);
    auto worker = fork_from(zygote, worker_command(worker_binary(), make_version("hello", function_library("hello"))));
    ASSERT_TRUE(worker);
    const auto ready = ready_of(*worker);
    ASSERT_TRUE(ready && ready->ok) << (ready ? ready->error_message : "no Ready");

    EXPECT_EQ(proc_stat(worker->pid).parent, ::getpid()) << "the worker must be the caller's child";
    const pid_t init = worker->process_group;
    EXPECT_NE(init, worker->pid);
    EXPECT_EQ(proc_stat(worker->pid).group, init);
    EXPECT_EQ(testing::process_status(init)->comm, "sofaas-init");
    EXPECT_NE(testing::pid_namespace(worker->pid), testing::pid_namespace(::getpid()));
    EXPECT_EQ(testing::pid_namespace(worker->pid), testing::pid_namespace(init));
    EXPECT_EQ(testing::host_pid(worker->pid, 1), init);
    EXPECT_EQ(testing::host_pid(worker->pid, 2), worker->pid);
    const std::string mounts = read_text("/proc/" + std::to_string(worker->pid) + "/mountinfo");
    EXPECT_NE(mounts.find("/tmp /tmp rw,nosuid,nodev"), std::string::npos) << mounts;
    EXPECT_NE(mounts.find("size=524288k"), std::string::npos) << "512 MB unless the function says otherwise";

    const auto result = invoke(*worker, "namespaces");
    ASSERT_TRUE(result);
    EXPECT_EQ(result->output, "Hello, namespaces!");
    // The group the caller kills takes the init, and the namespace with it.
    ::kill(-init, SIGKILL);
    const int status = wait_status(worker->pid);
    EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << "wait status " << status;
    EXPECT_TRUE(testing::eventually([&] { return !testing::process_status(init); }));
}

TEST_F(ZygoteInOwnNamespaces, TheInitEndsTheNamespaceWhenTheWorkerDies) {
    auto started = Zygote::start(worker_binary(), "", /*own_namespaces=*/true);
    ASSERT_TRUE(std::holds_alternative<std::unique_ptr<Zygote>>(started)) << std::get<std::string>(started);
    auto& zygote = *std::get<std::unique_ptr<Zygote>>(started);
    auto worker = fork_from(zygote, worker_command(worker_binary(), make_version("escape", fixture_library("escape"))));
    ASSERT_TRUE(worker);
    ASSERT_TRUE(ready_of(*worker));
    const auto result = invoke(*worker, "orphan");
    ASSERT_TRUE(result && result->ok);
    const auto orphan = testing::host_pid(worker->pid, static_cast<pid_t>(std::stol(result->output)));
    ASSERT_TRUE(orphan);
    EXPECT_TRUE(testing::is_running(*orphan));

    ::kill(worker->pid, SIGKILL);  // the worker alone, not its group
    wait_status(worker->pid);
    EXPECT_TRUE(testing::eventually([&] { return !testing::is_running(*orphan); }))
        << "process " << *orphan << " outlived its environment";
}

}  // namespace
}  // namespace sofaas
