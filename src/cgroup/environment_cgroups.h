// The cgroups of this daemon's execution environments: `sofaas-PID` below the daemon's own
// cgroup, one `env-N` in it per environment. cgroup v2 puts `sofaas-PID` beside the
// daemon's cgroup instead when that one holds processes (the daemon's own): v2 delegates
// controllers only to cgroups whose parent holds none.
//
// Creating an environment's cgroup blocks (a few mkdirs and writes: spawner threads do
// it); dropping one never does: a background thread kills what is left in it and removes
// it, retrying while its processes die.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>
#include <variant>

#include "cgroup/environment_cgroup.h"
#include "cgroup/layout.h"

namespace sofaas::cgroup {

class Janitor;

// Destroying the pointer hands the cgroup to the janitor.
struct Retire {
    std::weak_ptr<Janitor> janitor;
    void operator()(EnvironmentCgroup* cgroup) const;
};
using EnvironmentCgroupPtr = std::unique_ptr<EnvironmentCgroup, Retire>;

class EnvironmentCgroups {
public:
    // Creates `sofaas-PID` in each hierarchy of `layout`, first removing those of daemons
    // that are gone (and killing what they left in them). Returns why it cannot.
    static std::variant<std::shared_ptr<EnvironmentCgroups>, std::string> create(const Layout& layout);
    // Removes every environment cgroup still retiring (waiting a moment for their
    // processes to die), then its own directories.
    ~EnvironmentCgroups();
    EnvironmentCgroups(const EnvironmentCgroups&) = delete;
    EnvironmentCgroups& operator=(const EnvironmentCgroups&) = delete;

    Version version() const { return tree_.version; }
    // `sofaas-PID` (v1: in the memory hierarchy), for the log.
    std::string path() const { return tree_.memory.string(); }
    // cgroup v1: the freezer's `sofaas-PID`, whose cgroups someone must thaw if the daemon
    // dies (frozen v1 processes act on a SIGKILL only once thawed). Empty with v2, where
    // they die frozen.
    std::string thaw_on_exit() const { return tree_.version == Version::v1 ? tree_.freezer.string() : ""; }

    // A new environment's cgroup with `limits`: one made ahead if there is one. Thread-safe;
    // blocks.
    std::variant<EnvironmentCgroupPtr, std::string> create_environment(const Limits& limits);
    // Makes cgroups ahead for the next cold starts (two). Thread-safe; blocks: for a
    // spawner thread once a cold start is over (during one, the mkdirs would compete with
    // its worker for the CPU and with its entry into its cgroup for the kernel's lock).
    void make_spares();

private:
    EnvironmentCgroups(Layout tree, std::shared_ptr<Janitor> janitor);
    // A new cgroup without limits; `name` in each hierarchy.
    std::variant<std::unique_ptr<EnvironmentCgroup>, std::string> make(const std::string& name) const;

    const Layout tree_;  // the layout's directories, each with sofaas-PID appended
    std::shared_ptr<Janitor> janitor_;
    // Cgroups made ahead (the mkdirs and opens are most of a cgroup's cost, some 0.3 ms for
    // four v1 hierarchies): a cold start only writes its limits into one.
    std::mutex spares_mutex_;
    std::vector<std::unique_ptr<EnvironmentCgroup>> spares_;
};

}  // namespace sofaas::cgroup
