// The ledger at production volume (docs/BENCHMARKS.md, "The ledger at volume"): writes a
// synthetic ledger in the real format (hourly segments of real records, sealed by the real
// compressor), then measures what bench/ledger_volume.sh prints: bytes per record open and
// sealed, the rollups' rebuild after a crash and from nothing, summary latency over random
// ranges, one function's records of one hour, and this process's memory.
//
//   ledger-volume DIR [--records N] [--days D] [--functions F] [--level L] [--queries Q]
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "billing/billing_record.h"
#include "billing/ledger.h"
#include "billing/rollups.h"
#include "billing/segment.h"
#include "common/config.h"
#include "common/file_io.h"
#include "common/request_id.h"

namespace fs = std::filesystem;
using namespace sofaas;
using Clock = std::chrono::steady_clock;

namespace {

struct Options {
    fs::path dir;
    uint64_t records = 100'000'000;
    uint32_t days = 30;
    uint32_t functions = 1000;
    int level = 9;
    uint32_t queries = 200;
};

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

long rss_kib() {
    std::ifstream status("/proc/self/status");
    for (std::string line; std::getline(status, line);) {
        if (line.rfind("VmRSS:", 0) == 0) return std::strtol(line.c_str() + 6, nullptr, 10);
    }
    return -1;
}

long peak_rss_kib() {
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    return usage.ru_maxrss;
}

double quantile(std::vector<double> values, double q) {
    if (values.empty()) return 0;
    std::sort(values.begin(), values.end());
    return values[std::min(values.size() - 1, static_cast<size_t>(q * static_cast<double>(values.size())))];
}

std::string function_name(uint32_t id) {
    char name[16];
    std::snprintf(name, sizeof name, "fn-%04u", id);
    return name;
}

// One hour of records as a real open segment, then sealed by the real compressor.
struct HourResult {
    uint64_t open_bytes = 0;
    uint64_t sealed_bytes = 0;
};

HourResult write_hour(const Options& options, WallTime hour, uint64_t count, uint32_t seed) {
    std::mt19937_64 random(seed);
    const Prices prices;
    std::vector<int64_t> offsets(count);
    for (auto& offset : offsets) offset = static_cast<int64_t>(random() % 3'600'000'000ull);
    std::sort(offsets.begin(), offsets.end());  // appended about in start order, as records are
    std::string text(ledger_line_header);
    text.reserve(count * 110 + 256);
    static const char* keys[] = {"AKIA7Q3EXAMPLE2FUNCS", "AKIAQ9TESTINGKEY0002", "ASIA5SESSIONKEY00003"};
    for (uint64_t i = 0; i < count; ++i) {
        InvocationReport r;
        r.request_id = new_request_id();
        const uint32_t function = static_cast<uint32_t>(random() % options.functions);
        r.function = function_name(function);
        r.version = 1 + static_cast<uint32_t>(random() % 3);
        const uint64_t roll = random() % 1000;
        r.trigger = roll < 600 ? Trigger::http : roll < 900 ? Trigger::invoke : roll < 980 ? Trigger::async : Trigger::schedule;
        if (r.trigger == Trigger::async || r.trigger == Trigger::schedule) r.attempt = 1 + (random() % 50 == 0);
        r.start = hour + std::chrono::microseconds(offsets[i]);
        // Durations: most a few ms, some long; 1% cold starts.
        r.duration_ms = static_cast<double>(std::exponential_distribution<double>(1.0 / 20.0)(random) * 1000.0 / 1000.0);
        r.duration_ms = std::round(r.duration_ms * 1000.0) / 1000.0;
        if (random() % 100 == 0) r.init_ms = std::round(std::uniform_real_distribution<double>(5, 300)(random) * 1000) / 1000;
        r.memory_mb = 128u << (function % 4);
        r.max_memory_used_mb = 3 + static_cast<uint32_t>(random() % 60);
        const uint64_t status = random() % 1000;
        r.status = status < 970 ? InvocationStatus::ok : status < 990 ? InvocationStatus::error
                 : status < 997 ? InvocationStatus::timeout : InvocationStatus::crash;
        if (r.trigger == Trigger::invoke) r.principal.key_id = keys[function % 3];
        bill(r, prices);
        append_ledger_line(text, r);
    }
    const std::string name = segment_name(hour, 0);
    SegmentFile segment;
    segment.path = options.dir / (name + ".tsv");
    segment.name = name;
    segment.kind = SegmentKind::open;
    segment.begins = hour;
    segment.ends = hour + std::chrono::hours(1);
    write_file_synced(segment.path, text);
    const CompressedSegment sealed = compress_segment(segment, options.level);
    fs::remove(segment.path);
    return {text.size(), sealed.bytes_out};
}

// Hands the ledger's records and segments to the rollups, and counts the segments.
class RollupFeed : public LedgerObserver {
public:
    explicit RollupFeed(Rollups& rollups) : rollups_(rollups) {}
    void on_record(const InvocationReport& record, std::string_view segment) override { rollups_.add(record, segment); }
    void on_sealed(std::string_view segment, const Replay& replay) override {
        rollups_.seal(segment, replay);
        ++handed;
    }
    std::atomic<uint64_t> handed{0};

private:
    Rollups& rollups_;
};

// Opens the ledger with its rollups and waits until every sealed segment was handed over.
double open_and_rebuild(const Options& options, size_t segments) {
    const auto start = Clock::now();
    Rollups rollups(options.dir / "rollups.db");
    RollupFeed feed(rollups);
    LedgerOptions ledger_options;
    ledger_options.fsync_interval = std::chrono::milliseconds(0);
    ledger_options.reserve_bytes = 0;
    ledger_options.observer = &feed;
    Ledger ledger(options.dir, ledger_options);
    while (feed.handed < segments) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    return seconds_since(start);
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: ledger-volume DIR [--records N] [--days D] [--functions F] [--level L] [--queries Q]\n");
        return 2;
    }
    Options options;
    options.dir = argv[1];
    for (int i = 2; i + 1 < argc; i += 2) {
        const std::string flag = argv[i];
        const uint64_t value = std::strtoull(argv[i + 1], nullptr, 10);
        if (flag == "--records") options.records = value;
        else if (flag == "--days") options.days = static_cast<uint32_t>(value);
        else if (flag == "--functions") options.functions = static_cast<uint32_t>(value);
        else if (flag == "--level") options.level = static_cast<int>(value);
        else if (flag == "--queries") options.queries = static_cast<uint32_t>(value);
        else {
            std::fprintf(stderr, "unknown option %s\n", flag.c_str());
            return 2;
        }
    }
    fs::create_directories(options.dir);
    const uint32_t hours = options.days * 24;
    // The 30 days that ended at the last whole hour.
    const WallTime end = std::chrono::floor<std::chrono::hours>(wall_now());
    const WallTime first = end - std::chrono::hours(hours);

    // 1. The ledger: every hour a segment, sealed, on both cores.
    auto start = Clock::now();
    std::atomic<uint32_t> next_hour{0};
    std::atomic<uint64_t> open_bytes{0}, sealed_bytes{0};
    std::vector<std::thread> writers;
    for (int t = 0; t < 2; ++t) {
        writers.emplace_back([&] {
            for (uint32_t h; (h = next_hour++) < hours;) {
                const uint64_t count = options.records / hours + (h < options.records % hours ? 1 : 0);
                const HourResult result = write_hour(options, first + std::chrono::hours(h), count, 1000 + h);
                open_bytes += result.open_bytes;
                sealed_bytes += result.sealed_bytes;
            }
        });
    }
    for (auto& writer : writers) writer.join();
    const double write_s = seconds_since(start);
    std::printf("records               %llu over %u days, %u functions (zstd level %d)\n",
                static_cast<unsigned long long>(options.records), options.days, options.functions, options.level);
    std::printf("written and sealed in %.1f s\n", write_s);
    std::printf("bytes/record open     %.1f\n", static_cast<double>(open_bytes) / static_cast<double>(options.records));
    std::printf("bytes/record sealed   %.1f\n", static_cast<double>(sealed_bytes) / static_cast<double>(options.records));

    // 2. The rollups from nothing (a lost database), then after a crash (the database there).
    fs::remove(options.dir / "rollups.db");
    const double rebuild_s = open_and_rebuild(options, hours);
    std::printf("rollups rebuilt from all segments in %.1f s\n", rebuild_s);
    std::error_code ec;
    uint64_t rollup_bytes = 0;
    for (const char* suffix : {"", "-wal"}) rollup_bytes += fs::file_size(options.dir / (std::string("rollups.db") + suffix), ec);
    std::printf("rollups database      %.1f MiB (%.1f bytes/record)\n", static_cast<double>(rollup_bytes) / (1 << 20),
                static_cast<double>(rollup_bytes) / static_cast<double>(options.records));
    const double restart_s = open_and_rebuild(options, hours);
    std::printf("restart (rollups there, every segment checked) in %.2f s\n", restart_s);

    // 3. Summaries over random ranges, and one function's records of one hour.
    Rollups rollups(options.dir / "rollups.db");
    LedgerOptions ledger_options;
    ledger_options.fsync_interval = std::chrono::milliseconds(0);
    ledger_options.reserve_bytes = 0;
    Ledger ledger(options.dir, ledger_options);
    std::mt19937_64 random(42);
    const auto span_us = static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(end - first).count());
    std::vector<double> all_ms, one_ms;
    for (uint32_t q = 0; q < options.queries; ++q) {
        const WallTime a = first + std::chrono::microseconds(random() % span_us);
        const WallTime b = first + std::chrono::microseconds(random() % span_us);
        RollupQuery query{std::nullopt, std::min(a, b), std::max(a, b)};
        const bool one_function = q % 2 == 1;
        if (one_function) query.function = function_name(static_cast<uint32_t>(random() % options.functions));
        const auto t = Clock::now();
        const RollupSummary summary = rollups.summarize(query);
        (one_function ? one_ms : all_ms).push_back(seconds_since(t) * 1000);
        if (summary.summary.total.invocations == 0 && std::max(a, b) - std::min(a, b) > std::chrono::hours(1)) {
            std::fprintf(stderr, "a summary over more than an hour found nothing\n");
            return 1;
        }
    }
    std::printf("summary, all functions, random range   p50 %.1f ms  p99 %.1f ms  (%zu queries)\n", quantile(all_ms, 0.5),
                quantile(all_ms, 0.99), all_ms.size());
    std::printf("summary, one function, random range    p50 %.1f ms  p99 %.1f ms  (%zu queries)\n", quantile(one_ms, 0.5),
                quantile(one_ms, 0.99), one_ms.size());
    std::vector<double> records_ms;
    size_t records_found = 0;
    for (int q = 0; q < 20; ++q) {
        const WallTime hour = first + std::chrono::hours(random() % hours);
        const auto t = Clock::now();
        const auto records = ledger.query({function_name(static_cast<uint32_t>(random() % options.functions)), hour,
                                           hour + std::chrono::hours(1)});
        records_ms.push_back(seconds_since(t) * 1000);
        records_found += records.size();
    }
    std::printf("--records, one function, one hour      p50 %.1f ms  p99 %.1f ms  (%.0f records each)\n",
                quantile(records_ms, 0.5), quantile(records_ms, 0.99), static_cast<double>(records_found) / 20);
    std::printf("this process: RSS %ld KiB now, peak %ld KiB\n", rss_kib(), peak_rss_kib());
    return 0;
}
