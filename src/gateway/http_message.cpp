#include "gateway/http_message.h"

#include <algorithm>
#include <cctype>

#include "gateway/query_string.h"

namespace sofaas {

bool iequals(std::string_view a, std::string_view b) {
    return std::ranges::equal(a, b, [](char x, char y) {
        return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
    });
}

std::string_view IncomingRequest::path() const { return split_target(target).path; }

std::string_view IncomingRequest::query() const { return split_target(target).query; }

std::optional<std::string_view> IncomingRequest::header(std::string_view name) const {
    for (const auto& [key, value] : headers) {
        if (iequals(key, name)) return value;
    }
    return std::nullopt;
}

std::vector<std::string_view> IncomingRequest::header_values(std::string_view name) const {
    std::vector<std::string_view> values;
    for (const auto& [key, value] : headers) {
        if (iequals(key, name)) values.push_back(value);
    }
    return values;
}

}  // namespace sofaas
