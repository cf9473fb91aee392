// curl as a user runs it, for tests that check what an ordinary HTTP client sees: the
// status, the headers and the raw body (never decompressed) of one request.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "cli/http_client.h"

namespace sofaas::testing {

struct CurlAnswer {
    int status = 0;
    HttpHeaders headers;
    std::string body;
    std::string header(std::string_view name) const;  // case-insensitive; "" when absent
    // Whether any header's name starts with `prefix`, in any case.
    bool has_header_starting(std::string_view prefix) const;
};

// /usr/bin/curl -sS --path-as-is OPTIONS... URL. A failure of curl itself fails the test.
CurlAnswer curl(const std::string& url, const std::vector<std::string>& options = {});

}  // namespace sofaas::testing
