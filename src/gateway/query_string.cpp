#include "gateway/query_string.h"

#include <charconv>

namespace sofaas {
namespace {

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

}  // namespace

SplitTarget split_target(std::string_view target) {
    const size_t question = target.find('?');
    if (question == std::string_view::npos) return {target, {}};
    return {target.substr(0, question), target.substr(question + 1)};
}

std::vector<std::string_view> path_segments(std::string_view path) {
    std::vector<std::string_view> segments;
    segments.reserve(4);  // one allocation for the usual depth, as every request is routed
    while (!path.empty()) {
        const size_t slash = path.find('/');
        const std::string_view segment = path.substr(0, slash);
        if (!segment.empty()) segments.emplace_back(segment);
        if (slash == std::string_view::npos) break;
        path.remove_prefix(slash + 1);
    }
    return segments;
}

std::string percent_decode(std::string_view text, bool plus_is_space) {
    std::string out;
    out.reserve(text.size());
    for (size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (c == '%' && i + 2 < text.size()) {
            const int high = hex_value(text[i + 1]);
            const int low = hex_value(text[i + 2]);
            if (high >= 0 && low >= 0) {
                out += static_cast<char>(high * 16 + low);
                i += 2;
                continue;
            }
        }
        out += (c == '+' && plus_is_space) ? ' ' : c;
    }
    return out;
}

std::vector<std::pair<std::string, std::string>> parse_query(std::string_view query) {
    std::vector<std::pair<std::string, std::string>> params;
    while (!query.empty()) {
        const size_t amp = query.find('&');
        const std::string_view pair = query.substr(0, amp);
        query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
        if (pair.empty()) continue;
        const size_t equals = pair.find('=');
        if (equals == std::string_view::npos) {
            params.emplace_back(percent_decode(pair, true), std::string{});
        } else {
            params.emplace_back(percent_decode(pair.substr(0, equals), true),
                                percent_decode(pair.substr(equals + 1), true));
        }
    }
    return params;
}

}  // namespace sofaas

namespace sofaas {

std::optional<std::string> find_param(const QueryParams& params, std::string_view key) {
    for (const auto& [name, value] : params) {
        if (name == key) return value;
    }
    return std::nullopt;
}

template <typename T>
std::optional<T> parse_unsigned(std::string_view text) {
    T value = 0;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || error != std::errc{} || end != text.data() + text.size()) return std::nullopt;
    return value;
}

template std::optional<uint32_t> parse_unsigned(std::string_view);
template std::optional<uint64_t> parse_unsigned(std::string_view);

}  // namespace sofaas
