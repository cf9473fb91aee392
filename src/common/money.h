// Money as the ledger keeps it: integer pico-dollars (1e-12 USD). Each record's cost is
// rounded once, when it is billed; every sum after that is exact, so a summary equals the
// sum of its records to the last digit, whatever the order they are added in.
#pragma once

#include <cstdint>
#include <string>

#include "common/config.h"

namespace sofaas {

using Pico = unsigned __int128;  // sums of pico-dollars or MB-ms: no overflow at any ledger size

inline constexpr uint64_t pico_per_usd = 1'000'000'000'000;

// Prices no higher than this (USD per GB-second or per request) keep any one record's cost
// within 64 bits; the configuration refuses more.
inline constexpr double max_price_usd = 1000;

// A configured price in dollars, to the nearest pico-dollar.
uint64_t to_pico_usd(double usd);

// The cost of `billed_ms` at `memory_mb`: the per-request price (when `per_request`) plus
// memory_mb × billed_ms / 1,024,000 GB-seconds at the GB-second price, rounded half up.
uint64_t cost_pico_usd(const Prices& prices, uint32_t memory_mb, uint64_t billed_ms, bool per_request);

// Exact decimal text: "0.000000202083" (pico-dollars as dollars), "0.000125" (MB-ms as
// GB-seconds, 1 GB = 1024 MB). No exponent, no rounding, trailing zeros dropped.
std::string usd_text(Pico pico_usd);
std::string gb_seconds_text(Pico mb_ms);

// A sum as a decimal integer: "340282366920938463463374607431768211455" at most.
std::string integer_text(Pico value);

}  // namespace sofaas
