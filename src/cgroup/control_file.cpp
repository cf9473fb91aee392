#include "cgroup/control_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <sstream>

namespace sofaas::cgroup {

std::string errno_message(const std::string& what) {
    return what + ": " + std::strerror(errno);
}

UniqueFd open_control(const std::filesystem::path& file, int flags) {
    return UniqueFd(::open(file.c_str(), flags | O_CLOEXEC));
}

std::optional<std::string> write_control(const std::filesystem::path& file, std::string_view value) {
    const UniqueFd fd = open_control(file, O_WRONLY | O_TRUNC);
    if (!fd) return errno_message("cannot open " + file.string());
    if (::write(fd.get(), value.data(), value.size()) != static_cast<ssize_t>(value.size()))
        return errno_message("cannot write '" + std::string(value) + "' to " + file.string());
    return std::nullopt;
}

bool write_control(int fd, std::string_view value) {
    return ::pwrite(fd, value.data(), value.size(), 0) == static_cast<ssize_t>(value.size());
}

std::optional<std::string> read_control(int fd) {
    char buffer[512];  // every file read on the warm path is a few lines
    const ssize_t size = ::pread(fd, buffer, sizeof buffer, 0);
    if (size < 0) return std::nullopt;
    return std::string(buffer, static_cast<size_t>(size));
}

std::optional<std::string> read_control(const std::filesystem::path& file) {
    std::ifstream in(file);
    if (!in) return std::nullopt;
    std::ostringstream text;
    text << in.rdbuf();
    if (in.bad()) return std::nullopt;
    return text.str();
}

std::optional<uint64_t> parse_number(std::string_view text) {
    while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.remove_suffix(1);
    uint64_t value = 0;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || error != std::errc{} || end != text.data() + text.size()) return std::nullopt;
    return value;
}

std::optional<uint64_t> keyed_value(std::string_view text, std::string_view key) {
    size_t line = 0;
    while (line < text.size()) {
        const size_t end = std::min(text.find('\n', line), text.size());
        const std::string_view current = text.substr(line, end - line);
        if (current.size() > key.size() && current.starts_with(key) && current[key.size()] == ' ')
            return parse_number(current.substr(key.size() + 1));
        line = end + 1;
    }
    return std::nullopt;
}

bool lists(std::string_view text, std::string_view word) {
    std::istringstream words{std::string(text)};
    std::string listed;
    while (words >> listed)
        if (listed == word) return true;
    return false;
}

std::vector<pid_t> listed_processes(const std::filesystem::path& procs_file) {
    std::vector<pid_t> pids;
    std::ifstream in(procs_file);
    pid_t pid = 0;
    while (in >> pid) pids.push_back(pid);
    return pids;
}

std::optional<std::string> make_directory(const std::filesystem::path& directory) {
    if (::mkdir(directory.c_str(), 0755) != 0) return errno_message("cannot create " + directory.string());
    return std::nullopt;
}

bool remove_directory(const std::filesystem::path& directory, std::string* error) {
    if (::rmdir(directory.c_str()) == 0 || errno == ENOENT) return true;
    if (errno != EBUSY && error) *error = errno_message("cannot remove " + directory.string());
    return false;
}

std::optional<uint64_t> read_number(int fd) {
    const auto text = read_control(fd);
    if (!text) return std::nullopt;
    return parse_number(*text);
}

std::optional<uint64_t> read_keyed_value(int fd, std::string_view key) {
    const auto text = read_control(fd);
    if (!text) return std::nullopt;
    return keyed_value(*text, key);
}

}  // namespace sofaas::cgroup
