// posix_spawn for the daemon's own children (workers, the zygote), one way for all of
// them: from default signal dispositions and an empty mask (a SIG_IGN and the mask would
// survive exec), in a process group of its own (a terminal's Ctrl-C is for the daemon,
// which then takes its children down itself), registered with ChildProcesses so a sweep
// never takes it for a stranger.
#pragma once

#include <spawn.h>
#include <sys/types.h>

#include <string>
#include <vector>

namespace sofaas {

// The child's descriptors, set up by the caller; destroyed with this object.
class SpawnFileActions {
public:
    SpawnFileActions() { ::posix_spawn_file_actions_init(&actions_); }
    ~SpawnFileActions() { ::posix_spawn_file_actions_destroy(&actions_); }
    SpawnFileActions(const SpawnFileActions&) = delete;
    SpawnFileActions& operator=(const SpawnFileActions&) = delete;
    posix_spawn_file_actions_t* get() { return &actions_; }

private:
    posix_spawn_file_actions_t actions_;
};

struct SpawnedChild {
    pid_t pid = -1;
    int error = 0;  // posix_spawn's error number when there is no child
};
// Starts arguments[0] with `arguments` and exactly `environment` ("KEY=value").
SpawnedChild spawn_child(std::vector<std::string> arguments,
                                             std::vector<std::string> environment, SpawnFileActions& actions);

// "what: strerror(error)", the form every spawn failure is reported in.
std::string system_error(const std::string& what, int error);

}  // namespace sofaas
