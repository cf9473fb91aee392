// Users of their own for workers. Workers that share one user can signal each other
// (kill(-1) reaches all of them) and share one RLIMIT_NPROC, so one function's fork bomb
// stops fork in every other function. Under a root daemon each live worker gets a uid no
// other live worker has, from a range reserved for sofaas (no user database entry needed).
//
// What makes a uid a worker's alone, across restarts and across daemons on one host:
//   - a daemon hands a uid out only while it holds an exclusive flock on
//     LOCK_DIRECTORY/UID.lock (/run/sofaas/uids by default), from before the worker starts
//     until the worker is gone and its leftovers swept. Another daemon skips a locked
//     uid; the kernel releases the lock when the daemon dies, however it dies;
//   - after it took the lock and before it hands the uid out, the daemon kills whatever
//     still runs as it (uid_leftovers.h): what a worker of an older sofaasd left behind,
//     say. (Processes inside an environment's pid namespace die with its init, and
//     cannot signal outside it anyway.)
// The killing costs a system call over every process of the host, so one uid is made
// ready ahead of the next cold start (prepare()).
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <variant>

#include "common/uid_range.h"

namespace sofaas {

inline const std::filesystem::path default_uid_lock_directory = "/run/sofaas/uids";

class WorkerUids {
public:
    // Ends every process of a uid; returns why it could not (uid_leftovers.h by default).
    using KillProcessesOf = std::function<std::optional<std::string>(uid_t)>;

    // `lock_directory` is shared by every sofaasd of the host (created if missing).
    explicit WorkerUids(UidRange range, std::filesystem::path lock_directory = default_uid_lock_directory,
                        KillProcessesOf kill_processes_of = nullptr);
    ~WorkerUids();  // gives every uid back
    WorkerUids(const WorkerUids&) = delete;
    WorkerUids& operator=(const WorkerUids&) = delete;

    // Thread-safe. A uid no live worker of this daemon has and no other daemon holds,
    // locked until release(), with nothing running as it; or why there is none. The one
    // prepare() made ready if there is one. Uids are handed out round robin, so one that
    // comes back is taken again only after the rest of the range.
    std::variant<uid_t, std::string> acquire();
    // Thread-safe. Makes the next uid ready, unless one is, so that acquire() need not:
    // call it off the path of a cold start.
    void prepare();
    // The worker of `uid` is gone.
    void release(uid_t uid);

private:
    enum class Lock { held, taken, failed };
    std::variant<uid_t, std::string> lock_next();  // mutex_ held
    Lock lock(uid_t uid, int& fd, std::string& error) const;
    void unlock(uid_t uid, int fd) const;
    std::variant<uid_t, std::string> make_ready(uid_t uid);  // without mutex_: it waits
    std::filesystem::path lock_file(uid_t uid) const;
    uid_t after(uid_t uid) const;  // the next uid of the range, round robin

    const UidRange range_;
    const std::filesystem::path lock_directory_;
    const KillProcessesOf kill_processes_of_;
    std::mutex mutex_;
    uid_t next_;
    std::unordered_map<uid_t, int> in_use_;  // uid -> the descriptor holding its lock
    std::optional<uid_t> prepared_;          // locked, nothing runs as it, handed to no one
    bool preparing_ = false;
};

}  // namespace sofaas
