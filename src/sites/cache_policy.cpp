#include "sites/cache_policy.h"

namespace sofaas {
namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_lower(char c) { return c >= 'a' && c <= 'z'; }
bool is_upper(char c) { return c >= 'A' && c <= 'Z'; }

// "3f2a9c1b", "7GXQ2KRT": what hashing build tools put in names. A word ("component"),
// a version ("3", "min") or a size ("32x32") is none: too short, or no digit. Mixed case
// is refused too, as no hash encoding tools use mixes them and words in camelCase do.
bool looks_like_hash(std::string_view part) {
    if (part.size() < 8 || part.size() > 64) return false;
    bool digit = false, lower = false, upper = false;
    for (const char c : part) {
        if (is_digit(c)) digit = true;
        else if (is_lower(c)) lower = true;
        else if (is_upper(c)) upper = true;
        else return false;
    }
    return digit && !(lower && upper);
}

}  // namespace

CachePolicy cache_policy_for(std::string_view file_name) {
    const size_t slash = file_name.rfind('/');
    std::string_view base = slash == std::string_view::npos ? file_name : file_name.substr(slash + 1);
    const size_t dot = base.rfind('.');
    if (dot == std::string_view::npos || dot == 0) return CachePolicy::revalidate;
    const std::string_view extension = base.substr(dot + 1);
    if (extension == "html" || extension == "htm") return CachePolicy::revalidate;
    const std::string_view stem = base.substr(0, dot);
    const size_t separator = stem.find_last_of(".-");
    if (separator == std::string_view::npos) return CachePolicy::revalidate;
    return looks_like_hash(stem.substr(separator + 1)) ? CachePolicy::immutable : CachePolicy::revalidate;
}

std::string_view cache_control_value(CachePolicy policy) {
    switch (policy) {
        case CachePolicy::immutable: return "public, max-age=31536000, immutable";
        case CachePolicy::revalidate: return "no-cache";
    }
    return "no-cache";
}

}  // namespace sofaas
