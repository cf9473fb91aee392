#include "metrics/histogram.h"

#include <algorithm>
#include <numeric>
#include <stdexcept>

namespace sofaas {

Histogram::Histogram(std::span<const double> bounds) : bounds_(bounds), counts_(bounds.size() + 1, 0) {}

void Histogram::observe(double value) {
    // Prometheus buckets are "less than or equal": a value on a bound counts in that bucket.
    const auto bucket = std::lower_bound(bounds_.begin(), bounds_.end(), value) - bounds_.begin();
    ++counts_[static_cast<size_t>(bucket)];
    sum_ += value;
    ++count_;
}

void Histogram::set(std::vector<uint64_t> counts, double sum) {
    if (counts.size() != bounds_.size() + 1) throw std::invalid_argument("histogram: one count per bucket and +Inf");
    counts_ = std::move(counts);
    sum_ = sum;
    count_ = std::accumulate(counts_.begin(), counts_.end(), uint64_t{0});
}

}  // namespace sofaas
