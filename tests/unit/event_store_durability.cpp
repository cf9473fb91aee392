// What the event store promises about the disk: an event reported stored survives the
// process being killed, a full disk fails writes whole and the store writes again once
// there is room, and group commit carries a flood of events.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <iostream>
#include <set>
#include <thread>

#include "event_store_support.h"

using namespace sofaas;
using namespace sofaas::testing;
namespace fs = std::filesystem;

namespace {

// The child's side: enqueues events until it is killed, at most `in_flight` at a time, and
// writes each one's request id to `report` once its completion says it is stored.
[[noreturn]] void enqueue_until_killed(const fs::path& file, int report, int in_flight) {
    try {
        auto store = open_sqlite_event_store(file);
        std::atomic<int> completed{0};
        for (int i = 0;; ++i) {
            while (i - completed.load() >= in_flight) std::this_thread::sleep_for(std::chrono::microseconds(200));
            store->enqueue(event("f", "r" + std::to_string(i)), UINT64_MAX, [&, report](EnqueueResult result) {
                if (result.outcome == EnqueueOutcome::queued) {
                    std::string line = result.request_id + "\n";
                    if (::write(report, line.data(), line.size()) != static_cast<ssize_t>(line.size())) ::_exit(3);
                }
                completed.fetch_add(1);
            });
        }
    } catch (...) {
        ::_exit(2);
    }
}

// Unmounts the tmpfs at `path` (lazily: nothing may keep it busy) before its directory goes.
class Tmpfs {
public:
    explicit Tmpfs(fs::path path) : path_(std::move(path)) {}
    bool mount(const char* size) {
        fs::create_directories(path_);
        mounted_ = ::mount("tmpfs", path_.c_str(), "tmpfs", 0, (std::string("mode=0700,size=") + size).c_str()) == 0;
        return mounted_;
    }
    ~Tmpfs() {
        if (mounted_) ::umount2(path_.c_str(), MNT_DETACH);
    }

private:
    fs::path path_;
    bool mounted_ = false;
};

// Writes zeros to `file` until the filesystem has no room left.
void fill_up(const fs::path& file) {
    int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
    ASSERT_GE(fd, 0) << std::strerror(errno);
    std::string block(64 * 1024, '\0');
    for (size_t size = block.size(); size > 0; size /= 2) {
        while (::write(fd, block.data(), size) == static_cast<ssize_t>(size)) {
        }
    }
    ::close(fd);
}

}  // namespace

TEST(EventStoreDurability, EveryEventReportedStoredSurvivesASigkill) {
    TempDir temp{"sofaas-events-kill"};
    const fs::path file = temp / "events.db";
    int pipe_fds[2];
    ASSERT_EQ(::pipe2(pipe_fds, O_CLOEXEC), 0);
    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
        ::close(pipe_fds[0]);
        enqueue_until_killed(file, pipe_fds[1], 500);
    }
    ::close(pipe_fds[1]);

    // Kill it mid-stream, then read what it had reported before it died.
    std::string reported_text;
    char buffer[4096];
    size_t lines = 0;
    bool killed = false;
    for (;;) {
        // A child that reports nothing for long is stuck: killed all the same, and failed.
        pollfd readable{pipe_fds[0], POLLIN, 0};
        if (::poll(&readable, 1, 30'000) == 0) {
            ADD_FAILURE() << "the child reported nothing for 30 s";
            ::kill(child, SIGKILL);
            killed = true;
        }
        ssize_t n = ::read(pipe_fds[0], buffer, sizeof buffer);
        if (n <= 0) break;
        reported_text.append(buffer, static_cast<size_t>(n));
        lines += static_cast<size_t>(std::count(buffer, buffer + n, '\n'));
        if (!killed && lines >= 5000) {
            ::kill(child, SIGKILL);
            killed = true;
        }
    }
    ::close(pipe_fds[0]);
    int status = 0;
    ASSERT_EQ(::waitpid(child, &status, 0), child);
    ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << "the child ended on its own: " << status;

    std::set<std::string> reported;
    for (size_t start = 0, end; (end = reported_text.find('\n', start)) != std::string::npos; start = end + 1) {
        reported.insert(reported_text.substr(start, end - start));
    }
    auto store = open_sqlite_event_store(file);
    std::set<std::string> stored;
    for (const auto& queued : store->claim("f", "checker", t0, t0 + 1, 10'000'000)) {
        stored.insert(queued.event.request_id);
    }
    size_t missing = 0;
    for (const auto& id : reported) missing += stored.count(id) == 0;
    EXPECT_EQ(missing, 0u) << "of " << reported.size() << " reported stored";
    EXPECT_GE(stored.size(), reported.size());
    std::cout << reported.size() << " events reported stored before the kill, " << stored.size() << " found\n";
}

TEST(EventStoreDurability, AFullDiskFailsWritesWholeAndTheStoreRecovers) {
    TempDir temp{"sofaas-events-full"};
    Tmpfs disk(temp / "disk");
    if (::geteuid() != 0 || !disk.mount("2m")) {
        GTEST_SKIP() << "cannot mount a small tmpfs here: " << std::strerror(errno);
    }
    const fs::path file = temp / "disk" / "events.db";
    auto store = open_sqlite_event_store(file);
    ASSERT_EQ(enqueue(*store, event("f", "before"), 2).outcome, EnqueueOutcome::queued);

    fill_up(temp / "disk" / "filler");
    NewEvent big = event("f", "big");
    big.payload = std::string(256 * 1024, 'x');
    auto refused = enqueue(*store, big, 2);
    EXPECT_EQ(refused.outcome, EnqueueOutcome::failed);
    EXPECT_NE(refused.error.find("full"), std::string::npos) << refused.error;
    EXPECT_EQ(refused.request_id, "big");
    EXPECT_EQ(depth_of(*store, "f"), 1u);

    fs::remove(temp / "disk" / "filler");
    EXPECT_EQ(enqueue(*store, big, 2).outcome, EnqueueOutcome::queued);
    // The failed write was not counted: the limit of 2 is reached only now.
    EXPECT_EQ(enqueue(*store, event("f", "after"), 2).outcome, EnqueueOutcome::full);

    store.reset();
    store = open_sqlite_event_store(file);
    auto claimed = store->claim("f", "node-a", t0, t0 + 1, 10);
    EXPECT_EQ(request_ids(claimed), (std::vector<std::string>{"before", "big"}));
    ASSERT_EQ(claimed.size(), 2u);
    EXPECT_EQ(claimed[1].event.payload, big.payload);
}

TEST(EventStoreCapacity, GroupCommitCarriesTwoHundredThousandEvents) {
    TempDir temp{"sofaas-events-capacity"};
    auto store = open_sqlite_event_store(temp / "events.db");
    constexpr size_t count = 200'000;
    std::vector<NewEvent> events;
    events.reserve(count);
    for (size_t i = 0; i < count; ++i) {
        events.push_back(event(i % 2 ? "odd" : "even", "req-" + std::to_string(i)));
    }

    const auto start = std::chrono::steady_clock::now();
    auto results = enqueue_all(*store, std::move(events));
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

    size_t queued = 0;
    for (const auto& result : results) queued += result.outcome == EnqueueOutcome::queued;
    EXPECT_EQ(queued, count);
    EXPECT_EQ(depth_of(*store, "odd"), count / 2);
    EXPECT_EQ(depth_of(*store, "even"), count / 2);
    std::cout << count << " events enqueued in " << seconds << " s: " << static_cast<uint64_t>(count / seconds)
              << " events/s\n";
}

TEST(EventStoreCapacity, DroppingAQueueDoesNotHoldItsPagesInMemory) {
    TempDir temp{"sofaas-events-drop"};
    auto store = open_sqlite_event_store(temp / "events.db");
    constexpr size_t count = 200'000;
    std::vector<NewEvent> events;
    events.reserve(count);
    for (size_t i = 0; i < count; ++i) events.push_back(event("f", "req-" + std::to_string(i)));
    enqueue_all(*store, std::move(events));
    const auto on_disk =
        static_cast<sqlite3_int64>(fs::file_size(temp / "events.db") + fs::file_size(temp / "events.db-wal"));

    const sqlite3_int64 before = sqlite3_memory_used();
    sqlite3_memory_highwater(1);
    EXPECT_EQ(store->remove_function("f"), count);
    const sqlite3_int64 grew = sqlite3_memory_highwater(0) - before;

    // The page caches (2 MiB each by default) may fill; the pages the delete changed must
    // not all be copied into memory as well.
    EXPECT_LT(grew, on_disk / 4) << "SQLite's memory grew by " << grew << " bytes, the file has " << on_disk;
}
