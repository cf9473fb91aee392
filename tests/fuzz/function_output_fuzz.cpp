// The output-to-HTTP-response mapping (gateway/http_event.h map_function_output): any
// bytes a function returns. Properties: never an exception, either an invalid response with
// its reason or a status the HTTP layer can send, only valid HTTP headers and none of the
// platform's, and a written head (gateway/response_head.h) whose only blank line is its end.
#include <string>
#include <string_view>
#include <variant>

#include "fuzz_input.h"
#include "gateway/http_event.h"
#include "gateway/http_message.h"
#include "gateway/response_head.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    using namespace sofaas;
    const auto mapped = map_function_output(std::string(reinterpret_cast<const char*>(data), size));
    if (const auto* invalid = std::get_if<InvalidResponse>(&mapped)) {
        fuzz::check(!invalid->why.empty(), "an invalid response says why");
        return 0;
    }
    const HttpResponseParts& response = std::get<FunctionResponse>(mapped).response;
    fuzz::check(response.status >= 200 && response.status <= 599, "the status is a final HTTP status");
    for (const auto& [name, value] : response.headers) {
        fuzz::check(is_valid_header(name, value), "only valid HTTP headers");
        fuzz::check(!is_platform_header(name), "none of the platform's headers");
        for (const std::string_view text : {std::string_view(name), std::string_view(value)})
            fuzz::check(text.find_first_of(std::string_view("\r\n\0", 3)) == std::string_view::npos,
                        "no CR, LF or NUL in a header");
    }
    std::string head;
    append_response_head(head, response, "request-id", ResponseFraming{});
    fuzz::check(head.find("\r\n\r\n") == head.size() - 4, "the head ends at its only blank line");
    return 0;
}
