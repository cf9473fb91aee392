// Requests signed by botocore's own SigV4Auth, shared by the tests of keys/sigv4.h and of
// gateway/auth.h. tests/unit/sigv4_vectors.py signs them and prints them; botocore 1.29
// (Debian 12's) and 1.43 print the same. Key SOFAEXAMPLEKEY234567, signed at
// 2026-12-06T08:30:00Z for the credential scope us-east-1/lambda.
#pragma once

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/time.h"

namespace sofaas::sigv4_vectors {

using namespace std::chrono_literals;
using Headers = std::vector<std::pair<std::string, std::string>>;

inline constexpr std::string_view access_key_id = "SOFAEXAMPLEKEY234567";
inline constexpr std::string_view secret = "wJalrXUtnFEMIK7MDENGbPxRfiCYEXAMPLEKEY00";
inline const WallTime signed_at = WallTime(std::chrono::sys_days(std::chrono::year(2026) / 12 / 6) + 8h + 30min);

inline std::string authorization(std::string_view signed_headers, std::string_view signature) {
    return "AWS4-HMAC-SHA256 Credential=SOFAEXAMPLEKEY234567/20261206/us-east-1/lambda/aws4_request, SignedHeaders=" +
           std::string(signed_headers) + ", Signature=" + std::string(signature);
}

struct TestRequest {
    std::string method;
    std::string target;  // path?query, as sent
    Headers headers;
    std::string body;

    std::string* header(std::string_view name) {
        for (auto& [header_name, value] : headers)
            if (header_name == name) return &value;
        return nullptr;
    }
};

// sigv4_vectors.py, "get".
inline TestRequest signed_get() {
    return {"GET",
            "/v1/functions",
            {{"Host", "127.0.0.1:8080"},
             {"X-Amz-Date", "20261206T083000Z"},
             {"Authorization",
              authorization("host;x-amz-date", "a4f55bc7b0031f378d0c6b96ccb8a52c67d59856149c71db4dcc627b74569552")}},
            ""};
}

// "post_with_query": a function name with ':' (sent as %3A) and $LATEST in the query.
inline TestRequest signed_post() {
    return {"POST",
            "/2015-03-31/functions/hello%3Alive/invocations?Qualifier=%24LATEST",
            {{"Host", "127.0.0.1:8080"},
             {"Content-Type", "application/json"},
             {"X-Custom", "  two   spaces\tand tab  "},
             {"X-Amz-Date", "20261206T083000Z"},
             {"Authorization", authorization("content-type;host;x-amz-date;x-custom",
                                             "cc2ab6feca6011045d6f9f0863118efa538d92b476908ebd7e165b01ef7ac6b3")},
             {"Content-Length", "18"}},
            R"({"name": "sofaas"})"};
}

// A key file (keys/api_keys.h) with one admin key per (access key id, secret).
inline void write_key_file(const std::filesystem::path& file,
                           const std::vector<std::pair<std::string, std::string>>& id_secrets) {
    std::string text = R"({"keys": [)";
    for (size_t i = 0; i < id_secrets.size(); ++i) {
        if (i > 0) text += ",";
        text += R"({"name": "key)" + std::to_string(i) + R"(", "access_key_id": ")" + id_secrets[i].first +
                R"(", "secret_access_key": ")" + id_secrets[i].second +
                R"(", "scope": "admin", "functions": [], "created": "2026-12-01T00:00:00Z"})";
    }
    std::ofstream(file) << text << "]}";
}

}  // namespace sofaas::sigv4_vectors
