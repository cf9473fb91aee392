#include "common/request_id.h"

#include <cstdint>
#include <random>
#include <string>

namespace sofaas {

std::string new_request_id() {
    // One engine per thread: no lock on the hot path, and each is seeded independently.
    thread_local std::mt19937_64 engine{[] {
        std::random_device device;
        std::seed_seq seed{device(), device(), device(), device()};
        return std::mt19937_64(seed);
    }()};
    uint64_t high = engine();
    uint64_t low = engine();
    high = (high & ~0xF000ULL) | 0x4000ULL;                     // version 4
    low = (low & ~(0xC000ULL << 48)) | (0x8000ULL << 48);       // RFC 4122 variant
    // 8-4-4-4-12 hex digits: the 128 bits in order, dashes between the groups.
    static constexpr char hex[] = "0123456789abcdef";
    std::string text(36, '-');
    size_t at = 0;
    const auto put = [&](uint64_t bits, int digits) {
        for (int shift = (digits - 1) * 4; shift >= 0; shift -= 4) text[at++] = hex[(bits >> shift) & 0xF];
    };
    put(high >> 32, 8);
    ++at;
    put(high >> 16, 4);
    ++at;
    put(high, 4);
    ++at;
    put(low >> 48, 4);
    ++at;
    put(low, 12);
    return text;
}

}  // namespace sofaas
