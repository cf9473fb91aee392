#include "common/number_text.h"

#include <charconv>
#include <cstdio>

namespace sofaas {

void append_fixed(std::string& out, double value, int decimals) {
    char text[128];
    const auto [end, error] = std::to_chars(text, text + sizeof text, value, std::chars_format::fixed, decimals);
    if (error == std::errc()) {
        out.append(text, end);
        return;
    }
    // Only a huge value (over 10^100) or precision gets here.
    const int length = std::snprintf(nullptr, 0, "%.*f", decimals, value);
    if (length <= 0) return;
    const size_t at = out.size();
    out.resize(at + static_cast<size_t>(length) + 1);
    std::snprintf(out.data() + at, static_cast<size_t>(length) + 1, "%.*f", decimals, value);
    out.pop_back();  // snprintf's '\0'
}

std::string format_fixed(double value, int decimals) {
    std::string text;
    append_fixed(text, value, decimals);
    return text;
}

}  // namespace sofaas
