// What /proc says about processes: how the fault tests find sofaasd's pid, count its open
// descriptors and memory, and look for zombie or orphaned workers.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sofaas::testing {

struct ProcessStatus {
    pid_t pid = 0;
    pid_t ppid = 0;
    char state = '?';  // R, S, D, Z, ...
    std::string comm;  // the name in /proc/PID/stat, at most 15 characters
    std::string cmdline;  // arguments joined by spaces
};

// Every process readable in /proc (those that vanish while being read are left out).
std::vector<ProcessStatus> all_processes();
std::optional<ProcessStatus> process_status(pid_t pid);
// Alive: there, and not a zombie.
bool is_running(pid_t pid);

// The first process named `comm` whose command line contains `needle`.
std::optional<pid_t> find_process(std::string_view comm, std::string_view needle);

size_t open_descriptor_count(pid_t pid);  // entries of /proc/PID/fd
// "N -> target" for each open descriptor, one a line: what a failed leak check shows.
std::string describe_descriptors(pid_t pid);
long resident_kb(pid_t pid);              // VmRSS from /proc/PID/status, -1 if unknown
// How often the process's main thread has gone to sleep (voluntary_ctxt_switches in
// /proc/PID/status), -1 if unknown.
long voluntary_switches(pid_t pid);
long process_uid(pid_t pid);              // real uid (the first of Uid: in /proc/PID/status), -1 if unknown

// Pid namespaces, as this process sees them. An execution environment of a root sofaasd
// has one of its own, whose pids (what a function sees from getpid() and fork()) are not
// the ones /proc shows here.
// The pid namespace of `pid` ("pid:[INODE]"), empty if it cannot be read.
std::string pid_namespace(pid_t pid);
// Every process in the pid namespace of `member`, by the pids this process sees.
std::vector<pid_t> pid_namespace_members(pid_t member);
// The process that is `inner` in the pid namespace of `member`, by the pid this process
// sees (`inner` itself when that namespace is this process's own).
std::optional<pid_t> host_pid(pid_t member, pid_t inner);

}  // namespace sofaas::testing
