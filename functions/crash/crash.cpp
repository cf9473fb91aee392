// crash: dies of a segmentation fault, to show that one bad function takes down only its
// own execution environment. The invocation fails with Runtime.ExitError (SIGSEGV).
#include <sofaas/sofaas.hpp>

static sofaas::Response handle(const sofaas::Request&) {
    // Both volatiles are needed: the pointer's, so the compiler cannot see it is null, and
    // the pointee's, so the store cannot be dropped (an optimised build did drop it).
    volatile int* volatile nowhere = nullptr;
    *nowhere = 42;
    return sofaas::Response::success("unreachable");
}

SOFAAS_HANDLER(handle)
