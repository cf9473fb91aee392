// How long a browser or a CDN may keep a site's file without asking again. A deploy
// replaces a site at once, so a cached file must never outlive the version it belongs to
// unless its name changes with its content: build tools name such files with a hash of
// it (app.3f2a9c1b.js, chunk-7GXQ2KRT.js), and those may be kept for a year. Everything
// else, index.html above all, is revalidated on each use (a 304 thanks to its ETag).
#pragma once

#include <string_view>

namespace sofaas {

enum class CachePolicy {
    revalidate,  // Cache-Control: no-cache
    immutable,   // Cache-Control: public, max-age=31536000, immutable
};

// By the file's name: a name whose last dot- or dash-separated part before the extension
// is a content hash (8 to 64 letters and digits, at least one a digit, and for a
// hexadecimal hash all of one case) is immutable; HTML never is.
CachePolicy cache_policy_for(std::string_view file_name);
std::string_view cache_control_value(CachePolicy policy);

}  // namespace sofaas
