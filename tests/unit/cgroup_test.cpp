// The cgroup of an execution environment (src/cgroup): which hierarchies a host offers,
// what each version writes and reads (against a fake hierarchy of plain files), and, on a
// host that has cgroups and as root, the real thing: a memory limit shared by every
// process in the cgroup, freezing, killing and removal, and the cleanup of what a daemon
// that is gone left behind.
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "cgroup/cgroup_v1.h"
#include "cgroup/cgroup_v2.h"
#include "cgroup/environment_cgroups.h"
#include "cgroup/layout.h"
#include "support/eventually.h"
#include "support/temp_dir.h"

namespace sofaas::cgroup {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using testing::eventually;
using testing::TempDir;

// This machine's kind of host: cgroup v1 controllers, and an empty cgroup v2 hierarchy.
constexpr std::string_view v1_mountinfo =
    "25 30 0:23 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
    "26 25 0:24 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n"
    "27 25 0:25 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct\n"
    "28 25 0:26 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
    "29 25 0:27 / /sys/fs/cgroup/freezer rw,relatime - cgroup cgroup rw,freezer\n"
    "30 25 0:28 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids\n"
    "31 25 0:29 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n";
constexpr std::string_view v1_own =
    "8:pids:/\n6:freezer:/\n4:memory:/process_api/b589\n2:cpuacct:/\n1:cpu:/\n0::/\n";

// A Debian 12 host: one cgroup v2 hierarchy.
constexpr std::string_view v2_mountinfo =
    "24 30 0:22 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:9 - cgroup2 cgroup2 "
    "rw,nsdelegate,memory_recursiveprot\n";
constexpr std::string_view v2_own = "0::/system.slice/sofaasd.service\n";

ReadFile controllers(std::string listed) {
    return [listed](const fs::path& file) -> std::optional<std::string> {
        if (file.filename() != "cgroup.controllers") return std::nullopt;
        return listed;
    };
}

TEST(CgroupLayout, FindsV1ControllersWhereTheUnifiedHierarchyHasNone) {
    const auto found = find_layout(v1_mountinfo, v1_own, controllers("\n"));
    ASSERT_TRUE(std::holds_alternative<Layout>(found)) << std::get<std::string>(found);
    const Layout& layout = std::get<Layout>(found);
    EXPECT_EQ(layout.version, Version::v1);
    EXPECT_EQ(layout.memory, "/sys/fs/cgroup/memory/process_api/b589");
    EXPECT_EQ(layout.pids, "/sys/fs/cgroup/pids");
    EXPECT_EQ(layout.freezer, "/sys/fs/cgroup/freezer");
    EXPECT_EQ(layout.cpuacct, "/sys/fs/cgroup/cpuacct");
}

TEST(CgroupLayout, PrefersV2WhenItOffersMemoryAndPids) {
    const auto found = find_layout(v2_mountinfo, v2_own, controllers("cpuset cpu io memory hugetlb pids rdma misc\n"));
    ASSERT_TRUE(std::holds_alternative<Layout>(found)) << std::get<std::string>(found);
    const Layout& layout = std::get<Layout>(found);
    EXPECT_EQ(layout.version, Version::v2);
    EXPECT_EQ(layout.memory, "/sys/fs/cgroup/system.slice/sofaasd.service");
    EXPECT_EQ(layout.freezer, layout.memory);
}

TEST(CgroupLayout, V2WithoutMemoryAndNoV1IsNoLayoutAndSaysWhy) {
    const auto found = find_layout(v2_mountinfo, v2_own, controllers("cpu io pids\n"));
    ASSERT_TRUE(std::holds_alternative<std::string>(found));
    const std::string& why = std::get<std::string>(found);
    EXPECT_NE(why.find("offers no memory controller"), std::string::npos) << why;
    EXPECT_NE(why.find("no cgroup v1 hierarchy of memory, pids, freezer, cpuacct"), std::string::npos) << why;
}

TEST(CgroupLayout, ControllersMountedTogetherShareADirectory) {
    const std::string mountinfo =
        "26 25 0:24 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct\n"
        "28 25 0:26 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n"
        "29 25 0:27 / /sys/fs/cgroup/freezer rw - cgroup cgroup rw,freezer\n"
        "30 25 0:28 / /sys/fs/cgroup/pids rw - cgroup cgroup rw,pids\n";
    const std::string own = "5:pids:/a\n4:freezer:/a\n3:memory:/a\n2:cpu,cpuacct:/a\n1:name=systemd:/a\n";
    const auto found = find_layout(mountinfo, own, controllers(""));
    ASSERT_TRUE(std::holds_alternative<Layout>(found)) << std::get<std::string>(found);
    EXPECT_EQ(std::get<Layout>(found).cpuacct, "/sys/fs/cgroup/cpu,cpuacct/a");
}

TEST(CgroupLayout, AV1HierarchyMissingIsNamed) {
    std::string mountinfo(v1_mountinfo);
    mountinfo.erase(mountinfo.find("29 25"), mountinfo.find("30 25") - mountinfo.find("29 25"));
    const auto found = find_layout(mountinfo, v1_own, controllers(""));
    ASSERT_TRUE(std::holds_alternative<std::string>(found));
    EXPECT_NE(std::get<std::string>(found).find("no cgroup v1 hierarchy of freezer"), std::string::npos)
        << std::get<std::string>(found);
}

// In a container the hierarchy is often mounted from the container's own cgroup: the
// mount's root is that cgroup, and /proc/self/cgroup names paths from the real root.
TEST(CgroupLayout, AMountOfASubtreeShowsThePathsBelowIt) {
    const std::string mountinfo = "40 30 0:30 /docker/abc /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n";
    const auto found = find_layout(mountinfo, "0::/docker/abc/app\n", controllers("memory pids\n"));
    ASSERT_TRUE(std::holds_alternative<Layout>(found)) << std::get<std::string>(found);
    EXPECT_EQ(std::get<Layout>(found).memory, "/sys/fs/cgroup/app");

    const auto elsewhere = find_layout(mountinfo, "0::/other\n", controllers("memory pids\n"));
    EXPECT_TRUE(std::holds_alternative<std::string>(elsewhere)) << "a cgroup the mount does not show";
}

TEST(CgroupLayout, MountPointsAreUnescaped) {
    const std::string mountinfo = "40 30 0:30 / /mnt/cgroup\\040two rw - cgroup2 cgroup2 rw\n";
    const auto found = find_layout(mountinfo, "0::/x\n", controllers("memory pids\n"));
    ASSERT_TRUE(std::holds_alternative<Layout>(found)) << std::get<std::string>(found);
    EXPECT_EQ(std::get<Layout>(found).memory, "/mnt/cgroup two/x");
}

// A fake hierarchy: the files the kernel would create, as plain files.
void make_files(const fs::path& directory, std::initializer_list<std::pair<const char*, const char*>> files) {
    fs::create_directories(directory);
    for (const auto& [name, contents] : files) std::ofstream(directory / name) << contents;
}

std::string contents_of(const fs::path& file) {
    std::ifstream in(file);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

void make_v2_files(const fs::path& directory) {
    make_files(directory, {{"memory.max", "max\n"},
                           {"memory.swap.max", "max\n"},
                           {"memory.oom.group", "0\n"},
                           {"pids.max", "max\n"},
                           {"memory.peak", "104857600\n"},
                           {"memory.events", "low 0\nhigh 0\nmax 7\noom 1\noom_kill 2\noom_group_kill 1\n"},
                           {"cpu.stat", "usage_usec 1500\nuser_usec 1000\nsystem_usec 500\n"},
                           {"pids.current", "3\n"},
                           {"cgroup.freeze", "0\n"},
                           {"cgroup.kill", ""},
                           {"cgroup.procs", ""}});
}

Limits limits_of(uint64_t mib) {
    Limits limits;
    limits.memory_bytes = mib * 1024 * 1024;
    return limits;
}

TEST(CgroupV2, WritesTheLimits) {
    TempDir dir;
    make_v2_files(dir.path());
    const auto cgroup = set_up_v2(dir.path(), limits_of(128));
    ASSERT_TRUE(std::holds_alternative<std::unique_ptr<EnvironmentCgroup>>(cgroup)) << std::get<std::string>(cgroup);
    EXPECT_EQ(contents_of(dir / "memory.max"), "134217728");
    EXPECT_EQ(contents_of(dir / "memory.swap.max"), "0") << "swap must not extend the limit";
    EXPECT_EQ(contents_of(dir / "memory.oom.group"), "1");
    EXPECT_EQ(contents_of(dir / "pids.max"), "1024");
}

TEST(CgroupV2, WithoutSwapAccountingThereIsNoSwapLimitToWrite) {
    TempDir dir;
    make_v2_files(dir.path());
    fs::remove(dir / "memory.swap.max");
    const auto cgroup = set_up_v2(dir.path(), limits_of(128));
    ASSERT_TRUE(std::holds_alternative<std::unique_ptr<EnvironmentCgroup>>(cgroup)) << std::get<std::string>(cgroup);
    EXPECT_FALSE(fs::exists(dir / "memory.swap.max"));
}

TEST(CgroupV2, ReadsPeakMemoryCpuTimeOomKillsAndTasks) {
    TempDir dir;
    make_v2_files(dir.path());
    auto created = set_up_v2(dir.path(), limits_of(128));
    ASSERT_TRUE(std::holds_alternative<std::unique_ptr<EnvironmentCgroup>>(created));
    const auto usage = std::get<std::unique_ptr<EnvironmentCgroup>>(created)->usage();
    ASSERT_TRUE(usage);
    EXPECT_EQ(usage->peak_memory_bytes, 104857600u);
    EXPECT_EQ(usage->cpu_ns, 1500000u);
    EXPECT_EQ(usage->oom_kills, 2u);
    EXPECT_EQ(usage->tasks, 3u);
    EXPECT_EQ(std::get<std::unique_ptr<EnvironmentCgroup>>(created)->peak_memory_bytes(), 104857600u);
    EXPECT_EQ(std::get<std::unique_ptr<EnvironmentCgroup>>(created)->oom_kills(), 2u);
}

TEST(CgroupV2, FreezesThawsAndKillsThroughItsFiles) {
    TempDir dir;
    make_v2_files(dir.path());
    auto created = set_up_v2(dir.path(), limits_of(128));
    ASSERT_TRUE(std::holds_alternative<std::unique_ptr<EnvironmentCgroup>>(created));
    EnvironmentCgroup& cgroup = *std::get<std::unique_ptr<EnvironmentCgroup>>(created);
    EXPECT_TRUE(cgroup.freeze());
    EXPECT_EQ(contents_of(dir / "cgroup.freeze"), "1\n");
    EXPECT_TRUE(cgroup.thaw());
    EXPECT_EQ(contents_of(dir / "cgroup.freeze"), "0\n");
    cgroup.kill();
    EXPECT_EQ(contents_of(dir / "cgroup.kill"), "1");
}

TEST(CgroupV2, AWorkerIsClonedIntoTheDirectoryOrWritesItsProcsFile) {
    TempDir dir;
    make_v2_files(dir.path());
    auto created = set_up_v2(dir.path(), limits_of(128));
    ASSERT_TRUE(std::holds_alternative<std::unique_ptr<EnvironmentCgroup>>(created));
    const Placement placement = std::get<std::unique_ptr<EnvironmentCgroup>>(created)->placement();
    ASSERT_EQ(placement.procs_files.size(), 1u);
    ASSERT_TRUE(placement.directory);
    EXPECT_EQ(fs::read_symlink("/proc/self/fd/" + std::to_string(placement.directory.get())), dir.path());
    EXPECT_EQ(fs::read_symlink("/proc/self/fd/" + std::to_string(placement.procs_files[0].get())),
              dir / "cgroup.procs");
}

TEST(CgroupV2, AKernelWithoutMemoryPeakIsRefused) {
    TempDir dir;
    make_v2_files(dir.path());
    fs::remove(dir / "memory.peak");  // before Linux 5.19
    const auto cgroup = set_up_v2(dir.path(), limits_of(128));
    ASSERT_TRUE(std::holds_alternative<std::string>(cgroup));
    EXPECT_NE(std::get<std::string>(cgroup).find("accounting files"), std::string::npos);
}

// v1: one directory per hierarchy, here each its own.
struct V1Tree {
    TempDir dir;
    Layout parents{Version::v1, dir / "memory", dir / "pids", dir / "freezer", dir / "cpuacct"};

    explicit V1Tree(bool swap_accounting = true) {
        make_files(parents.memory / "env-1", {{"memory.limit_in_bytes", "9223372036854771712\n"},
                                              {"memory.swappiness", "60\n"},
                                              {"memory.max_usage_in_bytes", "52428800\n"},
                                              {"memory.oom_control", "oom_kill_disable 0\nunder_oom 0\noom_kill 4\n"},
                                              {"cgroup.procs", ""}});
        if (swap_accounting) make_files(parents.memory / "env-1", {{"memory.memsw.limit_in_bytes", "9223372036854771712\n"}});
        make_files(parents.pids / "env-1", {{"pids.max", "max\n"}, {"pids.current", "2\n"}, {"cgroup.procs", ""}});
        make_files(parents.freezer / "env-1", {{"freezer.state", "THAWED\n"}, {"cgroup.procs", ""}});
        make_files(parents.cpuacct / "env-1", {{"cpuacct.usage", "2500000\n"}, {"cgroup.procs", ""}});
    }
};

TEST(CgroupV1, WritesTheLimitsInEachHierarchy) {
    V1Tree tree;
    const auto cgroup = set_up_v1(tree.parents, "env-1", limits_of(256));
    ASSERT_TRUE(std::holds_alternative<std::unique_ptr<EnvironmentCgroup>>(cgroup)) << std::get<std::string>(cgroup);
    EXPECT_EQ(contents_of(tree.parents.memory / "env-1/memory.limit_in_bytes"), "268435456");
    EXPECT_EQ(contents_of(tree.parents.memory / "env-1/memory.memsw.limit_in_bytes"), "268435456")
        << "memory and swap together: swap adds nothing";
    EXPECT_EQ(contents_of(tree.parents.pids / "env-1/pids.max"), "1024");
}

TEST(CgroupV1, WithoutSwapAccountingSwappinessIsZero) {
    V1Tree tree(/*swap_accounting=*/false);
    const auto cgroup = set_up_v1(tree.parents, "env-1", limits_of(256));
    ASSERT_TRUE(std::holds_alternative<std::unique_ptr<EnvironmentCgroup>>(cgroup)) << std::get<std::string>(cgroup);
    EXPECT_EQ(contents_of(tree.parents.memory / "env-1/memory.swappiness"), "0");
}

TEST(CgroupV1, ReadsItsUsageAndJoinsEveryHierarchy) {
    V1Tree tree;
    auto created = set_up_v1(tree.parents, "env-1", limits_of(256));
    ASSERT_TRUE(std::holds_alternative<std::unique_ptr<EnvironmentCgroup>>(created));
    EnvironmentCgroup& cgroup = *std::get<std::unique_ptr<EnvironmentCgroup>>(created);
    const auto usage = cgroup.usage();
    ASSERT_TRUE(usage);
    EXPECT_EQ(usage->peak_memory_bytes, 52428800u);
    EXPECT_EQ(usage->cpu_ns, 2500000u);
    EXPECT_EQ(usage->oom_kills, 4u);
    EXPECT_EQ(usage->tasks, 2u);
    EXPECT_EQ(cgroup.peak_memory_bytes(), 52428800u);
    EXPECT_EQ(cgroup.oom_kills(), 4u);
    EXPECT_EQ(cgroup.placement().procs_files.size(), 4u);
    EXPECT_FALSE(cgroup.placement().directory) << "v1 cannot clone into a cgroup";
    EXPECT_TRUE(cgroup.freeze());
    EXPECT_EQ(contents_of(tree.parents.freezer / "env-1/freezer.state"), "FROZEN\n");
    EXPECT_TRUE(cgroup.thaw());
    EXPECT_EQ(contents_of(tree.parents.freezer / "env-1/freezer.state"), "THAWED\n");
}

// Not a zombie: the orphan's reaper (init) may take its time.
bool alive(pid_t pid) {
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
    const size_t state = text.rfind(')');
    return state != std::string::npos && state + 2 < text.size() && text[state + 2] != 'Z';
}

// The real thing, on a host with cgroups, as root.
class CgroupHost : public ::testing::Test {
protected:
    void SetUp() override {
        if (::geteuid() != 0) GTEST_SKIP() << "creating cgroups needs root";
        auto found = find_layout();
        if (auto* why = std::get_if<std::string>(&found)) GTEST_SKIP() << "no cgroups here: " << *why;
        layout_ = std::get<Layout>(found);
        auto created = EnvironmentCgroups::create(layout_);
        ASSERT_TRUE(std::holds_alternative<std::shared_ptr<EnvironmentCgroups>>(created)) << std::get<std::string>(created);
        cgroups_ = std::get<std::shared_ptr<EnvironmentCgroups>>(created);
    }

    EnvironmentCgroupPtr environment(uint64_t mib) {
        auto created = cgroups_->create_environment(limits_of(mib));
        if (auto* error = std::get_if<std::string>(&created)) ADD_FAILURE() << *error;
        return std::get<EnvironmentCgroupPtr>(std::move(created));
    }

    // A child that enters `cgroup` as a worker does, then runs `body`.
    template <typename Body>
    pid_t child_in(const EnvironmentCgroup& cgroup, Body body) {
        const Placement placement = cgroup.placement();
        const pid_t pid = ::fork();
        if (pid == 0) {
            for (const UniqueFd& procs : placement.procs_files)
                if (::write(procs.get(), "0", 1) != 1) ::_exit(3);
            body();
            ::_exit(0);
        }
        return pid;
    }

    static int wait_for(pid_t pid) {
        int status = 0;
        ::waitpid(pid, &status, 0);
        return status;
    }

    Layout layout_;
    std::shared_ptr<EnvironmentCgroups> cgroups_;
};

// Each process under the limit, together over it: the kernel kills one, and says so.
TEST_F(CgroupHost, ProcessesOfAnEnvironmentShareItsMemoryLimit) {
    EnvironmentCgroupPtr cgroup = environment(64);
    const pid_t pid = child_in(*cgroup, [] {
        for (int i = 0; i < 4; ++i) {
            if (::fork() == 0) {
                constexpr size_t size = 40u << 20;
                auto* memory = static_cast<volatile char*>(
                    ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
                for (size_t at = 0; at < size; at += 4096) memory[at] = 1;
                ::pause();
            }
        }
        while (::wait(nullptr) > 0) {
        }
    });
    ASSERT_TRUE(eventually([&] { return cgroup->usage() && cgroup->usage()->oom_kills > 0; }));
    const auto usage = cgroup->usage();
    EXPECT_GE(usage->peak_memory_bytes, 60u << 20);
    EXPECT_LE(usage->peak_memory_bytes, 64u << 20);
    ::kill(pid, SIGKILL);
    ASSERT_TRUE(eventually([&] { return cgroup->remove(); })) << "the children are killed with the cgroup";
    wait_for(pid);
}

TEST_F(CgroupHost, ShmemCountsToo) {
    EnvironmentCgroupPtr cgroup = environment(32);
    const pid_t pid = child_in(*cgroup, [] {
        const int fd = ::memfd_create("fill", 0);
        static char chunk[1 << 20];
        for (int i = 0; i < 64; ++i)
            if (::write(fd, chunk, sizeof chunk) != sizeof chunk) ::_exit(4);
    });
    const int status = wait_for(pid);
    EXPECT_TRUE((WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) || (WIFEXITED(status) && WEXITSTATUS(status) == 4))
        << "64 MiB of memfd under a 32 MiB limit: status " << status;
    EXPECT_GT(cgroup->usage()->oom_kills + (WIFEXITED(status) ? 1u : 0u), 0u);
}

TEST_F(CgroupHost, AFrozenEnvironmentComputesNothingUntilThawed) {
    EnvironmentCgroupPtr cgroup = environment(64);
    const pid_t pid = child_in(*cgroup, [] {
        volatile unsigned long spins = 0;
        for (;;) spins = spins + 1;
    });
    const auto cpu = [&] { return cgroup->usage().value_or(Usage{}).cpu_ns; };
    ASSERT_TRUE(eventually([&] { return cpu() > 20'000'000; })) << "it spins";
    EXPECT_EQ(cgroup->usage()->tasks, 1u);
    ASSERT_TRUE(cgroup->freeze());
    ASSERT_TRUE(eventually([&] {
        const uint64_t before = cpu();
        std::this_thread::sleep_for(50ms);
        return cpu() == before;
    })) << "freezing stops it";
    const uint64_t frozen_at = cpu();
    std::this_thread::sleep_for(200ms);
    EXPECT_EQ(cpu(), frozen_at);
    ASSERT_TRUE(cgroup->thaw());
    EXPECT_TRUE(eventually([&] { return cpu() > frozen_at; })) << "thawing lets it run";

    cgroup->freeze();
    ASSERT_TRUE(eventually([&] { return cgroup->remove(); })) << "a frozen process is killed too";
    const int status = wait_for(pid);
    EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << status;
    EXPECT_FALSE(fs::exists(cgroup->path()));
}

// What a process leaves the cgroup with (setsid, a double fork) changes nothing.
TEST_F(CgroupHost, RemovingItKillsWhateverLeftTheProcessGroup) {
    EnvironmentCgroupPtr cgroup = environment(64);
    int pipe_ends[2];
    ASSERT_EQ(::pipe(pipe_ends), 0);
    const pid_t pid = child_in(*cgroup, [&] {
        if (::fork() == 0) {
            ::setsid();
            if (::fork() == 0) {
                const pid_t self = ::getpid();
                (void)!::write(pipe_ends[1], &self, sizeof self);
                for (;;) ::pause();
            }
            ::_exit(0);
        }
    });
    pid_t escaped = 0;
    ASSERT_EQ(::read(pipe_ends[0], &escaped, sizeof escaped), static_cast<ssize_t>(sizeof escaped));
    wait_for(pid);
    ASSERT_EQ(::kill(escaped, 0), 0) << "the grandchild lives on its own";
    ASSERT_TRUE(eventually([&] { return cgroup->remove(); }));
    EXPECT_TRUE(eventually([&] { return !alive(escaped); })) << "and dies with its cgroup";
    ::close(pipe_ends[0]);
    ::close(pipe_ends[1]);
}

// A SIGKILLed daemon leaves its cgroups behind; the next one removes them, killing what is
// still in them.
TEST_F(CgroupHost, CgroupsOfADaemonThatIsGoneAreRemoved) {
    const pid_t gone = ::fork();
    if (gone == 0) ::_exit(0);
    wait_for(gone);
    const fs::path left = layout_.memory / ("sofaas-" + std::to_string(gone));
    ASSERT_FALSE(fs::exists(left));
    ASSERT_TRUE(fs::create_directory(left));
    ASSERT_TRUE(fs::create_directory(left / "env-1"));
    cgroups_.reset();  // this process's own: one per daemon
    auto again = EnvironmentCgroups::create(layout_);
    ASSERT_TRUE(std::holds_alternative<std::shared_ptr<EnvironmentCgroups>>(again)) << std::get<std::string>(again);
    EXPECT_FALSE(fs::exists(left));
}

TEST_F(CgroupHost, TheDaemonsCgroupsGoWithIt) {
    const fs::path own = cgroups_->path();
    ASSERT_TRUE(fs::exists(own));
    EnvironmentCgroupPtr cgroup = environment(64);
    const fs::path environment_path = cgroup->path();
    ASSERT_TRUE(fs::exists(environment_path));
    cgroup.reset();  // retired in the background
    EXPECT_TRUE(eventually([&] { return !fs::exists(environment_path); }));
    cgroups_.reset();
    EXPECT_FALSE(fs::exists(own));
}

}  // namespace
}  // namespace sofaas::cgroup
