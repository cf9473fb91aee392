// The ledger's filesystem fills up or turns read-only under load: every 200 a client got
// has exactly one record, every other answer is 503 with Retry-After, /healthz says why,
// and when the disk is back the daemon answers 200 again by itself within about a second.
// Needs root (it mounts a small tmpfs as the data directory); skipped otherwise.

#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <sstream>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "billing/billing_record.h"
#include "billing/segment.h"
#include "support/daemon_process.h"
#include "support/eventually.h"

namespace sofaas::testing {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

struct Answer {
    int status = 0;
    std::string request_id;
    std::string retry_after;
};

// Clients calling /fn/hello in a loop, each answer kept.
class Load {
public:
    Load(const DaemonProcess& daemon, int clients) {
        for (int i = 0; i < clients; ++i) {
            threads_.emplace_back([this, client = daemon.http("")]() mutable {
                while (!stop_) {
                    Answer answer;
                    try {
                        HttpResponse response = client.request("GET", "/fn/hello?name=x");
                        answer = {response.status, response.header("X-Sofaas-Request-Id"), response.header("Retry-After")};
                    } catch (const HttpClientError&) {
                        continue;
                    }
                    std::lock_guard lock(mutex_);
                    answers_.push_back(std::move(answer));
                }
            });
        }
    }
    ~Load() { stop(); }
    void stop() {
        stop_ = true;
        for (auto& thread : threads_)
            if (thread.joinable()) thread.join();
    }
    // The status of the last answer after `since` answers.
    size_t count() {
        std::lock_guard lock(mutex_);
        return answers_.size();
    }
    bool answered_since(size_t since, int status) {
        std::lock_guard lock(mutex_);
        for (size_t i = since; i < answers_.size(); ++i)
            if (answers_[i].status == status) return true;
        return false;
    }
    std::vector<Answer> answers() {
        std::lock_guard lock(mutex_);
        return answers_;
    }

private:
    std::mutex mutex_;
    std::vector<Answer> answers_;
    std::atomic<bool> stop_{false};
    std::vector<std::thread> threads_;
};

// Every record line of the billing files, read raw: a record the query would count once
// but that is on disk twice shows here.
// Every record in the files, as they are on disk (open and sealed segments), not as the
// daemon's queries show them: a record written twice is here twice.
std::vector<json> raw_records(const std::vector<fs::path>& billing_dirs) {
    std::vector<json> records;
    for (const auto& dir : billing_dirs) {
        for (const SegmentFile& segment : list_segments(dir)) {
            size_t skipped = 0;
            read_segment(segment, {}, [&](InvocationReport&& record) {
                records.push_back(json::parse(record_to_json(record)));
            }, skipped);
        }
    }
    return records;
}

json health(const DaemonProcess& daemon) {
    HttpResponse response = daemon.http("").request("GET", "/healthz");
    json body = json::parse(response.body, nullptr, false);
    body["http_status"] = response.status;
    return body;
}

// Writes to `fd` until the filesystem is full, or `left` bytes are written.
void write_until_full(int fd, uint64_t left = UINT64_MAX) {
    std::vector<char> chunk(64 * 1024, 'x');
    while (left > 0) {
        const ssize_t n = ::write(fd, chunk.data(), static_cast<size_t>(std::min<uint64_t>(chunk.size(), left)));
        if (n <= 0) break;
        left -= static_cast<uint64_t>(n);
    }
}

// Fills the filesystem of `file` up to `keep_free_bytes` free.
void fill(const fs::path& file, uint64_t keep_free_bytes) {
    struct statvfs stats {};
    ASSERT_EQ(::statvfs(file.parent_path().c_str(), &stats), 0);
    const uint64_t free_bytes = static_cast<uint64_t>(stats.f_bavail) * stats.f_frsize;
    int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    ASSERT_GE(fd, 0) << std::strerror(errno);
    write_until_full(fd, free_bytes - std::min(free_bytes, keep_free_bytes));
    ::close(fd);
}

// Keeps the filesystem of `file` full until destroyed, then frees it. Filling it once is
// not enough: a writer of the daemon whose write(2) was cut short by the full disk gives
// back the pages it did get when it truncates its file to the last whole line, and a
// disk with room again is not the fault under test.
class FullDisk {
public:
    explicit FullDisk(fs::path file) : file_(std::move(file)) {
        fd_ = ::open(file_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        EXPECT_GE(fd_, 0) << std::strerror(errno);
        write_until_full(fd_);
        keeper_ = std::thread([this] {
            while (!stop_) {
                write_until_full(fd_);
                std::this_thread::sleep_for(1ms);
            }
        });
    }
    ~FullDisk() {
        stop_ = true;
        keeper_.join();
        ::close(fd_);
        fs::remove(file_);
    }

private:
    fs::path file_;
    int fd_ = -1;
    std::atomic<bool> stop_{false};
    std::thread keeper_;
};

class DiskFaults : public ::testing::Test {
protected:
    void start(json config, const char* mount_options = "size=8m,mode=0755") {
        if (::geteuid() != 0) GTEST_SKIP() << "needs root: it mounts a small tmpfs as the daemon's data directory";
        daemon_ = std::make_unique<DaemonProcess>(std::move(config));
        fs::create_directories(daemon_->data_dir());
        if (::mount("tmpfs", daemon_->data_dir().c_str(), "tmpfs", 0, mount_options) != 0) {
            GTEST_SKIP() << "cannot mount a tmpfs on " << daemon_->data_dir() << ": " << std::strerror(errno);
        }
        mounts_.push_back(daemon_->data_dir());
        daemon_->start();
        ASSERT_EQ(daemon_->deploy("hello", function_library("hello")).exit_code, 0);
        ASSERT_EQ(daemon_->http("").request("GET", "/fn/hello").status, 200);
    }
    void TearDown() override {
        daemon_.reset();  // killed: nothing holds the mounts any more
        for (auto it = mounts_.rbegin(); it != mounts_.rend(); ++it) ::umount2(it->c_str(), MNT_DETACH);
    }

    // Every 200 has exactly one record on disk; every other answer is a 503 with
    // Retry-After whose request has no record (refused before it ran) or one at no charge
    // (it ran, its record could not be written then).
    void expect_every_answer_accounted_for(const std::vector<Answer>& answers,
                                           const std::vector<fs::path>& billing_dirs) {
        std::map<std::string, std::vector<json>> by_request;
        for (json& record : raw_records(billing_dirs)) by_request[record["request_id"]].push_back(std::move(record));
        size_t ok = 0, unavailable = 0, recorded_unavailable = 0;
        for (const Answer& answer : answers) {
            const auto& records = by_request[answer.request_id];
            if (answer.status == 200) {
                ++ok;
                ASSERT_EQ(records.size(), 1u) << "200 " << answer.request_id;
                EXPECT_EQ(records[0]["status"], "ok");
                continue;
            }
            ++unavailable;
            ASSERT_EQ(answer.status, 503) << answer.request_id;
            EXPECT_EQ(answer.retry_after, "1");
            ASSERT_LE(records.size(), 1u) << answer.request_id;
            if (!records.empty()) {
                ++recorded_unavailable;
                EXPECT_EQ(records[0]["status"], "host_fault");
                EXPECT_EQ(records[0]["cost_pico_usd"], 0);
                EXPECT_EQ(records[0]["billed_ms"], 0);
            }
        }
        EXPECT_GT(ok, 0u);
        EXPECT_GT(unavailable, 0u);
        std::printf("answers: %zu 200, %zu 503 (%zu of them ran and were recorded at no charge)\n", ok, unavailable,
                    recorded_unavailable);
    }

    // From the fault's end to the first 200 and to /healthz ok.
    void expect_recovery_within_a_second(Load& load) {
        const auto freed = std::chrono::steady_clock::now();
        const size_t before = load.count();
        ASSERT_TRUE(eventually([&] { return load.answered_since(before, 200); }, 3s));
        const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - freed);
        std::printf("first 200 %lld ms after the disk was back\n", static_cast<long long>(ms.count()));
        EXPECT_LT(ms, 1500ms);  // within about a second, with room for a busy machine
        EXPECT_EQ(health(*daemon_)["status"], "ok");
    }

    std::unique_ptr<DaemonProcess> daemon_;
    std::vector<fs::path> mounts_;
};

TEST_F(DiskFaults, AFullDiskAnswers503UntilSpaceIsBackAndNo200LacksItsRecord) {
    start({{"ledger_reserve_mb", 0}});
    if (IsSkipped()) return;
    Load load(*daemon_, 4);
    std::this_thread::sleep_for(200ms);
    auto full = std::make_unique<FullDisk>(daemon_->data_dir() / "filler");
    ASSERT_TRUE(eventually([&] { return health(*daemon_)["status"] == "degraded"; }, 5s)) << daemon_->log();
    const json degraded = health(*daemon_);
    EXPECT_EQ(degraded["http_status"], 503);
    EXPECT_EQ(degraded["reason"], "billing ledger cannot be written: no space left on device");
    const size_t during = load.count();
    ASSERT_TRUE(eventually([&] { return load.count() > during + 20; }, 5s));
    EXPECT_FALSE(load.answered_since(during + 10, 200));  // refused, once the state is known

    full.reset();
    expect_recovery_within_a_second(load);
    std::this_thread::sleep_for(100ms);
    load.stop();
    expect_every_answer_accounted_for(load.answers(), {daemon_->data_dir() / "billing"});
}

TEST_F(DiskFaults, BelowTheReserveInvocationsAreRefusedBeforeAnyWriteFails) {
    // Room for the records and logs of the calls before the reserve is seen (some 650 bytes
    // each at 20k calls/s), so that removing the filler lifts it back over the reserve.
    start({{"ledger_reserve_mb", 4}}, "size=32m,mode=0755");
    if (IsSkipped()) return;
    Load load(*daemon_, 4);
    std::this_thread::sleep_for(200ms);
    const fs::path filler = daemon_->data_dir() / "filler";
    fill(filler, 2 << 20);  // 2 MiB left: below the reserve, room for every record
    ASSERT_TRUE(eventually([&] { return health(*daemon_)["status"] == "degraded"; }, 5s)) << daemon_->log();
    EXPECT_EQ(health(*daemon_)["reason"], "less than 4 MiB free on the ledger's filesystem");
    const size_t during = load.count();
    ASSERT_TRUE(eventually([&] { return load.count() > during + 20; }, 5s));
    // A deploy's trial load is an init to bill: refused too, before it runs.
    const ProcessResult deploy = daemon_->deploy("later", function_library("hello"));
    EXPECT_NE(deploy.exit_code, 0);
    EXPECT_NE(deploy.err.find("ServiceUnavailableException"), std::string::npos) << deploy.err;

    fs::remove(filler);
    expect_recovery_within_a_second(load);
    load.stop();
    const std::vector<Answer> answers = load.answers();
    expect_every_answer_accounted_for(answers, {daemon_->data_dir() / "billing"});
    for (const json& record : raw_records({daemon_->data_dir() / "billing"}))
        EXPECT_NE(record["status"], "host_fault") << "no write failed: " << record.dump();
}

// Linux refuses `mount -o remount,ro` while sofaasd holds the ledger open for writing
// (EBUSY); what the daemon meets instead is a read-only filesystem at the ledger's path
// (here mounted over it), then made writable again with a remount.
TEST_F(DiskFaults, AReadOnlyLedgerDirectoryAnswers503UntilItIsWritableAgain) {
    start({{"ledger_reserve_mb", 0}});
    if (IsSkipped()) return;
    const fs::path billing = daemon_->data_dir() / "billing";
    // The records written before the read-only mount stay in the directory it hides.
    const int hidden = ::open(billing.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    ASSERT_GE(hidden, 0);
    Load load(*daemon_, 4);
    std::this_thread::sleep_for(200ms);
    ASSERT_EQ(::mount("tmpfs", billing.c_str(), "tmpfs", MS_RDONLY, "size=2m,mode=0755"), 0) << std::strerror(errno);
    mounts_.push_back(billing);
    ASSERT_TRUE(eventually([&] { return health(*daemon_)["status"] == "degraded"; }, 5s)) << daemon_->log();
    EXPECT_EQ(health(*daemon_)["reason"], "billing ledger cannot be written: read-only file system");
    const size_t during = load.count();
    ASSERT_TRUE(eventually([&] { return load.count() > during + 20; }, 5s));

    ASSERT_EQ(::mount(nullptr, billing.c_str(), nullptr, MS_REMOUNT, "size=2m,mode=0755"), 0) << std::strerror(errno);
    expect_recovery_within_a_second(load);
    load.stop();
    expect_every_answer_accounted_for(load.answers(), {billing, fs::path("/proc/self/fd") / std::to_string(hidden)});
    ::close(hidden);
}

}  // namespace
}  // namespace sofaas::testing
