#include "sites/site_path.h"

#include <optional>

namespace sofaas {
namespace {

int hex_digit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// The refusal for one byte of a decoded name, or nullopt when it may stand in one.
std::optional<PathRefusal> refused_byte(unsigned char c) {
    if (c == '\0') return PathRefusal::nul;
    if (c == '\\') return PathRefusal::backslash;
    if (c < 0x20 || c == 0x7f) return PathRefusal::control_character;
    return std::nullopt;
}

std::optional<PathRefusal> refused_segment(std::string_view segment) {
    if (segment == "." || segment == "..") return PathRefusal::dot_segment;
    if (segment.size() > max_site_segment_bytes) return PathRefusal::too_long;
    return std::nullopt;
}

}  // namespace

std::string_view describe(PathRefusal refusal) {
    switch (refusal) {
        case PathRefusal::malformed_escape: return "a malformed percent-escape";
        case PathRefusal::nul: return "a NUL byte";
        case PathRefusal::backslash: return "a backslash";
        case PathRefusal::dot_segment: return "a '.' or '..' segment";
        case PathRefusal::control_character: return "a control character";
        case PathRefusal::absolute: return "an absolute path";
        case PathRefusal::empty_segment: return "an empty segment";
        case PathRefusal::too_long: return "a name too long";
    }
    return "an unreadable path";
}

std::variant<SiteRequestPath, PathRefusal> resolve_request_path(std::string_view raw_path) {
    std::string decoded;
    decoded.reserve(raw_path.size());
    for (size_t i = 0; i < raw_path.size(); ++i) {
        char c = raw_path[i];
        if (c == '%') {
            if (i + 2 >= raw_path.size()) return PathRefusal::malformed_escape;
            const int high = hex_digit(raw_path[i + 1]);
            const int low = hex_digit(raw_path[i + 2]);
            if (high < 0 || low < 0) return PathRefusal::malformed_escape;
            c = static_cast<char>(high * 16 + low);
            i += 2;
        }
        if (const auto refusal = refused_byte(static_cast<unsigned char>(c))) return *refusal;
        decoded += c;
    }
    if (decoded.size() > max_site_path_bytes) return PathRefusal::too_long;

    SiteRequestPath path;
    path.names_directory = decoded.empty() || decoded.back() == '/';
    std::string_view rest = decoded;
    while (!rest.empty()) {
        const size_t slash = rest.find('/');
        const std::string_view segment = rest.substr(0, slash);
        rest = slash == std::string_view::npos ? std::string_view() : rest.substr(slash + 1);
        if (segment.empty()) continue;
        if (const auto refusal = refused_segment(segment)) return *refusal;
        if (!path.relative.empty()) path.relative += '/';
        path.relative += segment;
    }
    return path;
}

std::variant<std::string, PathRefusal> check_upload_name(std::string_view name) {
    if (name.empty()) return PathRefusal::empty_segment;
    if (name.front() == '/') return PathRefusal::absolute;
    if (name.size() > max_site_path_bytes) return PathRefusal::too_long;
    for (const char c : name) {
        if (const auto refusal = refused_byte(static_cast<unsigned char>(c))) return *refusal;
    }
    std::string_view rest = name;
    while (true) {
        const size_t slash = rest.find('/');
        const std::string_view segment = rest.substr(0, slash);
        if (segment.empty()) return PathRefusal::empty_segment;
        if (const auto refusal = refused_segment(segment)) return *refusal;
        if (slash == std::string_view::npos) break;
        rest = rest.substr(slash + 1);
    }
    return std::string(name);
}

}  // namespace sofaas
