// One execution environment's cgroup: every process the environment's worker starts is in
// it, so its limits and its accounting cover them all (threads, children, shared memory,
// page cache), and killing it leaves nothing behind, whatever left the process group.
// Created with its limits before the worker exists (EnvironmentCgroups), joined by the
// worker before any code of the function runs, frozen while the environment is idle,
// killed and removed when the environment is gone. v1 and v2 implement it.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cgroup/layout.h"
#include "common/unique_fd.h"

namespace sofaas::cgroup {

struct Limits {
    uint64_t memory_bytes = 0;  // everything its processes use; swap never adds to it
    uint32_t max_tasks = 1024;  // processes and threads together (Lambda's 1024)
};

struct Usage {
    uint64_t peak_memory_bytes = 0;  // the most it held at once, since it was created
    uint64_t cpu_ns = 0;             // CPU time of every process it ever held
    uint64_t oom_kills = 0;          // processes the kernel killed at the memory limit
    uint64_t tasks = 0;              // processes and threads in it now
};

// How a new worker enters the cgroup, before any code of the function runs.
struct Placement {
    // cgroup.procs files (one per v1 hierarchy) the worker writes "0" into: itself.
    std::vector<UniqueFd> procs_files;
    // v2: the cgroup's directory, to clone the worker straight into (CLONE_INTO_CGROUP),
    // which needs no procs file and no migration.
    UniqueFd directory;
};

class EnvironmentCgroup {
public:
    virtual ~EnvironmentCgroup() = default;

    virtual Version version() const = 0;
    // Writes the limits, before a worker enters. Returns why not.
    virtual std::optional<std::string> limit(const Limits& limits) = 0;
    // Opened anew for each call: one worker, one placement. Empty on error.
    virtual Placement placement() const = 0;

    // The four reads below (some 1.5 us each on a 2-core VM). nullopt when the kernel does
    // not answer one.
    std::optional<Usage> usage() const;
    // One read each of a file kept open: what every invocation needs, what it needs near
    // the limit, and whether anything but the worker runs.
    virtual std::optional<uint64_t> peak_memory_bytes() const = 0;
    virtual std::optional<uint64_t> cpu_ns() const = 0;
    virtual std::optional<uint64_t> oom_kills() const = 0;
    virtual std::optional<uint64_t> tasks() const = 0;

    // Stops every process in it, as Lambda stops an environment between events; thaw()
    // lets them run again. Neither waits for the kernel to finish. False when the kernel
    // refused.
    virtual bool freeze() = 0;
    virtual bool thaw() = 0;

    // Starts killing every process in it without blocking: v2 writes cgroup.kill. v1 has no
    // such file: it thaws the cgroup, so that a SIGKILL the caller sent its processes lands
    // even while frozen, and remove() kills the rest.
    virtual void kill() = 0;

    // Blocks: SIGKILLs every process still in it and removes its directories. False while
    // processes remain (they take a moment to die): call again later.
    virtual bool remove() = 0;

    // Its directory (v1: the memory hierarchy's), for messages.
    virtual std::string path() const = 0;
};

}  // namespace sofaas::cgroup
