// whoami: answers with who called it, as sofaasd authenticated them (the API key, or a role
// session's temporary key with its role and signed-in user; a schedule's id for a firing),
// in JSON. The function the web app (examples/webapp) calls with a user's credentials.
#include <sofaas/sofaas.hpp>

#include <string>

#include <nlohmann/json.hpp>

static sofaas::Response handle(const sofaas::Request& request) {
    const sofaas::Caller caller = request.caller();
    const nlohmann::json answer = {
        {"function", request.function_name()},
        {"version", request.function_version()},
        {"request_id", request.request_id()},
        {"caller",
         {{"key_id", caller.key_id}, {"role", caller.role}, {"user_sub", caller.user_sub}, {"schedule", caller.schedule}}},
    };
    return sofaas::Response::success(answer.dump());
}

SOFAAS_HANDLER(handle)
