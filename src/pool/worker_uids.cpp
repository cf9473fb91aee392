#include "pool/worker_uids.h"

namespace sofaas {

WorkerUids::WorkerUids(UidRange range) : range_(range), next_(range.first) {}

std::optional<uid_t> WorkerUids::acquire() {
    std::lock_guard lock(mutex_);
    const uint64_t size = static_cast<uint64_t>(range_.last) - range_.first + 1;
    if (in_use_.size() >= size) return std::nullopt;
    while (in_use_.contains(next_)) next_ = next_ == range_.last ? range_.first : next_ + 1;
    const uid_t uid = next_;
    next_ = next_ == range_.last ? range_.first : next_ + 1;
    in_use_.insert(uid);
    return uid;
}

void WorkerUids::release(uid_t uid) {
    std::lock_guard lock(mutex_);
    in_use_.erase(uid);
}

}  // namespace sofaas
