#include "worker/process_image.h"

#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

namespace sofaas::worker {
namespace {

// Fields of /proc/self/stat, numbered as in proc(5).
constexpr int first_field_after_comm = 3;
enum StatField {
    start_code = 26, end_code = 27, start_stack = 28,
    start_data = 45, end_data = 46, start_brk = 47, arg_start = 48, arg_end = 49,
    env_start = 50, env_end = 51, last_needed = 51,
};

std::optional<std::vector<uint64_t>> read_stat_fields() {
    std::ifstream file("/proc/self/stat");
    std::string stat;
    if (!std::getline(file, stat)) return std::nullopt;
    // comm may hold spaces and parentheses: it ends at the last ')'.
    const size_t comm_end = stat.rfind(')');
    if (comm_end == std::string::npos) return std::nullopt;
    std::istringstream rest(stat.substr(comm_end + 2));
    std::vector<uint64_t> fields(last_needed + 1, 0);
    std::string token;
    for (int field = first_field_after_comm; field <= last_needed && rest >> token; ++field) {
        // Fields before 26 include the state letter and signed numbers: skip them.
        if (field >= start_code) fields[field] = std::strtoull(token.c_str(), nullptr, 10);
    }
    if (!rest) return std::nullopt;
    return fields;
}

uint64_t current_brk() {
    return static_cast<uint64_t>(syscall(SYS_brk, 0));
}

std::optional<std::string> apply(prctl_mm_map layout) {
    layout.brk = current_brk();  // the heap may have grown since the layout was read
    if (prctl(PR_SET_MM, PR_SET_MM_MAP, &layout, sizeof layout, 0) != 0)
        return std::string("PR_SET_MM_MAP: ") + std::strerror(errno);
    return std::nullopt;
}

size_t joined_size(const std::vector<std::string>& strings) {
    size_t size = 0;
    for (const std::string& string : strings) size += string.size() + 1;
    return size;
}

// Copies each string, NUL-terminated, to `into`; returns the end.
char* join(const std::vector<std::string>& strings, char* into, char** pointers) {
    for (const std::string& string : strings) {
        if (pointers) *pointers++ = into;
        std::memcpy(into, string.c_str(), string.size() + 1);
        into += string.size() + 1;
    }
    if (pointers) *pointers = nullptr;
    return into;
}

}  // namespace

std::variant<ProcessImage, std::string> ProcessImage::of_this_process() {
    const auto fields = read_stat_fields();
    if (!fields) return std::string("cannot read /proc/self/stat");
    prctl_mm_map layout{};
    layout.start_code = (*fields)[start_code];
    layout.end_code = (*fields)[end_code];
    layout.start_data = (*fields)[start_data];
    layout.end_data = (*fields)[end_data];
    layout.start_brk = (*fields)[start_brk];
    layout.start_stack = (*fields)[start_stack];
    layout.arg_start = (*fields)[arg_start];
    layout.arg_end = (*fields)[arg_end];
    layout.env_start = (*fields)[env_start];
    layout.env_end = (*fields)[env_end];
    layout.exe_fd = static_cast<uint32_t>(-1);  // keep /proc/PID/exe
    // The trial: this process presented as itself, which changes nothing.
    if (auto error = apply(layout))
        return "cannot present a worker's command line and environment: " + *error;
    return ProcessImage(layout);
}

std::optional<std::string> ProcessImage::present(const std::vector<std::string>& arguments,
                                                 const std::vector<std::string>& environment) const {
    // Never freed: the kernel reads the strings for as long as the process lives, and
    // getenv() reads the environment through `pointers`.
    const size_t argument_bytes = joined_size(arguments);
    char* strings = static_cast<char*>(std::malloc(argument_bytes + joined_size(environment) + 1));
    auto** pointers = static_cast<char**>(std::malloc((environment.size() + 1) * sizeof(char*)));
    if (!strings || !pointers) return std::string("out of memory");
    char* arguments_end = join(arguments, strings, nullptr);
    char* environment_end = join(environment, arguments_end, pointers);
    // An empty environment still needs a valid (empty) range.
    if (environment_end == arguments_end) *environment_end = '\0';
    environ = pointers;

    prctl_mm_map layout = layout_;
    layout.arg_start = reinterpret_cast<uintptr_t>(strings);
    layout.arg_end = reinterpret_cast<uintptr_t>(arguments_end);
    layout.env_start = reinterpret_cast<uintptr_t>(arguments_end);
    layout.env_end = reinterpret_cast<uintptr_t>(environment_end);
    return apply(layout);
}

}  // namespace sofaas::worker
