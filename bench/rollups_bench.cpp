// Billing rollups at production volume (docs/BENCHMARKS.md, Billing rollups): writes the
// rollup rows of a synthetic ledger (by default 100 M records over 30 days and 1,000
// functions, their traffic Zipf-distributed) straight into a rollup database, then prints
// its size, bytes per minute row, summary latency over random ranges, the cost of add()
// and of sealing one hour's segment, and the process's RSS.
//
//   rollups-bench DIR [records] [days] [functions]
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include <time.h>

#include "billing/rollup_rows.h"
#include "billing/rollups.h"
#include "events/sqlite_connection.h"

using namespace sofaas;
using namespace std::chrono;

namespace {

struct Options {
    std::filesystem::path dir;
    uint64_t records = 100'000'000;
    int days = 30;
    int functions = 1000;
};

// A row of the generator: one function's records of one status in one bucket.
struct Bucket {
    uint64_t count = 0, cold_starts = 0, billed_ms = 0, mb_ms = 0, cost_pico_usd = 0, duration_us_sum = 0;
    void add(const Bucket& other) {
        count += other.count;
        cold_starts += other.cold_starts;
        billed_ms += other.billed_ms;
        mb_ms += other.mb_ms;
        cost_pico_usd += other.cost_pico_usd;
        duration_us_sum += other.duration_us_sum;
    }
};
using BucketKey = std::pair<int, int>;  // function id, status code

std::string function_name(int id) { return "function-" + std::to_string(id); }

void insert(SqliteConnection& db, const char* table, int64_t start_minute, const std::map<BucketKey, Bucket>& rows) {
    const std::string sql = std::string("INSERT INTO ") + table + " VALUES (?, ?, 1, ?, 0, ?, ?, ?, ?, ?, ?)";
    for (const auto& [key, row] : rows) {
        db.query(sql)
            .bind(start_minute, key.first, key.second, row.count, row.cold_starts, row.billed_ms, row.mb_ms,
                  row.cost_pico_usd, row.duration_us_sum)
            .run();
    }
}

uint64_t generate(const Options& options, const std::filesystem::path& database, int64_t first_minute) {
    { Rollups schema(database); }  // the tables, as Rollups makes them
    SqliteConnection db(database, 10'000);
    db.execute("PRAGMA synchronous=OFF");
    db.execute("BEGIN");
    for (int id = 1; id <= options.functions; ++id) {
        db.query("INSERT INTO functions (id, name) VALUES (?, ?)").bind(id, function_name(id)).run();
    }
    db.execute("COMMIT");

    std::vector<double> share(options.functions);
    double harmonic = 0;
    for (int i = 0; i < options.functions; ++i) harmonic += 1.0 / (i + 1);
    for (int i = 0; i < options.functions; ++i) share[i] = 1.0 / (i + 1) / harmonic;
    const int64_t minutes = int64_t{options.days} * rollup::minutes_per_day;
    const double per_minute = static_cast<double>(options.records) / static_cast<double>(minutes);

    std::mt19937_64 random(42);
    std::map<BucketKey, Bucket> hour, day;
    uint64_t minute_rows = 0, records = 0;
    for (int64_t m = 0; m < minutes; ++m) {
        db.execute("BEGIN");
        std::map<BucketKey, Bucket> minute;
        for (int f = 0; f < options.functions; ++f) {
            const uint64_t n = std::poisson_distribution<uint64_t>(per_minute * share[f])(random);
            if (n == 0) continue;
            const uint64_t errors = std::binomial_distribution<uint64_t>(n, 0.01)(random);
            const uint32_t memory_mb = 128u << (f % 5);
            for (auto [status, count] : {std::pair{0, n - errors}, std::pair{1, errors}}) {
                if (count == 0) continue;
                Bucket row;
                row.count = count;
                row.cold_starts = std::binomial_distribution<uint64_t>(count, 0.005)(random);
                row.billed_ms = count * (1 + f % 200);
                row.mb_ms = row.billed_ms * memory_mb;
                row.cost_pico_usd = count * 200'000 + row.mb_ms * 16'276;  // $0.0000166667 per GB-s
                row.duration_us_sum = row.billed_ms * 1000 - count * 400;
                minute[{f + 1, status}] = row;
                records += count;
            }
        }
        insert(db, "minute_rows", first_minute + m, minute);
        minute_rows += minute.size();
        for (const auto& [key, row] : minute) {
            hour[key].add(row);
            day[key].add(row);
        }
        if ((m + 1) % rollup::minutes_per_hour == 0) {
            insert(db, "hour_rows", first_minute + m + 1 - rollup::minutes_per_hour, hour);
            hour.clear();
        }
        if ((m + 1) % rollup::minutes_per_day == 0) {
            insert(db, "day_rows", first_minute + m + 1 - rollup::minutes_per_day, day);
            day.clear();
        }
        db.execute("COMMIT");
    }
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)");
    std::printf("generated: %llu records in %llu minute rows (%.1f per minute)\n",
                static_cast<unsigned long long>(records), static_cast<unsigned long long>(minute_rows),
                static_cast<double>(minute_rows) / static_cast<double>(minutes));
    return minute_rows;
}

std::string status_line(const char* field) {
    std::ifstream status("/proc/self/status");
    for (std::string line; std::getline(status, line);) {
        if (line.rfind(field, 0) == 0) return line;
    }
    return field;
}

// This thread's CPU time: on a machine shared with other work, wall time also counts the
// time the thread waited for a core.
double cpu_ms() {
    timespec now{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
    return static_cast<double>(now.tv_sec) * 1e3 + static_cast<double>(now.tv_nsec) / 1e6;
}

double quantile(std::vector<double> values, double q) {
    std::sort(values.begin(), values.end());
    return values[std::min(values.size() - 1, static_cast<size_t>(q * static_cast<double>(values.size())))];
}

InvocationReport synthetic_record(std::mt19937_64& random, WallTime hour_start, int functions) {
    InvocationReport record;
    record.request_id = std::to_string(random());
    record.function = function_name(1 + static_cast<int>(random() % functions));
    record.version = 1;
    record.trigger = Trigger::http;
    record.start = hour_start + microseconds(random() % 3'600'000'000ULL);
    record.duration_ms = 3.5;
    record.billed_ms = 4;
    record.memory_mb = 128;
    record.cost_pico_usd = 208'333;
    return record;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: rollups-bench DIR [records] [days] [functions]\n");
        return 2;
    }
    Options options;
    options.dir = argv[1];
    if (argc > 2) options.records = std::stoull(argv[2]);
    if (argc > 3) options.days = std::stoi(argv[3]);
    if (argc > 4) options.functions = std::stoi(argv[4]);
    std::filesystem::create_directories(options.dir);
    const auto database = options.dir / "rollups.db";
    const int64_t first_minute = duration_cast<minutes>(sys_days{year{2026} / 11 / 1}.time_since_epoch()).count();

    uint64_t minute_rows = 0;
    if (!std::filesystem::exists(database)) {
        const auto started = steady_clock::now();
        minute_rows = generate(options, database, first_minute);
        std::printf("generation: %.1f s\n", duration<double>(steady_clock::now() - started).count());
    }
    const auto bytes = std::filesystem::file_size(database);
    std::printf("database: %.1f MB", bytes / 1e6);
    if (minute_rows > 0) std::printf(", %.1f bytes per minute row (all tables included)", double(bytes) / minute_rows);
    std::printf(", %.2f bytes per record\n", double(bytes) / double(options.records));

    Rollups rollups(database);
    std::mt19937_64 random(7);
    const WallTime first = rollup::time_of_minute(first_minute);
    const uint64_t span_us = uint64_t(options.days) * 86'400'000'000ULL;
    std::vector<double> all_functions, one_function, all_cpu, one_cpu;
    for (int i = 0; i < 400; ++i) {
        RollupQuery query;
        WallTime a = first + microseconds(random() % span_us), b = first + microseconds(random() % span_us);
        if (b < a) std::swap(a, b);
        query.since = a;
        query.until = b;
        const bool one = i % 2 == 1;
        if (one) query.function = function_name(1 + static_cast<int>(random() % options.functions));
        const auto started = steady_clock::now();
        const double cpu_started = cpu_ms();
        const RollupSummary answer = rollups.summarize(query);
        (one ? one_cpu : all_cpu).push_back(cpu_ms() - cpu_started);
        (one ? one_function : all_functions).push_back(duration<double, std::milli>(steady_clock::now() - started).count());
        if (i == 0) std::printf("first summary: %zu functions, %llu invocations\n", answer.summary.functions.size(),
                                static_cast<unsigned long long>(answer.summary.total.invocations));
    }
    const auto started = steady_clock::now();
    const RollupSummary everything = rollups.summarize(RollupQuery{});
    const double whole_ms = duration<double, std::milli>(steady_clock::now() - started).count();
    for (const auto& [what, wall, cpu] : {std::tuple{"all functions", &all_functions, &all_cpu},
                                          std::tuple{"one function", &one_function, &one_cpu}}) {
        std::printf("summary, %s, random ranges: wall p50 %.1f ms, p99 %.1f ms, max %.1f ms; "
                    "CPU p50 %.1f ms, p99 %.1f ms, max %.1f ms\n",
                    what, quantile(*wall, 0.5), quantile(*wall, 0.99), quantile(*wall, 1.0), quantile(*cpu, 0.5),
                    quantile(*cpu, 0.99), quantile(*cpu, 1.0));
    }
    std::printf("summary, everything: %.1f ms (%llu invocations)\n", whole_ms,
                static_cast<unsigned long long>(everything.summary.total.invocations));

    // One hour's segment of this ledger: its add()s, its seal, then summaries with it.
    const uint64_t per_hour = options.records / (uint64_t(options.days) * 24);
    const WallTime hour = first + hours(24 * options.days);
    std::vector<InvocationReport> segment;
    segment.reserve(per_hour);
    for (uint64_t i = 0; i < per_hour; ++i) segment.push_back(synthetic_record(random, hour, options.functions));
    // A name no earlier run sealed into this database.
    const std::string name = "bench-" + std::to_string(system_clock::now().time_since_epoch().count());
    auto add_started = steady_clock::now();
    for (const auto& record : segment) rollups.add(record, name);
    const double add_ns = duration<double, std::nano>(steady_clock::now() - add_started).count() / double(per_hour);
    auto seal_started = steady_clock::now();
    rollups.seal(name, [&](const std::function<void(const InvocationReport&)>& visit) {
        for (const auto& record : segment) visit(record);
    });
    std::printf("one hour's segment, %llu records: add %.0f ns per record, seal %.2f s\n",
                static_cast<unsigned long long>(per_hour), add_ns,
                duration<double>(steady_clock::now() - seal_started).count());
    std::printf("%s\n%s\n", status_line("VmRSS").c_str(), status_line("VmHWM").c_str());
    std::ifstream load("/proc/loadavg");
    std::string load_average;
    std::getline(load, load_average);
    std::printf("load average while measured: %s\n", load_average.c_str());
    return 0;
}
