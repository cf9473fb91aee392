#include "worker/loader_exec.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>
#include <vector>

#include "common/loader_variables.h"

namespace sofaas::worker {

bool environment_needs_loader() {
    for (char** variable = environ; *variable != nullptr; ++variable) {
        const std::string_view entry = *variable;
        if (is_loader_variable(entry.substr(0, entry.find('=')))) return true;
    }
    return false;
}

std::optional<int> open_own_executable() {
    const int fd = open("/proc/self/exe", O_PATH | O_CLOEXEC);
    if (fd < 0) return std::nullopt;
    return fd;
}

std::string exec_inside_sandbox(int executable, const LibraryFile& library) {
    // The command line as /proc shows it (the daemon's, for a worker of the zygote's).
    std::ifstream file("/proc/self/cmdline", std::ios::binary);
    const std::string joined((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
    std::vector<std::string> arguments;
    for (size_t start = 0; start < joined.size();) {
        const size_t end = joined.find('\0', start);
        arguments.push_back(joined.substr(start, end - start));
        if (end == std::string::npos) break;
        start = end + 1;
    }
    if (arguments.empty()) return "cannot read the worker's own command line";
    arguments.insert(arguments.end(), {"--library-fd", std::to_string(library.fd())});
    std::vector<char*> argv;
    for (std::string& argument : arguments) argv.push_back(argument.data());
    argv.push_back(nullptr);

    if (fcntl(library.fd(), F_SETFD, 0) != 0)
        return std::string("cannot keep the library open across exec: ") + std::strerror(errno);
    execveat(executable, "", argv.data(), environ, AT_EMPTY_PATH);
    return std::string("cannot exec the worker again for its loader variables: ") + std::strerror(errno);
}

}  // namespace sofaas::worker
