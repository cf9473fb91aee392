// What Metrics::record costs per answered invocation, alone, without the noise of a whole
// daemon: one thread, then two threads at once on the same function (the lock contended as
// two io threads would contend it). Reports of 100 functions, one of them called, as the
// warm path records them. Prints `key value` lines (ns per record).
//
//   build-release/bin/metrics-record [RECORDS=5000000]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "metrics/metrics.h"

namespace {

sofaas::InvocationReport warm_report(std::string function) {
    sofaas::InvocationReport report;
    report.request_id = "5d0f3a8e-2c1e-4d7a-9b52-0e4f6c1b2a90";
    report.function = std::move(function);
    report.version = 1;
    report.trigger = sofaas::Trigger::http;
    report.duration_ms = 0.05;
    report.billed_ms = 1;
    report.memory_mb = 128;
    report.cost_pico_usd = 202'100;
    return report;
}

double ns_per_record(sofaas::Metrics& metrics, const sofaas::InvocationReport& report, long records, int threads) {
    const auto start = std::chrono::steady_clock::now();
    std::vector<std::thread> running;
    for (int t = 0; t < threads; ++t) {
        running.emplace_back([&] {
            for (long i = 0; i < records; ++i) metrics.record(report);
        });
    }
    for (std::thread& thread : running) thread.join();
    const double ns = std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - start).count();
    return ns / static_cast<double>(records);  // per record of one thread: what a caller waits
}

}  // namespace

int main(int argc, char** argv) {
    const long records = argc > 1 ? std::atol(argv[1]) : 5'000'000;
    sofaas::Metrics metrics;
    for (int i = 0; i < 100; ++i) metrics.record(warm_report("function-" + std::to_string(i)));
    const sofaas::InvocationReport report = warm_report("function-42");
    ns_per_record(metrics, report, records / 10, 1);  // warm-up
    std::printf("record_ns_one_thread %.1f\n", ns_per_record(metrics, report, records, 1));
    std::printf("record_ns_two_threads %.1f\n", ns_per_record(metrics, report, records, 2));
    return 0;
}
