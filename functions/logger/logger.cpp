// logger: the three ways a function can log. Everything lands in the function's log
// (`sofaas logs logger`), each line tagged with its stream and the request id.
#include <sofaas/sofaas.hpp>

#include <cstdio>
#include <string>

static sofaas::Response handle(const sofaas::Request& request) {
    std::printf("stdout line from printf (event %zu bytes)\n", request.payload().size());
    std::fprintf(stderr, "stderr line from fprintf\n");
    request.log("line from the context log, request " + std::string(request.request_id()));
    return sofaas::Response::success("logged");
}

SOFAAS_HANDLER(handle)
