// The daemon's child processes, in two kinds: those it started on purpose (workers, and
// whatever else registers a Birth, such as a worker launcher) and strangers: processes a
// function left behind that the daemon inherited, as a child subreaper, when their own
// parent died. A child that called setsid() has left its worker's process group, so the
// group SIGKILL misses it; once its worker is dead it is a stranger, and so is a process
// orphaned by a double fork. Strangers are killed, with the process group they lead, and
// reaped, each by its own pid: workers are waited for through their pidfds, so nothing
// here ever calls waitpid(-1).
//
// One registry per process, because children are per process: every Pool shares it.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <unordered_set>

namespace sofaas {

class ChildProcesses {
public:
    static ChildProcesses& of_this_process();

    // PR_SET_CHILD_SUBREAPER: orphans among this process's descendants become its
    // children instead of init's. kill_strangers() does nothing until this succeeded: a
    // process that is no subreaper (a unit test) may have children nobody registered.
    // Returns why it failed.
    std::optional<std::string> adopt_orphans();

    // A child about to be created. Take one before fork/posix_spawn (or before asking a
    // launcher to fork) and call born(pid) as soon as the pid is known; until then,
    // children that appear are not taken for strangers. Dropping it without born() says
    // the attempt failed. Hold it only for the creation: while one is open, strangers
    // sighted since it was taken are spared.
    class Birth {
    public:
        Birth(Birth&& other) noexcept;
        Birth& operator=(Birth&&) = delete;
        Birth(const Birth&) = delete;
        ~Birth();
        // From now on `pid` is a known child, until reaped(pid). Processes in its
        // `process_group` die with it (its own group, or the one its namespace's init
        // leads: worker/environment_init.h), so the sweep leaves them alone.
        void born(pid_t pid, pid_t process_group);
        void born(pid_t pid) { born(pid, pid); }

    private:
        friend class ChildProcesses;
        Birth(ChildProcesses* children, uint64_t ticket) : children_(children), ticket_(ticket) {}
        ChildProcesses* children_;
        uint64_t ticket_;
    };
    Birth expect_birth();

    // The known child `pid` has been waited for: its pid may belong to someone else now.
    void reaped(pid_t pid);

    // Every stranger that has exited is reaped; every other one is SIGKILLed (with the
    // process group it leads), except one still in the process group of a known child:
    // a live worker's group dies with that worker. (Such a stranger is the init of a
    // worker's pid namespace whose zygote died.) Returns how many strangers were seen
    // (0 means none is left).
    size_t kill_strangers();

private:
    struct Born {
        pid_t pid;
        pid_t process_group;
    };
    void end_birth(uint64_t ticket, std::optional<Born> born);

    std::mutex sweep_mutex_;  // one sweep at a time: a stranger is reaped only by a sweep
    std::mutex mutex_;        // guards what follows; held by a sweep only after its listing
    bool adopting_ = false;
    std::unordered_map<pid_t, unsigned> known_;  // a count: a reused pid may be born before
                                                 // the old one's reaped() arrives
    std::unordered_multimap<pid_t, pid_t> group_of_;  // known child -> its process group
    std::unordered_multiset<pid_t> known_groups_;     // the process groups of known children
    uint64_t births_begun_ = 0;
    std::set<uint64_t> births_in_flight_;
    // Unknown children seen by the last sweep, with births_begun_ when first seen: one
    // becomes a stranger once every birth begun before that has ended.
    std::unordered_map<pid_t, uint64_t> suspects_;
};

}  // namespace sofaas
