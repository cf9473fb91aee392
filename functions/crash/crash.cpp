// crash: dies of a segmentation fault, to show that one bad function takes down only its
// own execution environment. The invocation fails with Runtime.ExitError (SIGSEGV).
#include <sofaas/sofaas.hpp>

static sofaas::Response handle(const sofaas::Request&) {
    // volatile: the compiler may neither assume the pointer is null nor drop the store.
    int* volatile nowhere = nullptr;
    *nowhere = 42;
    return sofaas::Response::success("unreachable");
}

SOFAAS_HANDLER(handle)
