#include "common/money.h"

#include <cmath>

namespace sofaas {
namespace {

// value / 10^scale in decimal, trailing zeros after the point dropped.
std::string scaled_decimal(Pico value, int scale) {
    std::string digits = integer_text(value);
    if (static_cast<int>(digits.size()) <= scale) digits.insert(0, static_cast<size_t>(scale) + 1 - digits.size(), '0');
    std::string text = digits.substr(0, digits.size() - static_cast<size_t>(scale));
    std::string fraction = digits.substr(digits.size() - static_cast<size_t>(scale));
    while (!fraction.empty() && fraction.back() == '0') fraction.pop_back();
    if (!fraction.empty()) text += '.' + fraction;
    return text;
}

}  // namespace

uint64_t to_pico_usd(double usd) {
    if (!(usd > 0)) return 0;
    return static_cast<uint64_t>(std::llround(std::min(usd, max_price_usd) * static_cast<double>(pico_per_usd)));
}

uint64_t cost_pico_usd(const Prices& prices, uint32_t memory_mb, uint64_t billed_ms, bool per_request) {
    constexpr Pico mb_ms_per_gb_second = 1024 * 1000;
    const Pico memory = static_cast<Pico>(memory_mb) * billed_ms * to_pico_usd(prices.per_gb_second);
    const Pico rounded = (memory + mb_ms_per_gb_second / 2) / mb_ms_per_gb_second;
    const Pico cost = rounded + (per_request ? to_pico_usd(prices.per_request) : 0);
    return cost > UINT64_MAX ? UINT64_MAX : static_cast<uint64_t>(cost);
}

std::string integer_text(Pico value) {
    if (value == 0) return "0";
    std::string text;
    while (value > 0) {
        text.insert(text.begin(), static_cast<char>('0' + static_cast<int>(value % 10)));
        value /= 10;
    }
    return text;
}

std::string usd_text(Pico pico_usd) { return scaled_decimal(pico_usd, 12); }

// 1 / 1,024,000 = 9,765,625 / 10^13: a GB-second count is always an exact 13-decimal number.
std::string gb_seconds_text(Pico mb_ms) { return scaled_decimal(mb_ms * 9'765'625, 13); }

}  // namespace sofaas
