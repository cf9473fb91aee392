// A JSON answer built as a document, for the handlers whose strings hold a function's
// bytes (payloads, error messages): invalid UTF-8 becomes U+FFFD instead of an exception.
#pragma once

#include <nlohmann/json.hpp>

#include "gateway/responses.h"

namespace sofaas {

inline HttpResponseParts json_of(const nlohmann::ordered_json& body, int status = 200) {
    return json_response(status, body.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace));
}

}  // namespace sofaas
