#include "cli/exit_code.h"

#include "cli/http_client.h"

namespace sofaas::cli {

ExitCode exit_code_for(const HttpResponse& response) {
    // The status alone decides: sofaasd answers a function's own failure with 502 and its
    // timeout with 504 (Lambda's conventions), and nothing else of /v1 uses either.
    switch (response.status) {
        case 401:
        case 403: return ExitCode::unauthorized;
        case 404: return ExitCode::not_found;
        case 429: return ExitCode::throttled;
        case 502: return ExitCode::function_error;
        case 503: return ExitCode::unavailable;
        case 504: return ExitCode::timeout;
        default: break;
    }
    return response.status >= 200 && response.status <= 299 ? ExitCode::ok : ExitCode::failure;
}

std::string exit_codes_help() {
    return "  0  success\n"
           "  1  failure of another kind (a setting or request sofaasd refused, a file not readable)\n"
           "  2  usage mistake (unknown command or option, missing or malformed argument)\n"
           "  3  not found (function, version, alias, key, schedule, dead letter)\n"
           "  4  no token, or a token that is refused or may not do this\n"
           "  5  sofaasd unreachable\n"
           "  6  invoke: the function failed (error, crash, out of memory, invalid response)\n"
           "  7  invoke: the function timed out\n"
           "  8  throttled: too many invocations or queued events, retry later\n"
           "  9  sofaasd unavailable: it cannot record billing or store events now, retry later\n";
}

}  // namespace sofaas::cli
