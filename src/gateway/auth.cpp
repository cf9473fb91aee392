#include "gateway/auth.h"

namespace sofaas {
namespace {

bool constant_time_equals(std::string_view given, std::string_view expected) {
    // Every byte of `expected` is visited whatever `given` holds: no early exit.
    unsigned difference = given.size() == expected.size() ? 0 : 1;
    for (size_t i = 0; i < expected.size(); ++i) {
        const unsigned char g = i < given.size() ? static_cast<unsigned char>(given[i]) : 0;
        difference |= g ^ static_cast<unsigned char>(expected[i]);
    }
    return difference == 0;
}

}  // namespace

bool has_admin_token(const IncomingRequest& request, std::string_view admin_token) {
    if (admin_token.empty()) return false;
    const auto authorization = request.header("Authorization");
    if (!authorization) return false;
    constexpr std::string_view scheme = "Bearer ";
    if (authorization->size() < scheme.size() || !iequals(authorization->substr(0, scheme.size()), scheme)) {
        return false;
    }
    std::string_view token = authorization->substr(scheme.size());
    while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
    while (!token.empty() && token.back() == ' ') token.remove_suffix(1);
    return constant_time_equals(token, admin_token);
}

}  // namespace sofaas
