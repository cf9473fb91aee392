// hello: the smallest C++ function. The event is a name; the output is a greeting.
//
//   $ sofaas invoke hello --data sofaas
//   Hello, sofaas!
#include <sofaas/sofaas.hpp>

#include <string>

static sofaas::Response handle(const sofaas::Request& request) {
    std::string name(request.payload());
    if (name.empty()) name = "world";
    return sofaas::Response::success("Hello, " + name + "!");
}

SOFAAS_HANDLER(handle)
