#include "worker/function_library.h"

#include <dlfcn.h>
#include <elf.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <optional>
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

// dlopen maps a truncated library without complaint: bytes missing from its last page read
// as zeros and whole missing pages raise SIGBUS when touched, at load or in the middle of
// an invocation. The program headers say how many bytes the loader needs: check them.
// Anything not a little-endian ELF64 file is left for dlopen to refuse.
std::optional<std::string> truncation_problem(int fd) {
    struct stat info {};
    Elf64_Ehdr header{};
    if (fstat(fd, &info) != 0 || pread(fd, &header, sizeof header, 0) != static_cast<ssize_t>(sizeof header) ||
        std::memcmp(header.e_ident, ELFMAG, SELFMAG) != 0 || header.e_ident[EI_CLASS] != ELFCLASS64 ||
        header.e_phentsize != sizeof(Elf64_Phdr))
        return std::nullopt;
    const auto file_size = static_cast<uint64_t>(info.st_size);
    auto truncated = [&](uint64_t needed) {
        return "the library is truncated: it needs " + std::to_string(needed) + " bytes, the file has " +
               std::to_string(file_size);
    };
    const uint64_t headers_end = header.e_phoff + uint64_t{header.e_phnum} * sizeof(Elf64_Phdr);
    if (headers_end > file_size) return truncated(headers_end);
    for (uint16_t i = 0; i < header.e_phnum; ++i) {
        Elf64_Phdr segment{};
        if (pread(fd, &segment, sizeof segment, static_cast<off_t>(header.e_phoff + i * sizeof segment)) !=
            static_cast<ssize_t>(sizeof segment))
            return truncated(headers_end);
        if (segment.p_type == PT_LOAD && segment.p_offset + segment.p_filesz > file_size)
            return truncated(segment.p_offset + segment.p_filesz);
    }
    return std::nullopt;
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
    if (auto problem = truncation_problem(file.fd())) return LoadFailure{"Runtime.InvalidLibrary", *problem};
    const std::string loaded_as = "/proc/self/fd/" + std::to_string(file.fd());
    void* library = dlopen(loaded_as.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!library) return LoadFailure{"Runtime.InvalidLibrary", dlopen_error(loaded_as, file.path())};

    auto abi_version = reinterpret_cast<sofaas_abi_version_fn>(
        find_symbol(library, "sofaas_abi_version"));
    if (!abi_version)
        return LoadFailure{"Runtime.InvalidAbi",
                           "the library does not export sofaas_abi_version(); build it "
                           "against include/sofaas/sofaas.h"};
    // A library of an older version reads only the members its version had (sofaas.h, Growth).
    if (const uint32_t version = abi_version(); version < 1 || version > SOFAAS_ABI_VERSION)
        return LoadFailure{"Runtime.InvalidAbi",
                           "the library was built for sofaas ABI version " +
                               std::to_string(version) + ", this runtime speaks versions 1 to " +
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
