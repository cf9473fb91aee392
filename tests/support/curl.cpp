#include "support/curl.h"

#include <sstream>

#include <gtest/gtest.h>

#include "support/process.h"
#include "support/temp_dir.h"
#include "support/test_data.h"

namespace sofaas::testing {
namespace {

bool same_ignoring_case(std::string_view a, std::string_view b) {
    return a.size() == b.size() &&
           std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) { return std::tolower(x) == std::tolower(y); });
}

}  // namespace

std::string CurlAnswer::header(std::string_view name) const {
    for (const auto& [key, value] : headers) {
        if (same_ignoring_case(key, name)) return value;
    }
    return "";
}

bool CurlAnswer::has_header_starting(std::string_view prefix) const {
    for (const auto& [key, value] : headers) {
        if (key.size() >= prefix.size() && same_ignoring_case(std::string_view(key).substr(0, prefix.size()), prefix)) {
            return true;
        }
    }
    return false;
}

CurlAnswer curl(const std::string& url, const std::vector<std::string>& options) {
    TempDir scratch("sofaas-curl");
    std::vector<std::string> args = {"-sS", "--path-as-is", "-D", (scratch / "head").string(), "-o",
                                     (scratch / "body").string()};
    args.insert(args.end(), options.begin(), options.end());
    args.push_back(url);
    const ProcessResult run = run_process("/usr/bin/curl", args);
    EXPECT_EQ(run.exit_code, 0) << run;
    CurlAnswer answer;
    answer.body = file_text(scratch / "body");
    std::istringstream head(file_text(scratch / "head"));
    std::string line;
    while (std::getline(head, line)) {
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (line.starts_with("HTTP/")) {
            answer.status = std::stoi(line.substr(line.find(' ') + 1, 3));
            answer.headers.clear();  // the last head counts (after a 100 Continue)
        } else if (const size_t colon = line.find(':'); colon != std::string::npos) {
            const size_t value = line.find_first_not_of(' ', colon + 1);
            answer.headers.emplace_back(line.substr(0, colon), value == std::string::npos ? "" : line.substr(value));
        }
    }
    return answer;
}

}  // namespace sofaas::testing
