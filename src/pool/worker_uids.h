// Users of their own for workers. Workers that share one user can signal each other
// (kill(-1) reaches all of them) and share one RLIMIT_NPROC, so one function's fork bomb
// stops fork in every other function. Under a root daemon each live worker gets a uid no
// other live worker has, from a range reserved for sofaas (no user database entry needed).
#pragma once

#include <sys/types.h>

#include <mutex>
#include <optional>
#include <unordered_set>

#include "common/uid_range.h"

namespace sofaas {

class WorkerUids {
public:
    explicit WorkerUids(UidRange range);

    // Thread-safe. A uid no live worker has; nullopt when every uid of the range is in use.
    // Uids are handed out round robin, so one that comes back is taken again only after
    // the rest of the range: what its worker left behind (being swept by then) never meets
    // a new worker under the same uid.
    std::optional<uid_t> acquire();
    // The worker of `uid` is gone.
    void release(uid_t uid);

private:
    uid_t after(uid_t uid) const;  // the next uid of the range, round robin

    const UidRange range_;
    std::mutex mutex_;
    uid_t next_;
    std::unordered_set<uid_t> in_use_;
};

}  // namespace sofaas
