#include "sites/content_coding.h"

#include <optional>

#include "sites/header_text.h"

namespace sofaas {
namespace {

// "q=0", "q=0.0", "q=0.000": the client refuses it. Anything else readable admits it.
bool is_zero_weight(std::string_view parameters) {
    while (!parameters.empty()) {
        const size_t semicolon = parameters.find(';');
        const std::string_view parameter = trim_blanks(parameters.substr(0, semicolon));
        parameters = semicolon == std::string_view::npos ? std::string_view() : parameters.substr(semicolon + 1);
        if (parameter.size() < 2 || (parameter[0] != 'q' && parameter[0] != 'Q') || parameter[1] != '=') continue;
        const std::string_view value = trim_blanks(parameter.substr(2));
        if (value.empty() || value[0] != '0') return false;
        for (const char c : value.substr(1)) {
            if (c != '.' && c != '0') return false;
        }
        return true;
    }
    return false;
}

}  // namespace

std::string_view coding_name(ContentCoding coding) {
    switch (coding) {
        case ContentCoding::gzip: return "gzip";
        case ContentCoding::br: return "br";
        case ContentCoding::identity: return "identity";
    }
    return "identity";
}

bool accepts_coding(std::string_view accept_encoding, ContentCoding coding) {
    const std::string_view wanted = coding_name(coding);
    std::optional<bool> by_name, by_star;
    while (!accept_encoding.empty()) {
        const size_t comma = accept_encoding.find(',');
        const std::string_view element = accept_encoding.substr(0, comma);
        accept_encoding = comma == std::string_view::npos ? std::string_view() : accept_encoding.substr(comma + 1);
        const size_t semicolon = element.find(';');
        const std::string_view name = trim_blanks(element.substr(0, semicolon));
        const bool admitted =
            !is_zero_weight(semicolon == std::string_view::npos ? std::string_view() : element.substr(semicolon + 1));
        if (same_ignoring_case(name, wanted) || (coding == ContentCoding::gzip && same_ignoring_case(name, "x-gzip"))) {
            by_name = admitted;
        } else if (name == "*") {
            by_star = admitted;
        }
    }
    if (by_name) return *by_name;
    return by_star.value_or(false);
}

}  // namespace sofaas
