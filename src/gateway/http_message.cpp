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

bool is_valid_header(std::string_view name, std::string_view value) {
    constexpr std::string_view token_symbols = "!#$%&'*+-.^_`|~";
    const bool name_ok = !name.empty() && std::ranges::all_of(name, [&](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               token_symbols.find(c) != std::string_view::npos;
    });
    // obs-text (bytes 0x80 and up) stays allowed, as RFC 9110 allows it.
    const bool value_ok =
        std::ranges::none_of(value, [](unsigned char c) { return (c < 0x20 && c != '\t') || c == 0x7f; });
    return name_ok && value_ok;
}

bool is_platform_header(std::string_view name) {
    constexpr std::string_view prefix = "X-Sofaas-";
    return name.size() >= prefix.size() && iequals(name.substr(0, prefix.size()), prefix);
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
