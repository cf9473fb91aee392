// The exit codes of sofaas: one per kind of failure a script may want to tell apart, and
// the one place an answer of sofaasd is mapped to one.
#pragma once

#include <string>

namespace sofaas {
struct HttpResponse;
}

namespace sofaas::cli {

enum class ExitCode {
    ok = 0,
    failure = 1,         // anything below does not cover: a refused setting, a conflict, a 500
    usage = 2,           // unknown command or option, missing or malformed argument
    not_found = 3,       // no such function, version, alias, key, schedule or dead letter (404)
    unauthorized = 4,    // no token, or one sofaasd refuses (401) or that may not do this (403)
    unreachable = 5,     // no answer from sofaasd at the endpoint
    function_error = 6,  // invoke: the function failed (its error, a crash, out of memory, a bad response)
    timeout = 7,         // invoke: the function ran out of time (504)
    throttled = 8,       // too many invocations or queued events at once (429): retry later
    unavailable = 9,     // sofaasd cannot record billing or store events now (503): retry later
};

// The exit code for a non-2xx answer of the control API.
ExitCode exit_code_for(const HttpResponse& response);

// The table of exit codes, for --help: "  0  success\n  1  ...".
std::string exit_codes_help();

}  // namespace sofaas::cli
