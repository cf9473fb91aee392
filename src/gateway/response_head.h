// The bytes before a response's body: status line, header lines, blank line. Formatted
// here rather than by Beast's serializer, which cost more than a tenth of the daemon's CPU
// per warm call; the server writes this head and the body in one gathered write.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "gateway/http_event.h"

namespace sofaas {

struct ResponseFraming {
    unsigned http_version = 11;  // the request's, as 10 * major + minor: 10 for HTTP/1.0
    bool keep_alive = true;      // whether the server reads another request after this one
    // A streamed body (HttpResponseParts::stream): no Content-Length; chunked in HTTP/1.1,
    // ended by closing the connection in HTTP/1.0.
    bool streamed = false;
    // Set: the body's length, said as Content-Length whatever response.body holds (a file
    // streamed in pieces, or its HEAD).
    std::optional<uint64_t> content_length;
};

// Appends to `out` (cleared by the caller, and reused so a connection does not allocate
// per response). The head says Content-Length: response.body.size() whether or not the
// body follows (for HEAD it does not), except for 204 and 304, which have no body. The function's own framing headers (Content-Length,
// Transfer-Encoding, Connection, Keep-Alive), Server and X-Sofaas-Request-Id are replaced
// by the server's; a header with CR, LF or NUL in it is dropped, so no header can split the
// response. Throws std::invalid_argument for a status outside 100..999.
void append_response_head(std::string& out, const HttpResponseParts& response, std::string_view request_id,
                          ResponseFraming framing);

// False for the statuses that never carry a body (204 No Content, 304 Not Modified): the
// server sends neither a body nor a Content-Length with them.
bool has_body(int status);

// "HTTP/1.1 100 Continue" and the blank line: the interim answer to Expect: 100-continue.
void append_continue_head(std::string& out, unsigned http_version);

}  // namespace sofaas
