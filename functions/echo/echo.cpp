// echo: returns its event byte for byte (binary-safe), handy for measuring overhead.
#include <sofaas/sofaas.hpp>

#include <string>

static sofaas::Response handle(const sofaas::Request& request) {
    return sofaas::Response::success(std::string(request.payload()));
}

SOFAAS_HANDLER(handle)
