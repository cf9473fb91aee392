#include "pool/child_spawn.h"

#include <signal.h>

#include <cstring>

#include "pool/child_processes.h"

namespace sofaas {
namespace {

std::vector<char*> as_argv(std::vector<std::string>& strings) {
    std::vector<char*> pointers;
    for (std::string& s : strings) pointers.push_back(s.data());
    pointers.push_back(nullptr);
    return pointers;
}

class SpawnAttributes {
public:
    SpawnAttributes() { ::posix_spawnattr_init(&attributes_); }
    ~SpawnAttributes() { ::posix_spawnattr_destroy(&attributes_); }
    SpawnAttributes(const SpawnAttributes&) = delete;
    SpawnAttributes& operator=(const SpawnAttributes&) = delete;
    posix_spawnattr_t* get() { return &attributes_; }

private:
    posix_spawnattr_t attributes_;
};

}  // namespace

std::string system_error(const std::string& what, int error) {
    return what + ": " + std::strerror(error);
}

SpawnedChild spawn_child(std::vector<std::string> arguments,
                                             std::vector<std::string> environment, SpawnFileActions& actions) {
    SpawnAttributes attributes;
    sigset_t all_signals;
    sigset_t no_signals;
    ::sigfillset(&all_signals);
    ::sigemptyset(&no_signals);
    ::posix_spawnattr_setsigdefault(attributes.get(), &all_signals);
    ::posix_spawnattr_setsigmask(attributes.get(), &no_signals);
    ::posix_spawnattr_setpgroup(attributes.get(), 0);
    ::posix_spawnattr_setflags(attributes.get(),
                               POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETPGROUP);

    std::vector<char*> argv = as_argv(arguments);
    std::vector<char*> envp = as_argv(environment);
    pid_t pid = -1;
    ChildProcesses::Birth birth = ChildProcesses::of_this_process().expect_birth();
    const int error = ::posix_spawn(&pid, argv.front(), actions.get(), attributes.get(), argv.data(), envp.data());
    if (error != 0) return {-1, error};
    birth.born(pid);
    return {pid, 0};
}

}  // namespace sofaas
