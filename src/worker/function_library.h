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

// dlopens `path` for the life of the process (it is never closed) and checks its ABI
// version and handler symbol.
std::variant<FunctionLibrary, LoadFailure> load_function(const std::string& path,
                                                         const std::string& handler_symbol);

}  // namespace sofaas::worker
