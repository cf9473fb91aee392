#include "billing/activity.h"

#include <algorithm>
#include <cmath>

#include <nlohmann/json.hpp>

namespace sofaas {
namespace {

WallTime first_bucket_start(const ActivityRange& range) {
    const auto step = std::chrono::duration_cast<WallTime::duration>(range.step);
    const auto since = range.since.time_since_epoch();
    auto aligned = since - since % step;
    if (since.count() < 0 && since % step != WallTime::duration::zero()) aligned -= step;
    return WallTime(aligned);
}

// The bucket a time falls in, nullopt outside the range.
std::optional<size_t> bucket_index(const ActivityRange& range, WallTime first, size_t count, WallTime t) {
    if (t < first || t >= range.until) return std::nullopt;
    const auto step = std::chrono::duration_cast<WallTime::duration>(range.step);
    const auto index = static_cast<size_t>((t - first) / step);
    return index < count ? std::optional<size_t>(index) : std::nullopt;
}

// Nearest rank: the smallest duration at least q of them do not exceed.
double nearest_rank(const std::vector<double>& sorted, double q) {
    const auto rank = static_cast<size_t>(std::ceil(q * static_cast<double>(sorted.size())));
    return sorted[std::clamp<size_t>(rank, 1, sorted.size()) - 1];
}

nlohmann::ordered_json optional_number(const std::optional<double>& value) {
    if (!value) return nullptr;
    return std::round(*value * 1000.0) / 1000.0;
}

}  // namespace

size_t activity_bucket_count(const ActivityRange& range) {
    if (range.step.count() <= 0 || range.until <= range.since) return 0;
    const WallTime first = first_bucket_start(range);
    const auto step = std::chrono::duration_cast<WallTime::duration>(range.step);
    const auto span = range.until - first;
    return static_cast<size_t>((span + step - WallTime::duration(1)) / step);
}

std::vector<ActivityBucket> bucket_activity(const std::vector<InvocationReport>& records,
                                            const std::vector<ThrottleCount>& throttles, const ActivityRange& range) {
    const size_t count = activity_bucket_count(range);
    const WallTime first = first_bucket_start(range);
    const auto step = std::chrono::duration_cast<WallTime::duration>(range.step);
    std::vector<ActivityBucket> buckets(count);
    for (size_t i = 0; i < count; ++i) buckets[i].start = first + step * static_cast<int64_t>(i);

    std::vector<std::vector<double>> durations(count);
    for (const InvocationReport& record : records) {
        if (record.trigger == Trigger::warm || record.trigger == Trigger::deploy) continue;
        const auto index = bucket_index(range, first, count, record.start);
        if (!index) continue;
        ActivityBucket& bucket = buckets[*index];
        ++bucket.invocations;
        if (record.status != InvocationStatus::ok) {
            ++bucket.errors;
            ++bucket.errors_by_status[std::string(to_string(record.status))];
        }
        if (record.init_ms) ++bucket.cold_starts;
        durations[*index].push_back(record.duration_ms);
    }
    for (const ThrottleCount& throttle : throttles) {
        if (const auto index = bucket_index(range, first, count, throttle.second)) {
            buckets[*index].throttles += throttle.count;
        }
    }
    for (size_t i = 0; i < count; ++i) {
        std::vector<double>& sorted = durations[i];
        if (sorted.empty()) continue;
        std::sort(sorted.begin(), sorted.end());
        buckets[i].duration_p50_ms = nearest_rank(sorted, 0.50);
        buckets[i].duration_p99_ms = nearest_rank(sorted, 0.99);
    }
    return buckets;
}

std::string activity_to_json(const std::string& function, const ActivityRange& range,
                             const std::vector<ActivityBucket>& buckets) {
    nlohmann::ordered_json rows = nlohmann::ordered_json::array();
    for (const ActivityBucket& bucket : buckets) {
        nlohmann::ordered_json by_status = nlohmann::ordered_json::object();
        for (const auto& [status, n] : bucket.errors_by_status) by_status[status] = n;
        rows.push_back({{"start", format_rfc3339(bucket.start)},
                        {"invocations", bucket.invocations},
                        {"errors", bucket.errors},
                        {"errors_by_status", std::move(by_status)},
                        {"throttles", bucket.throttles},
                        {"cold_starts", bucket.cold_starts},
                        {"duration_p50_ms", optional_number(bucket.duration_p50_ms)},
                        {"duration_p99_ms", optional_number(bucket.duration_p99_ms)}});
    }
    nlohmann::ordered_json body = {{"function", function},
                                   {"since", format_rfc3339(range.since)},
                                   {"until", format_rfc3339(range.until)},
                                   {"step_s", range.step.count()},
                                   {"buckets", std::move(rows)}};
    return body.dump();
}

}  // namespace sofaas
