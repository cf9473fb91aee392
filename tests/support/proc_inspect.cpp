#include "support/proc_inspect.h"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace sofaas::testing {

namespace {

std::string read_file(const std::filesystem::path& file) {
    std::ifstream in(file, std::ios::binary);
    std::stringstream contents;
    contents << in.rdbuf();
    return contents.str();
}

}  // namespace

std::optional<ProcessStatus> process_status(pid_t pid) {
    auto dir = std::filesystem::path("/proc") / std::to_string(pid);
    std::string stat = read_file(dir / "stat");
    // comm may hold spaces and parentheses: it ends at the last ')'.
    auto open = stat.find('(');
    auto close = stat.rfind(')');
    if (open == std::string::npos || close == std::string::npos || close + 4 >= stat.size()) return std::nullopt;
    ProcessStatus status;
    status.pid = pid;
    status.comm = stat.substr(open + 1, close - open - 1);
    std::istringstream rest(stat.substr(close + 2));
    rest >> status.state >> status.ppid;
    std::string cmdline = read_file(dir / "cmdline");
    for (char& c : cmdline)
        if (c == '\0') c = ' ';
    status.cmdline = cmdline;
    return status;
}

bool is_running(pid_t pid) {
    const auto status = process_status(pid);
    return status && status->state != 'Z';
}

std::vector<ProcessStatus> all_processes() {
    std::vector<ProcessStatus> processes;
    std::error_code ignored;
    for (const auto& entry : std::filesystem::directory_iterator("/proc", ignored)) {
        const std::string name = entry.path().filename().string();
        if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
        if (auto status = process_status(static_cast<pid_t>(std::stol(name)))) processes.push_back(*status);
    }
    return processes;
}

std::optional<pid_t> find_process(std::string_view comm, std::string_view needle) {
    for (const auto& process : all_processes())
        if (process.comm == comm && process.cmdline.find(needle) != std::string::npos) return process.pid;
    return std::nullopt;
}

size_t open_descriptor_count(pid_t pid) {
    std::error_code ignored;
    size_t count = 0;
    for (auto it = std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/fd", ignored);
         it != std::filesystem::directory_iterator(); it.increment(ignored))
        ++count;
    return count;
}

std::string describe_descriptors(pid_t pid) {
    std::error_code ignored;
    std::string listing;
    for (auto it = std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/fd", ignored);
         it != std::filesystem::directory_iterator(); it.increment(ignored)) {
        auto target = std::filesystem::read_symlink(it->path(), ignored);
        listing += it->path().filename().string() + " -> " + target.string() + "\n";
    }
    return listing;
}

namespace {

// The number after `field` in /proc/PID/status, -1 if it is not there.
long status_number(pid_t pid, std::string_view field) {
    std::istringstream lines(read_file("/proc/" + std::to_string(pid) + "/status"));
    for (std::string line; std::getline(lines, line);)
        if (line.starts_with(field)) return std::strtol(line.c_str() + field.size(), nullptr, 10);
    return -1;
}

}  // namespace

long resident_kb(pid_t pid) {
    return status_number(pid, "VmRSS:");
}

long voluntary_switches(pid_t pid) {
    return status_number(pid, "voluntary_ctxt_switches:");
}

long process_uid(pid_t pid) {
    return status_number(pid, "Uid:");
}

std::string pid_namespace(pid_t pid) {
    std::error_code ignored;
    return std::filesystem::read_symlink("/proc/" + std::to_string(pid) + "/ns/pid", ignored).string();
}

std::vector<pid_t> pid_namespace_members(pid_t member) {
    const std::string wanted = pid_namespace(member);
    std::vector<pid_t> members;
    if (wanted.empty()) return members;
    for (const auto& process : all_processes())
        if (pid_namespace(process.pid) == wanted) members.push_back(process.pid);
    return members;
}

std::optional<pid_t> host_pid(pid_t member, pid_t inner) {
    if (pid_namespace(member) == pid_namespace(::getpid())) return inner;
    for (const pid_t pid : pid_namespace_members(member)) {
        // "NSpid:\tHOST\t...\tINNERMOST": the last is the pid in its own namespace.
        std::istringstream lines(read_file("/proc/" + std::to_string(pid) + "/status"));
        for (std::string line; std::getline(lines, line);) {
            if (!line.starts_with("NSpid:")) continue;
            const size_t last = line.find_last_of(" \t");
            if (std::strtol(line.c_str() + last + 1, nullptr, 10) == inner) return pid;
        }
    }
    return std::nullopt;
}

}  // namespace sofaas::testing
