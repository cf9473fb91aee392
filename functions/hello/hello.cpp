// hello: the smallest C++ function. A direct invoke's event is a name; the output is a
// greeting.
//
//   $ sofaas invoke hello --data sofaas
//   Hello, sofaas!
//
// Called over HTTP (/fn/hello), the event is the request as Lambda's HTTP API v2 JSON
// (see functions/http-api for a function that reads it); hello then greets the world.
#include <sofaas/sofaas.hpp>

#include <string>
#include <string_view>

static bool is_http_event(std::string_view event) {
    return event.starts_with("{\"version\":\"2.0\"");
}

static sofaas::Response handle(const sofaas::Request& request) {
    std::string_view name = request.payload();
    if (name.empty() || is_http_event(name)) name = "world";
    return sofaas::Response::success("Hello, " + std::string(name) + "!");
}

SOFAAS_HANDLER(handle)
