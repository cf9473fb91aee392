#include "worker/function_library.h"

#include <dlfcn.h>
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

namespace sofaas::worker {
namespace {

// dlopen's messages name the path it was given, /proc/self/fd/N: name the library instead.
std::string dlopen_error(const std::string& loaded_as, const std::string& path) {
    const char* reason = dlerror();
    std::string message = reason ? reason : "unknown dlopen error";
    if (const size_t at = message.find(loaded_as); at != std::string::npos)
        message.replace(at, loaded_as.size(), path);
    return "cannot load the library: " + message;
}

void* find_symbol(void* library, const std::string& name) {
    dlerror();  // a previous failure must not be mistaken for this one
    return dlsym(library, name.c_str());
}

}  // namespace

LibraryFile::LibraryFile(LibraryFile&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)), path_(std::move(other.path_)) {}

LibraryFile::~LibraryFile() {
    if (fd_ >= 0) close(fd_);
}

std::variant<LibraryFile, LoadFailure> open_library(const std::string& path) {
    const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return LoadFailure{"Runtime.InvalidLibrary",
                           "cannot load the library: " + path + ": " + std::strerror(errno)};
    return LibraryFile(fd, path);
}

std::variant<FunctionLibrary, LoadFailure> load_function(const LibraryFile& file,
                                                         const std::string& handler_symbol) {
    // Through the descriptor opened before the worker dropped its privileges.
    // RTLD_NOW: a missing symbol fails here, at deploy, not in the middle of an invocation.
    // RTLD_LOCAL: the function's symbols never interpose on the runtime's.
    const std::string loaded_as = "/proc/self/fd/" + std::to_string(file.fd());
    void* library = dlopen(loaded_as.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!library) return LoadFailure{"Runtime.InvalidLibrary", dlopen_error(loaded_as, file.path())};

    auto abi_version = reinterpret_cast<sofaas_abi_version_fn>(
        find_symbol(library, "sofaas_abi_version"));
    if (!abi_version)
        return LoadFailure{"Runtime.InvalidAbi",
                           "the library does not export sofaas_abi_version(); build it "
                           "against include/sofaas/sofaas.h"};
    if (const uint32_t version = abi_version(); version != SOFAAS_ABI_VERSION)
        return LoadFailure{"Runtime.InvalidAbi",
                           "the library was built for sofaas ABI version " +
                               std::to_string(version) + ", this runtime speaks version " +
                               std::to_string(SOFAAS_ABI_VERSION)};

    FunctionLibrary function;
    function.handler = reinterpret_cast<sofaas_handler_fn>(find_symbol(library, handler_symbol));
    if (!function.handler)
        return LoadFailure{"Runtime.HandlerNotFound",
                           "the library does not export the handler '" + handler_symbol + "'"};
    function.init = reinterpret_cast<sofaas_init_fn>(find_symbol(library, "sofaas_init"));
    return function;
}

}  // namespace sofaas::worker
