#include "metrics/process_metrics.h"

#include <sys/resource.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <sstream>
#include <string>
#include <system_error>
#include <vector>

#include "metrics/exposition.h"

namespace sofaas {

namespace {

std::optional<std::string> read_proc_file(const char* path) {
    std::ifstream in(path);
    if (!in) return std::nullopt;
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// /proc/self/stat's fields after the command (which may hold spaces and parentheses):
// fields[0] is field 3, state.
std::vector<std::string> stat_fields_after_command(const std::string& stat) {
    std::vector<std::string> fields;
    const size_t end_of_command = stat.rfind(')');
    if (end_of_command == std::string::npos) return fields;
    std::istringstream rest(stat.substr(end_of_command + 1));
    for (std::string field; rest >> field;) fields.push_back(field);
    return fields;
}

// The machine's boot time, seconds since the epoch (/proc/stat btime).
std::optional<uint64_t> boot_time_seconds() {
    const auto stat = read_proc_file("/proc/stat");
    if (!stat) return std::nullopt;
    std::istringstream lines(*stat);
    for (std::string line; std::getline(lines, line);) {
        if (line.rfind("btime ", 0) == 0) return std::stoull(line.substr(6));
    }
    return std::nullopt;
}

}  // namespace

void write_process_metrics(Exposition& out) {
    const double ticks_per_second = static_cast<double>(sysconf(_SC_CLK_TCK));
    const double page_size = static_cast<double>(sysconf(_SC_PAGESIZE));
    if (const auto stat = read_proc_file("/proc/self/stat")) {
        // Fields 14 utime, 15 stime, 22 starttime (clock ticks), 23 vsize (bytes), 24 rss (pages).
        const std::vector<std::string> fields = stat_fields_after_command(*stat);
        if (fields.size() >= 22) {
            const double cpu =
                static_cast<double>(std::stoull(fields[11]) + std::stoull(fields[12])) / ticks_per_second;
            out.family("process_cpu_seconds_total", MetricType::counter,
                       "Total user and system CPU time spent in seconds.");
            out.sample("process_cpu_seconds_total", {}, cpu);
            out.family("process_virtual_memory_bytes", MetricType::gauge, "Virtual memory size in bytes.");
            out.sample("process_virtual_memory_bytes", {}, static_cast<uint64_t>(std::stoull(fields[20])));
            out.family("process_resident_memory_bytes", MetricType::gauge, "Resident memory size in bytes.");
            out.sample("process_resident_memory_bytes", {}, static_cast<double>(std::stoull(fields[21])) * page_size);
            if (const auto boot = boot_time_seconds()) {
                out.family("process_start_time_seconds", MetricType::gauge,
                           "Start time of the process since unix epoch in seconds.");
                out.sample(
                    "process_start_time_seconds", {},
                    static_cast<double>(*boot) + static_cast<double>(std::stoull(fields[19])) / ticks_per_second);
            }
        }
    }
    std::error_code error;
    uint64_t open_fds = 0;
    for (std::filesystem::directory_iterator it("/proc/self/fd", error), end; !error && it != end;
         it.increment(error)) {
        ++open_fds;
    }
    if (!error) {
        out.family("process_open_fds", MetricType::gauge, "Number of open file descriptors.");
        out.sample("process_open_fds", {}, open_fds);
    }
    rlimit limit{};
    if (getrlimit(RLIMIT_NOFILE, &limit) == 0) {
        out.family("process_max_fds", MetricType::gauge, "Maximum number of open file descriptors.");
        out.sample("process_max_fds", {}, static_cast<uint64_t>(limit.rlim_cur));
    }
}

}  // namespace sofaas
