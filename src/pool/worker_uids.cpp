#include "pool/worker_uids.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "pool/uid_leftovers.h"

namespace sofaas {

WorkerUids::WorkerUids(UidRange range, std::filesystem::path lock_directory, KillProcessesOf kill_processes_of)
    : range_(range),
      lock_directory_(std::move(lock_directory)),
      kill_processes_of_(kill_processes_of ? std::move(kill_processes_of) : KillProcessesOf(sofaas::kill_processes_of)),
      next_(range.first) {}

WorkerUids::~WorkerUids() {
    for (const auto& [uid, fd] : in_use_) unlock(uid, fd);
}

std::filesystem::path WorkerUids::lock_file(uid_t uid) const {
    return lock_directory_ / (std::to_string(uid) + ".lock");
}

// Open, then flock without waiting. A lock file is removed by the daemon that gives the
// uid back (unlock()), so the lock held may be on a file that no longer is the path's:
// only a lock on the file the path names counts.
WorkerUids::Lock WorkerUids::lock(uid_t uid, int& fd, std::string& error) const {
    const std::filesystem::path path = lock_file(uid);
    for (;;) {
        fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0 && errno == ENOENT) {
            std::error_code ec;
            std::filesystem::create_directories(lock_directory_, ec);
            if (!ec) continue;
        }
        if (fd < 0) {
            error = "cannot lock a worker uid: " + path.string() + ": " + std::strerror(errno);
            return Lock::failed;
        }
        if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
            const int flock_error = errno;
            ::close(fd);
            if (flock_error == EWOULDBLOCK) return Lock::taken;
            error = "cannot lock a worker uid: " + path.string() + ": " + std::strerror(flock_error);
            return Lock::failed;
        }
        struct stat locked {};
        struct stat named {};
        if (::fstat(fd, &locked) == 0 && ::stat(path.c_str(), &named) == 0 && locked.st_ino == named.st_ino &&
            locked.st_dev == named.st_dev)
            return Lock::held;
        ::close(fd);  // removed (and maybe created again) since it was opened: again
    }
}

// Removed while still locked: whoever opened it meanwhile finds it gone once it has the
// lock (see lock()), so no two daemons ever hold one uid.
void WorkerUids::unlock(uid_t uid, int fd) const {
    ::unlink(lock_file(uid).c_str());
    ::close(fd);
}

std::variant<uid_t, std::string> WorkerUids::lock_next() {
    const uint64_t size = static_cast<uint64_t>(range_.last) - range_.first + 1;
    for (uint64_t tried = 0; tried < size; ++tried) {
        const uid_t uid = next_;
        next_ = after(next_);
        if (in_use_.contains(uid)) continue;
        int fd = -1;
        std::string error;
        switch (lock(uid, fd, error)) {
        case Lock::held:
            in_use_.emplace(uid, fd);
            return uid;
        case Lock::taken: continue;  // another daemon's
        case Lock::failed: return error;
        }
    }
    return "every uid of the worker uid range " + std::to_string(range_.first) + "-" + std::to_string(range_.last) +
           " is in use (by this daemon's workers or another sofaasd's)";
}

std::variant<uid_t, std::string> WorkerUids::make_ready(uid_t uid) {
    if (auto error = kill_processes_of_(uid)) {
        release(uid);
        return std::move(*error);
    }
    return uid;
}

std::variant<uid_t, std::string> WorkerUids::acquire() {
    std::variant<uid_t, std::string> locked;
    {
        std::lock_guard guard(mutex_);
        if (prepared_) return std::exchange(prepared_, std::nullopt).value();
        locked = lock_next();
    }
    if (const uid_t* uid = std::get_if<uid_t>(&locked)) return make_ready(*uid);
    return locked;
}

void WorkerUids::prepare() {
    std::variant<uid_t, std::string> locked;
    {
        std::lock_guard guard(mutex_);
        if (prepared_ || preparing_) return;
        locked = lock_next();
        if (std::holds_alternative<std::string>(locked)) return;  // acquire() will say why
        preparing_ = true;
    }
    const auto ready = make_ready(std::get<uid_t>(locked));
    std::lock_guard guard(mutex_);
    preparing_ = false;
    if (const uid_t* uid = std::get_if<uid_t>(&ready)) prepared_ = *uid;
}

uid_t WorkerUids::after(uid_t uid) const {
    return uid == range_.last ? range_.first : uid + 1;
}

void WorkerUids::release(uid_t uid) {
    std::lock_guard guard(mutex_);
    const auto found = in_use_.find(uid);
    if (found == in_use_.end()) return;
    unlock(uid, found->second);
    in_use_.erase(found);
}

}  // namespace sofaas
