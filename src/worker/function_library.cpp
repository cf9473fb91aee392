#include "worker/function_library.h"

#include <dlfcn.h>

namespace sofaas::worker {
namespace {

void* find_symbol(void* library, const std::string& name) {
    dlerror();  // a previous failure must not be mistaken for this one
    return dlsym(library, name.c_str());
}

}  // namespace

std::variant<FunctionLibrary, LoadFailure> load_function(const std::string& path,
                                                         const std::string& handler_symbol) {
    // RTLD_NOW: a missing symbol fails here, at deploy, not in the middle of an invocation.
    // RTLD_LOCAL: the function's symbols never interpose on the runtime's.
    void* library = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!library) {
        const char* reason = dlerror();
        return LoadFailure{"Runtime.InvalidLibrary",
                           std::string("cannot load the library: ") +
                               (reason ? reason : "unknown dlopen error")};
    }

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
