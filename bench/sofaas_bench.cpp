// sofaas-bench: the measurements bench/run.sh cannot make with wrk alone. Each
// subcommand talks to a running sofaasd (or starts one), prints `key value` lines that
// run.sh collects into its table, and exits non-zero if the daemon misbehaves.
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli/http_client.h"
#include "common/time.h"

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using sofaas::HttpClient;
using sofaas::HttpResponse;
using sofaas::WallTime;


namespace {

struct Options {
    std::string endpoint = "http://127.0.0.1:8080";
    std::string token;
    std::map<std::string, std::string> values;

    std::string get(const std::string& key, const std::string& fallback) const {
        auto it = values.find(key);
        return it == values.end() ? fallback : it->second;
    }
    long number(const std::string& key, long fallback) const { return std::stol(get(key, std::to_string(fallback))); }
};

double ms_since(Clock::time_point start) {
    return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

double percentile(std::vector<double> samples, double p) {
    if (samples.empty()) return 0;
    std::sort(samples.begin(), samples.end());
    size_t index = static_cast<size_t>(p / 100.0 * static_cast<double>(samples.size() - 1) + 0.5);
    return samples[std::min(index, samples.size() - 1)];
}

std::string read_file(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error("cannot read " + path.string());
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

HttpResponse expect(HttpResponse response, int status, const std::string& what) {
    if (response.status != status) {
        throw std::runtime_error(what + ": HTTP " + std::to_string(response.status) + " " + response.body);
    }
    return response;
}

void deploy(HttpClient& client, const std::string& name, const std::string& library, const std::string& query) {
    expect(client.request("PUT", "/v1/functions/" + name + (query.empty() ? "" : "?" + query), library), 201,
           "deploy " + name);
}

// Fresh deploys with min_warm 0: the first call of each pays the whole cold start
// (spawn sofaas-worker, dlopen, init). Deploys happen first so that only calls are timed.
// --pause-ms spaces the calls out, as cold starts come on a quiet daemon: what the kernel
// batches when they come back to back (an RCU grace period, say) is then paid each time.
int cold_start(const Options& options) {
    long samples = options.number("samples", 200);
    const long pause_ms = options.number("pause-ms", 0);
    std::string library = read_file(options.get("library", "build/functions/hello.so"));
    HttpClient client(options.endpoint, options.token);
    for (long i = 0; i < samples; ++i) deploy(client, "cold-" + std::to_string(i), library, "min_warm=0");
    std::vector<double> end_to_end, init;
    for (long i = 0; i < samples; ++i) {
        if (pause_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(pause_ms));
        auto start = Clock::now();
        HttpResponse response = expect(client.request("POST", "/fn/cold-" + std::to_string(i), "bench"), 200, "call");
        end_to_end.push_back(ms_since(start));
        std::string init_ms = response.header("X-Sofaas-Init-Ms");
        if (init_ms.empty()) throw std::runtime_error("first call of cold-" + std::to_string(i) + " was not cold");
        init.push_back(std::stod(init_ms));
    }
    for (long i = 0; i < samples; ++i) client.request("DELETE", "/v1/functions/cold-" + std::to_string(i));
    std::printf("cold_p50_ms %.3f\ncold_p99_ms %.3f\ninit_p50_ms %.3f\ninit_p99_ms %.3f\n",
                percentile(end_to_end, 50), percentile(end_to_end, 99), percentile(init, 50), percentile(init, 99));
    return 0;
}

// Many clients at once, each on its own connection and thread: returns per-call
// latencies and the number of calls that did not answer `status`.
struct Burst {
    std::vector<double> latencies_ms;
    std::vector<double> init_ms;  // X-Sofaas-Init-Ms of each call, 0 when warm
    long failures = 0;
    double wall_ms = 0;
};

Burst run_burst(const Options& options, long count, const std::string& target, const std::string& body, int status) {
    Burst burst;
    burst.latencies_ms.assign(static_cast<size_t>(count), 0);
    burst.init_ms.assign(static_cast<size_t>(count), 0);
    std::atomic<long> failures{0};
    std::atomic<long> ready{0};
    std::atomic<bool> go{false};
    std::vector<std::thread> threads;
    threads.reserve(static_cast<size_t>(count));
    for (long i = 0; i < count; ++i) {
        threads.emplace_back([&, i] {
            HttpClient client(options.endpoint, options.token);
            ready.fetch_add(1);
            while (!go.load()) std::this_thread::yield();
            auto start = Clock::now();
            try {
                const auto response = client.request("POST", target, body);
                if (response.status != status) failures.fetch_add(1);
                const std::string init = response.header("X-Sofaas-Init-Ms");
                if (!init.empty()) burst.init_ms[static_cast<size_t>(i)] = std::atof(init.c_str());
            } catch (const std::exception&) {
                failures.fetch_add(1);
            }
            burst.latencies_ms[static_cast<size_t>(i)] = ms_since(start);
        });
    }
    while (ready.load() < count) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    auto start = Clock::now();
    go.store(true);
    for (auto& thread : threads) thread.join();
    burst.wall_ms = ms_since(start);
    burst.failures = failures.load();
    return burst;
}

int burst(const Options& options) {
    long count = options.number("count", 1000);
    long sleep_ms = options.number("sleep-ms", 1000);
    HttpClient client(options.endpoint, options.token);
    deploy(client, "burst-sleep", read_file(options.get("library", "build/functions/sleep.so")),
           "max_concurrency=" + std::to_string(count) + "&timeout=30");
    // The invoke API hands the body over as the event; a function URL would wrap it in
    // the HTTP event, which sleep.so does not read.
    Burst result = run_burst(options, count, "/v1/functions/burst-sleep/invoke", std::to_string(sleep_ms), 200);
    client.request("DELETE", "/v1/functions/burst-sleep");
    std::printf("burst_count %ld\nburst_failures %ld\nburst_wall_ms %.1f\n", count, result.failures, result.wall_ms);
    return result.failures == 0 ? 0 : 1;
}

// Idle workers of a function, from its info ("workers":{"idle":N,...}); -1 if unreadable.
long idle_workers(HttpClient& client, const std::string& function) {
    const auto response = client.request("GET", "/v1/functions/" + function);
    const size_t at = response.body.find("\"idle\":");
    return at == std::string::npos ? -1 : std::atol(response.body.c_str() + at + 7);
}

// A function that never returns, timeout 1 s: how long after the deadline the 504 lands.
// With --workers warm, every round starts on warm workers (min_warm refills the pool after the
// timed-out ones are killed), so the lateness is the deadline's alone; without it every
// call is a cold start, and its init_ms is subtracted (the deadline runs from the moment
// the event reaches the worker), but the fork and the queueing behind the round's other
// cold starts on a saturated machine still count as late.
int deadline(const Options& options) {
    const long count = options.number("count", 50);
    const long parallel = options.number("parallel", 10);
    const bool warm = options.get("workers", "cold") == "warm";
    const std::string prefix = warm ? "deadline_warm" : "deadline_cold";
    HttpClient client(options.endpoint, options.token);
    deploy(client, "deadline-spin", read_file(options.get("library", "build/fixtures/spin.so")),
           "timeout=1&max_concurrency=" + std::to_string(parallel) +
               (warm ? "&min_warm=" + std::to_string(parallel) : ""));
    std::vector<double> late_ms;
    long failures = 0;
    long cold_calls = 0;
    for (long done = 0; done < count; done += parallel) {
        const long size = std::min(parallel, count - done);
        if (warm) {
            const auto give_up = Clock::now() + std::chrono::seconds(10);
            while (idle_workers(client, "deadline-spin") < size && Clock::now() < give_up) {
                std::this_thread::sleep_for(std::chrono::milliseconds(20));
            }
        }
        Burst round = run_burst(options, size, "/fn/deadline-spin", "", 504);
        failures += round.failures;
        for (size_t i = 0; i < round.latencies_ms.size(); ++i) {
            if (round.init_ms[i] > 0) ++cold_calls;
            late_ms.push_back(round.latencies_ms[i] - round.init_ms[i] - 1000.0);
        }
    }
    client.request("DELETE", "/v1/functions/deadline-spin");
    std::printf("%s_late_p50_ms %.2f\n%s_late_p99_ms %.2f\n%s_failures %ld\n%s_cold_calls %ld\n", prefix.c_str(),
                percentile(late_ms, 50), prefix.c_str(), percentile(late_ms, 99), prefix.c_str(), failures,
                prefix.c_str(), cold_calls);
    return failures == 0 ? 0 : 1;
}

long kib_field(const fs::path& file, const std::string& field) {
    std::ifstream in(file);
    std::string line;
    while (std::getline(in, line)) {
        if (line.rfind(field + ":", 0) == 0) return std::stol(line.substr(field.size() + 1));
    }
    return -1;
}

// The zygote is the daemon's child too, but no worker.
bool is_zygote(const fs::path& proc) {
    std::ifstream cmdline(proc / "cmdline");
    std::string arguments((std::istreambuf_iterator<char>(cmdline)), {});
    return arguments.find(std::string("--zygote\0", 9)) != std::string::npos;
}

// The daemon's workers.
std::vector<pid_t> children_of(pid_t parent) {
    std::vector<pid_t> children;
    for (const auto& entry : fs::directory_iterator("/proc")) {
        std::string name = entry.path().filename();
        if (name.find_first_not_of("0123456789") != std::string::npos) continue;
        std::ifstream stat(entry.path() / "stat");
        std::string text((std::istreambuf_iterator<char>(stat)), {});
        auto close = text.rfind(')');
        if (close == std::string::npos) continue;
        std::istringstream rest(text.substr(close + 2));
        char state;
        pid_t ppid;
        rest >> state >> ppid;
        if (ppid == parent && !is_zygote(entry.path())) children.push_back(static_cast<pid_t>(std::stol(name)));
    }
    return children;
}

// Idle warm workers: PSS of one (shared pages are split among the workers that map them,
// which is what each really costs), and the daemon's RSS while it keeps them all.
int footprint(const Options& options) {
    long workers = options.number("workers", 1000);
    pid_t daemon = static_cast<pid_t>(options.number("daemon-pid", 0));
    HttpClient client(options.endpoint, options.token);
    deploy(client, "warm-hello", read_file(options.get("library", "build/functions/hello.so")),
           "min_warm=" + std::to_string(workers) + "&max_concurrency=" + std::to_string(workers));
    auto start = Clock::now();
    std::vector<pid_t> children;
    while ((children = children_of(daemon)).size() < static_cast<size_t>(workers) && ms_since(start) < 120'000) {
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    std::vector<double> pss;
    for (pid_t child : children) {
        long kib = kib_field("/proc/" + std::to_string(child) + "/smaps_rollup", "Pss");
        if (kib >= 0) pss.push_back(static_cast<double>(kib));
    }
    long daemon_rss = kib_field("/proc/" + std::to_string(daemon) + "/status", "VmRSS");
    client.request("DELETE", "/v1/functions/warm-hello");
    std::printf("warm_workers %zu\nworker_pss_p50_kib %.0f\ndaemon_rss_kib %ld\n", children.size(),
                percentile(pss, 50), daemon_rss);
    return children.size() >= static_cast<size_t>(workers) ? 0 : 1;
}

// Deploys `count` copies of a function (many-functions scenario), `parallel` at a time.
int deploy_many(const Options& options) {
    long count = options.number("count", 10000);
    long parallel = options.number("parallel", 4);
    std::string library = read_file(options.get("library", "build/functions/hello.so"));
    std::atomic<long> next{0};
    std::atomic<long> failures{0};
    auto start = Clock::now();
    std::vector<std::thread> threads;
    for (long t = 0; t < parallel; ++t) {
        threads.emplace_back([&] {
            HttpClient client(options.endpoint, options.token);
            for (long i; (i = next.fetch_add(1)) < count;) {
                try {
                    deploy(client, "many-" + std::to_string(i), library, "");
                } catch (const std::exception& e) {
                    if (failures.fetch_add(1) < 3) std::cerr << e.what() << "\n";
                }
            }
        });
    }
    for (auto& thread : threads) thread.join();
    std::printf("deployed %ld\ndeploy_failures %ld\ndeploy_wall_s %.1f\n", count - failures.load(), failures.load(),
                ms_since(start) / 1000.0);
    return failures.load() == 0 ? 0 : 1;
}

// Latency of sequential calls to one function over one keep-alive connection.
int call_latency(const Options& options) {
    long count = options.number("count", 200);
    std::string target = options.get("target", "/fn/hello");
    HttpClient client(options.endpoint, options.token);
    std::vector<double> latencies;
    for (long i = 0; i < count; ++i) {
        auto start = Clock::now();
        expect(client.request("POST", target, "bench"), 200, "call " + target);
        latencies.push_back(ms_since(start));
    }
    std::printf("call_p50_ms %.3f\ncall_p99_ms %.3f\n", percentile(latencies, 50), percentile(latencies, 99));
    return 0;
}

// Events waiting in a function's queue (leased ones included), from its queue endpoint.
long queued_events(HttpClient& client, const std::string& function) {
    const auto body = nlohmann::json::parse(
        expect(client.request("GET", "/v1/functions/" + function + "/queue"), 200, "queue of " + function).body);
    return body.at("events").get<long>();
}

// Asynchronous invocations at a constant rate (--rate events/s for --seconds, spread over
// --connections clients), each keeping the wall-clock time its 202 arrived. Once the queue
// has drained, the event's billing record (trigger async, attempt 1) says when its run got
// its slot ("start"): start minus the 202 is how long it waited in the queue as its caller
// sees it. Both times are this machine's wall clock. Every answer must be a 202.
int async_latency(const Options& options) {
    const std::string function = options.get("function", "hello");
    const long rate = options.number("rate", 1000);
    const long seconds = options.number("seconds", 10);
    const long connections = options.number("connections", 8);
    const long total = rate * seconds;
    const std::string target = "/v1/functions/" + function + "/invoke";
    if (rate <= 0 || seconds <= 0 || connections <= 0) {
        throw std::runtime_error("rate, seconds and connections must be above 0");
    }

    struct Queued {
        std::string request_id;
        WallTime answered;
    };
    std::vector<std::vector<Queued>> queued(static_cast<size_t>(connections));
    std::atomic<long> refused{0};
    const auto begin = Clock::now() + std::chrono::milliseconds(100);
    std::vector<std::thread> threads;
    for (long c = 0; c < connections; ++c) {
        threads.emplace_back([&, c] {
            HttpClient client(options.endpoint, options.token);
            auto& mine = queued[static_cast<size_t>(c)];
            mine.reserve(static_cast<size_t>(total / connections + 1));
            for (long k = c; k < total; k += connections) {
                // A fixed schedule: a client that fell behind sends at once until it is back on it.
                std::this_thread::sleep_until(begin + std::chrono::nanoseconds(k * 1'000'000'000 / rate));
                try {
                    const auto response =
                        client.request("POST", target, "bench", {{"X-Sofaas-Invocation-Type", "Event"}});
                    const WallTime answered = sofaas::wall_now();
                    if (response.status != 202) {
                        if (refused.fetch_add(1) < 3) {
                            std::cerr << "HTTP " << response.status << " " << response.body << "\n";
                        }
                        continue;
                    }
                    const auto body = nlohmann::json::parse(response.body);
                    mine.push_back({body.at("request_id").get<std::string>(), answered});
                } catch (const std::exception& e) {
                    if (refused.fetch_add(1) < 3) std::cerr << e.what() << "\n";
                }
            }
        });
    }
    for (auto& thread : threads) thread.join();
    const double sending_s = std::chrono::duration<double>(Clock::now() - begin).count();
    if (refused.load() > 0) throw std::runtime_error(std::to_string(refused.load()) + " answers were not 202");

    HttpClient client(options.endpoint, options.token);
    const auto give_up = Clock::now() + std::chrono::seconds(options.number("drain-timeout-s", 300));
    while (queued_events(client, function) > 0) {
        if (Clock::now() > give_up) throw std::runtime_error("the queue of " + function + " did not drain");
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    const auto billing = nlohmann::json::parse(
        expect(client.request("GET", "/v1/billing?function=" + function + "&records=true"), 200, "billing").body);
    std::unordered_map<std::string, WallTime> started;
    const WallTime now = sofaas::wall_now();
    for (const auto& record : billing.at("records")) {
        if (record.value("trigger", "") != "async" || record.value("attempt", 0) != 1) continue;
        if (auto start = sofaas::parse_time_spec(record.at("start").get<std::string>(), now)) {
            started.emplace(record.at("request_id").get<std::string>(), *start);
        }
    }
    std::vector<double> waited_ms;
    long missing = 0;
    for (const auto& client_queued : queued) {
        for (const Queued& event : client_queued) {
            auto found = started.find(event.request_id);
            if (found == started.end()) {
                ++missing;
                continue;
            }
            waited_ms.push_back(std::chrono::duration<double, std::milli>(found->second - event.answered).count());
        }
    }
    std::printf("async_sent %zu\nasync_rate %.0f\nasync_start_p50_ms %.2f\nasync_start_p99_ms %.2f\n"
                "async_start_max_ms %.2f\nasync_missing %ld\n",
                waited_ms.size() + static_cast<size_t>(missing), static_cast<double>(total) / sending_s,
                percentile(waited_ms, 50), percentile(waited_ms, 99), percentile(waited_ms, 100), missing);
    return missing == 0 ? 0 : 1;
}

int usage() {
    std::cerr << "usage: sofaas-bench COMMAND [--endpoint URL] [--token T] [--KEY VALUE]...\n"
                 "commands: cold-start [--samples N --library SO --pause-ms MS]\n"
                 "          burst [--count N --sleep-ms MS --library SO]\n"
                 "          deadline [--count N --parallel N --library SO --workers cold|warm]\n"
                 "          footprint --daemon-pid PID [--workers N --library SO]\n"
                 "          deploy-many [--count N --parallel N --library SO]\n"
                 "          call-latency [--target PATH --count N]\n"
                 "          async-latency [--function NAME --rate N --seconds N --connections N --drain-timeout-s N]\n";
    return 2;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) return usage();
    std::string command = argv[1];
    Options options;
    if (const char* token = std::getenv("SOFAAS_TOKEN")) options.token = token;
    if (const char* endpoint = std::getenv("SOFAAS_ENDPOINT")) options.endpoint = endpoint;
    for (int i = 2; i < argc; i += 2) {
        std::string key = argv[i];
        if (key.rfind("--", 0) != 0 || i + 1 >= argc) return usage();
        key = key.substr(2);
        if (key == "endpoint") options.endpoint = argv[i + 1];
        else if (key == "token") options.token = argv[i + 1];
        else options.values[key] = argv[i + 1];
    }
    try {
        if (command == "cold-start") return cold_start(options);
        if (command == "burst") return burst(options);
        if (command == "deadline") return deadline(options);
        if (command == "footprint") return footprint(options);
        if (command == "deploy-many") return deploy_many(options);
        if (command == "call-latency") return call_latency(options);
        if (command == "async-latency") return async_latency(options);
    } catch (const std::exception& e) {
        std::cerr << "sofaas-bench " << command << ": " << e.what() << "\n";
        return 1;
    }
    return usage();
}
