#include "sites/byte_range.h"

#include <charconv>
#include <optional>

#include "sites/header_text.h"

namespace sofaas {
namespace {

std::optional<uint64_t> decimal(std::string_view text) {
    if (text.empty() || text.size() > 19) return std::nullopt;
    uint64_t value = 0;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (error != std::errc() || end != text.data() + text.size()) return std::nullopt;
    return value;
}

}  // namespace

RangeRequest parse_range(std::string_view header, uint64_t size) {
    header = trim_blanks(header);
    constexpr std::string_view unit = "bytes=";
    if (!header.starts_with(unit)) return WholeFile{};
    const std::string_view spec = trim_blanks(header.substr(unit.size()));
    if (spec.find(',') != std::string_view::npos) return WholeFile{};
    const size_t dash = spec.find('-');
    if (dash == std::string_view::npos) return WholeFile{};
    const std::string_view from = trim_blanks(spec.substr(0, dash));
    const std::string_view to = trim_blanks(spec.substr(dash + 1));
    if (from.empty()) {  // the last N bytes
        const auto suffix = decimal(to);
        if (!suffix) return WholeFile{};
        if (*suffix == 0 || size == 0) return UnsatisfiableRange{};
        const uint64_t length = *suffix < size ? *suffix : size;
        return ByteRange{size - length, size - 1};
    }
    const auto first = decimal(from);
    if (!first) return WholeFile{};
    uint64_t last = size == 0 ? 0 : size - 1;
    if (!to.empty()) {
        const auto given = decimal(to);
        if (!given || *given < *first) return WholeFile{};
        if (*given < last) last = *given;
    }
    if (*first >= size) return UnsatisfiableRange{};
    return ByteRange{*first, last};
}

}  // namespace sofaas
