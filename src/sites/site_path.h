// The one reading of a path inside a site, for requests and for uploaded names alike: a
// path is a file's place below the site's root or it is refused, never "repaired". What a
// refusal guards against: leaving the root (`..`, also as %2e%2e, or a backslash that some
// other server or a Windows client reads as a separator), a NUL that cuts a name short in
// a system call, and names longer than a filesystem takes.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <variant>

namespace sofaas {

enum class PathRefusal {
    malformed_escape,   // "%" not followed by two hex digits
    nul,                // a NUL byte, raw or %00
    backslash,          // "\", raw or %5c
    dot_segment,        // "." or ".." as a segment
    control_character,  // bytes below 0x20 and DEL
    absolute,           // an uploaded name starting with "/"
    empty_segment,      // an uploaded name with "//", or empty
    too_long,           // over max_site_path_bytes, or a segment over max_site_segment_bytes
};

inline constexpr size_t max_site_path_bytes = 1024;
inline constexpr size_t max_site_segment_bytes = 255;

// "malformed percent-escape", ...: for error messages.
std::string_view describe(PathRefusal refusal);

// A request's path below the site's prefix, still percent-encoded as received ("/",
// "/docs/", "/app.3f2a9c1b.js"), decoded once. `relative` has no leading slash ("" for the
// root); `names_directory` when the path ended in "/" (or was empty). Empty segments ("//")
// are merged, as most servers do.
struct SiteRequestPath {
    std::string relative;
    bool names_directory = false;
};
std::variant<SiteRequestPath, PathRefusal> resolve_request_path(std::string_view raw_path);

// A name in an uploaded archive ("index.html", "assets/app.js"; a trailing "/" of a
// directory entry removed by the caller): taken as is, with no decoding, or refused.
std::variant<std::string, PathRefusal> check_upload_name(std::string_view name);

}  // namespace sofaas
