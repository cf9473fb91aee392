// Loading a function's .so and finding its entry points: the first half of a cold start.
#pragma once

#include <sofaas/sofaas.h>

#include <string>
#include <variant>

namespace sofaas::worker {

struct FunctionLibrary {
    sofaas_handler_fn handler = nullptr;
    sofaas_init_fn init = nullptr;  // optional export
};

// Why a library cannot serve: Ready.error_type / error_message.
struct LoadFailure {
    std::string error_type;  // Runtime.InvalidLibrary | Runtime.InvalidAbi | Runtime.HandlerNotFound
    std::string error_message;
};

// The library file, opened while the worker still has the daemon's privileges: the data
// directory need not be readable by the user functions run as. Closed once loaded.
class LibraryFile {
public:
    LibraryFile(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
    LibraryFile(LibraryFile&& other) noexcept;
    LibraryFile& operator=(LibraryFile&&) = delete;
    ~LibraryFile();

    int fd() const { return fd_; }
    const std::string& path() const { return path_; }

private:
    int fd_;
    std::string path_;
};

std::variant<LibraryFile, LoadFailure> open_library(const std::string& path);

// dlopens the library for the life of the process (it is never closed) and checks its ABI
// version and handler symbol. The library's constructors run here.
std::variant<FunctionLibrary, LoadFailure> load_function(const LibraryFile& file,
                                                         const std::string& handler_symbol);

}  // namespace sofaas::worker
