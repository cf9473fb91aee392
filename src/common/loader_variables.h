// Environment variables the dynamic loader and libc act on when a program starts:
// LD_PRELOAD, LD_LIBRARY_PATH, LD_AUDIT and the other LD_* (code loaded before main),
// GLIBC_TUNABLES and the MALLOC_* tunables. A deploy that sets one is refused unless the
// daemon allows them (`allow_loader_environment`, registry/deploy_settings.h); an allowed
// one takes effect only once the worker has entered its sandbox (worker/loader_exec.h).
// Header-only: sofaas-worker links none of sofaas_common.
#pragma once

#include <array>
#include <string_view>

namespace sofaas {

inline constexpr std::array<std::string_view, 3> loader_variable_prefixes = {"LD_", "GLIBC_", "MALLOC_"};

inline bool is_loader_variable(std::string_view name) {
    for (const std::string_view prefix : loader_variable_prefixes)
        if (name.starts_with(prefix)) return true;
    return false;
}

}  // namespace sofaas
