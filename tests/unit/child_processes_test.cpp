// The pool's registry of the daemon's children (pool/child_processes.h): strangers are
// killed and reaped, known children and children being born are not, and a subreaper
// inherits what a child orphans.
#include "pool/child_processes.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>

#include <gtest/gtest.h>

#include "support/eventually.h"
#include "support/proc_inspect.h"

namespace sofaas {
namespace {

using testing::eventually;
using testing::is_running;

[[noreturn]] void wait_forever() {
    for (;;) ::pause();
}

pid_t fork_waiting_child() {
    const pid_t pid = ::fork();
    if (pid == 0) wait_forever();
    return pid;
}

// Neither running nor a zombie of this process: somebody waited for it.
bool reaped(pid_t pid) {
    siginfo_t info{};
    return ::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT) != 0 && errno == ECHILD;
}

void kill_and_reap(pid_t pid) {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
}

// Sweeps until `pid` is reaped (a SIGKILLed process takes a moment to die).
bool swept_away(ChildProcesses& children, pid_t pid) {
    return eventually([&] {
        children.kill_strangers();
        return reaped(pid);
    });
}

class ChildProcessesTest : public ::testing::Test {
protected:
    void SetUp() override {
        const auto error = children_.adopt_orphans();
        ASSERT_FALSE(error.has_value()) << *error;
    }
    ChildProcesses children_;
};

TEST(ChildProcesses, KillsNothingBeforeAdoptingOrphans) {
    ChildProcesses children;
    const pid_t child = fork_waiting_child();
    ASSERT_GT(child, 0);
    EXPECT_EQ(children.kill_strangers(), 0u);
    EXPECT_TRUE(is_running(child));
    kill_and_reap(child);
}

TEST_F(ChildProcessesTest, KillsAndReapsAStranger) {
    const pid_t stranger = fork_waiting_child();
    ASSERT_GT(stranger, 0);
    EXPECT_EQ(children_.kill_strangers(), 1u);
    EXPECT_TRUE(swept_away(children_, stranger));
    EXPECT_EQ(children_.kill_strangers(), 0u);
}

TEST_F(ChildProcessesTest, LeavesAKnownChildAlone) {
    ChildProcesses::Birth birth = children_.expect_birth();
    const pid_t worker = fork_waiting_child();
    ASSERT_GT(worker, 0);
    birth.born(worker);
    EXPECT_EQ(children_.kill_strangers(), 0u);
    EXPECT_TRUE(is_running(worker));

    // Once reaped and forgotten, its pid means nothing to the registry.
    kill_and_reap(worker);
    children_.reaped(worker);
    EXPECT_EQ(children_.kill_strangers(), 0u);
}

// A child seen while a birth is under way may be the one being born: it waits for the
// birth to end, and dies only if the birth did not name it.
TEST_F(ChildProcessesTest, AChildSeenDuringABirthWaitsForItsEnd) {
    pid_t unnamed = -1;
    {
        ChildProcesses::Birth birth = children_.expect_birth();
        unnamed = fork_waiting_child();
        ASSERT_GT(unnamed, 0);
        EXPECT_EQ(children_.kill_strangers(), 0u);
        EXPECT_TRUE(is_running(unnamed));
    }
    EXPECT_TRUE(swept_away(children_, unnamed));
}

// A birth begun after a stranger was first seen does not protect it.
TEST_F(ChildProcessesTest, ALaterBirthDoesNotShieldAStrangerSeenBefore) {
    ChildProcesses::Birth earlier = children_.expect_birth();
    const pid_t stranger = fork_waiting_child();
    ASSERT_GT(stranger, 0);
    EXPECT_EQ(children_.kill_strangers(), 0u);  // seen while `earlier` is open
    ChildProcesses::Birth later = children_.expect_birth();
    { ChildProcesses::Birth ended = std::move(earlier); }
    EXPECT_TRUE(swept_away(children_, stranger)) << "a birth begun after the sighting kept it alive";
}

// A process in a known child's process group dies with that group (the worker's SIGKILL).
TEST_F(ChildProcessesTest, SparesAStrangerInAKnownChildsGroupUntilThatChildIsGone) {
    ChildProcesses::Birth birth = children_.expect_birth();
    const pid_t leader = ::fork();
    if (leader == 0) {
        ::setpgid(0, 0);
        wait_forever();
    }
    ASSERT_GT(leader, 0);
    birth.born(leader);
    ::setpgid(leader, leader);  // whichever of the two runs first

    const pid_t member = ::fork();
    if (member == 0) {
        ::setpgid(0, leader);
        wait_forever();
    }
    ASSERT_GT(member, 0);
    ::setpgid(member, leader);
    ASSERT_TRUE(eventually([&] { return ::getpgid(member) == leader; }));

    EXPECT_EQ(children_.kill_strangers(), 1u);
    EXPECT_TRUE(is_running(member));

    kill_and_reap(leader);
    children_.reaped(leader);
    EXPECT_TRUE(swept_away(children_, member));
}

// The subreaper part: a grandchild whose parent exits becomes this process's child.
TEST_F(ChildProcessesTest, AdoptsAndKillsAnOrphanedGrandchild) {
    int pipe_fds[2];
    ASSERT_EQ(::pipe(pipe_fds), 0);
    ChildProcesses::Birth birth = children_.expect_birth();
    const pid_t parent = ::fork();
    if (parent == 0) {
        ::setsid();
        const pid_t grandchild = fork_waiting_child();
        (void)!::write(pipe_fds[1], &grandchild, sizeof grandchild);
        ::_exit(0);
    }
    ASSERT_GT(parent, 0);
    birth.born(parent);
    ::close(pipe_fds[1]);
    pid_t grandchild = -1;
    ASSERT_EQ(::read(pipe_fds[0], &grandchild, sizeof grandchild), static_cast<ssize_t>(sizeof grandchild));
    ::close(pipe_fds[0]);
    ::waitpid(parent, nullptr, 0);
    children_.reaped(parent);

    ASSERT_GT(grandchild, 0);
    EXPECT_TRUE(swept_away(children_, grandchild)) << "grandchild " << grandchild << " was not adopted";
    EXPECT_FALSE(is_running(grandchild));
}

}  // namespace
}  // namespace sofaas
