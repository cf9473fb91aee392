#include "pool/worker_uids.h"

namespace sofaas {

WorkerUids::WorkerUids(UidRange range) : range_(range), next_(range.first) {}

std::optional<uid_t> WorkerUids::acquire() {
    std::lock_guard lock(mutex_);
    const uint64_t size = static_cast<uint64_t>(range_.last) - range_.first + 1;
    if (in_use_.size() >= size) return std::nullopt;
    while (in_use_.contains(next_)) next_ = after(next_);
    const uid_t uid = next_;
    next_ = after(next_);
    in_use_.insert(uid);
    return uid;
}

uid_t WorkerUids::after(uid_t uid) const {
    return uid == range_.last ? range_.first : uid + 1;
}

void WorkerUids::release(uid_t uid) {
    std::lock_guard lock(mutex_);
    in_use_.erase(uid);
}

}  // namespace sofaas
