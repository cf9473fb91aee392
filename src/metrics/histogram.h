// A Prometheus histogram: counts of observations per bucket (upper bounds, in the metric's
// unit), their sum and their number. Not thread-safe: its owner guards it.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace sofaas {

class Histogram {
public:
    // `bounds`: increasing upper bounds, not including +Inf; static storage (the histogram
    // keeps the span).
    explicit Histogram(std::span<const double> bounds);

    void observe(double value);

    std::span<const double> bounds() const { return bounds_; }
    // Observations in each bucket alone (not cumulative): bounds().size() + 1 entries, the
    // last one those above every bound.
    const std::vector<uint64_t>& counts() const { return counts_; }
    double sum() const { return sum_; }
    uint64_t count() const { return count_; }

    // For histograms kept elsewhere in another shape (the ledger's fsync waits).
    void set(std::vector<uint64_t> counts, double sum);

private:
    std::span<const double> bounds_;
    std::vector<uint64_t> counts_;
    double sum_ = 0;
    uint64_t count_ = 0;
};

// Bucket bounds in seconds. Warm invocations take a tenth of a millisecond, timeouts up to
// 15 minutes.
inline constexpr double invocation_duration_bounds[] = {
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900};
// Cold starts: about 1.5 ms from the zygote, up to init_timeout_s.
inline constexpr double init_duration_bounds[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                  0.1,    0.25,  0.5,    1,     2.5,  5,     10};
// The billing ledger's group fsyncs: a 20 ms window by default.
inline constexpr double ledger_fsync_wait_bounds[] = {0.001, 0.0025, 0.005, 0.01, 0.02, 0.025, 0.05, 0.1, 0.25, 0.5, 1};

}  // namespace sofaas
