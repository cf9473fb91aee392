#include "common/request_id.h"

#include <cstdint>
#include <cstdio>
#include <random>

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
    char text[37];
    std::snprintf(text, sizeof text, "%08x-%04x-%04x-%04x-%012llx", static_cast<unsigned>(high >> 32),
                  static_cast<unsigned>((high >> 16) & 0xFFFF), static_cast<unsigned>(high & 0xFFFF),
                  static_cast<unsigned>(low >> 48), static_cast<unsigned long long>(low & 0xFFFFFFFFFFFFULL));
    return text;
}

}  // namespace sofaas
