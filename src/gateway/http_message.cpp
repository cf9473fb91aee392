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

bool is_safe_header(std::string_view name, std::string_view value) {
    if (name.empty()) return false;
    const bool name_ok = std::ranges::all_of(name, [](unsigned char c) {
        return c > 32 && c < 127 && c != ':' && c != '(' && c != ')' && c != ',' && c != ';';
    });
    const bool value_ok = std::ranges::none_of(value, [](char c) { return c == '\r' || c == '\n' || c == '\0'; });
    return name_ok && value_ok;
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
