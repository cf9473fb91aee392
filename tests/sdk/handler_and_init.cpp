// Every part of the C++ SDK a function uses: compiled by tests/sdk/CMakeLists.txt under
// several standards and with exceptions and RTTI on and off.
#include <sofaas/sofaas.hpp>

#include <string>

static std::string prefix;

static sofaas::InitResult init(const sofaas::InitContext& context) {
    context.log("init");
    if (context.memory_limit_mb() < 64) return sofaas::InitResult::failure("needs 64 MB");
    prefix = std::string(context.function_name()) + " " + std::to_string(context.function_version()) + ": ";
    return sofaas::InitResult::ok();
}

static sofaas::Response handle(const sofaas::Request& request) {
    if (request.payload().empty()) return sofaas::Response::failure("send something", "InvalidInput");
    if (request.get_time_remaining().count() < 10) return sofaas::Response::failure("no time left");
    request.log(request.request_id());
    if (!request.caller().user_sub.empty()) request.log(request.caller().user_sub);
    return sofaas::Response::success(prefix + std::string(request.payload()));
}

SOFAAS_INIT(init)
SOFAAS_HANDLER(handle)
