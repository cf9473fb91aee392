#include "billing/rollup_rows.h"

#include <chrono>
#include <cmath>
#include <functional>
#include <limits>
#include <stdexcept>

namespace sofaas::rollup {
namespace {

constexpr uint64_t stored_max = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());

[[noreturn]] void overflow() { throw std::overflow_error("a billing rollup sum does not fit in 63 bits"); }

void add_checked(uint64_t& sum, uint64_t value) {
    if (__builtin_add_overflow(sum, value, &sum) || sum > stored_max) overflow();
}

uint64_t narrow(unsigned __int128 value) {
    if (value > std::numeric_limits<uint64_t>::max()) overflow();
    return static_cast<uint64_t>(value);
}

StatusCode code_of(InvocationStatus status) {
    switch (status) {
        case InvocationStatus::ok: return StatusCode::ok;
        case InvocationStatus::error: return StatusCode::error;
        case InvocationStatus::timeout: return StatusCode::timeout;
        case InvocationStatus::crash: return StatusCode::crash;
        case InvocationStatus::oom: return StatusCode::oom;
        // throttled and unavailable are never billed, so never in the ledger; like a host
        // fault, they are no error of the function's.
        case InvocationStatus::host_fault:
        case InvocationStatus::throttled:
        case InvocationStatus::unavailable: return StatusCode::host_fault;
    }
    return StatusCode::host_fault;
}

// Floor and ceiling to a multiple of `step`, also below zero.
int64_t floor_to(int64_t value, int64_t step) {
    int64_t quotient = value / step;
    if (value % step != 0 && value < 0) --quotient;
    return quotient * step;
}

int64_t ceil_to(int64_t value, int64_t step) {
    const int64_t floor = floor_to(value, step);
    return floor == value ? value : floor + step;
}

void cover_within_day(int64_t first, int64_t end, std::vector<Span>& spans) {
    const auto push = [&](Resolution resolution, int64_t from, int64_t to) {
        if (from < to) spans.push_back(Span{resolution, from, to});
    };
    const int64_t first_hour = ceil_to(first, minutes_per_hour);
    const int64_t end_hour = floor_to(end, minutes_per_hour);
    if (first_hour >= end_hour) {
        push(Resolution::minute, first, end);
        return;
    }
    push(Resolution::minute, first, first_hour);
    push(Resolution::hour, first_hour, end_hour);
    push(Resolution::minute, end_hour, end);
}

}  // namespace

size_t RowKeyHash::operator()(const RowKey& key) const noexcept {
    size_t hash = std::hash<std::string>{}(key.function);
    const auto mix = [&hash](uint64_t value) { hash ^= std::hash<uint64_t>{}(value) + 0x9e3779b97f4a7c15ULL + (hash << 6) + (hash >> 2); };
    mix(static_cast<uint64_t>(key.start_minute));
    mix(key.version);
    mix((static_cast<uint64_t>(key.status) << 8) | static_cast<uint64_t>(key.kind));
    return hash;
}

void RowCounts::add(const InvocationReport& record) {
    RowCounts one;
    one.count = 1;
    one.cold_starts = record.init_ms ? 1 : 0;
    one.billed_ms = record.billed_ms;
    if (__builtin_mul_overflow(uint64_t{record.memory_mb}, record.billed_ms, &one.mb_ms)) overflow();
    one.cost_pico_usd = record.cost_pico_usd;
    const double duration_us = std::round(std::max(0.0, record.duration_ms) * 1000.0);
    if (!(duration_us < 9.0e18)) overflow();  // also NaN
    one.duration_us_sum = static_cast<uint64_t>(duration_us);
    add(one);
}

void RowCounts::add(const RowCounts& other) {
    add_checked(count, other.count);
    add_checked(cold_starts, other.cold_starts);
    add_checked(billed_ms, other.billed_ms);
    add_checked(mb_ms, other.mb_ms);
    add_checked(cost_pico_usd, other.cost_pico_usd);
    add_checked(duration_us_sum, other.duration_us_sum);
}

int64_t minute_of(WallTime time) {
    return floor_to(time.time_since_epoch().count(), int64_t{60'000'000}) / 60'000'000;
}

WallTime time_of_minute(int64_t minute) { return WallTime(std::chrono::minutes(minute)); }

RowKey minute_key_of(const InvocationReport& record) {
    RowKey key;
    key.start_minute = minute_of(record.start);
    key.function = record.function;
    key.version = record.version;
    key.status = code_of(record.status);
    key.kind = record.trigger == Trigger::warm || record.trigger == Trigger::deploy ? RecordKind::unpaid_init
                                                                                     : RecordKind::invocation;
    return key;
}

void FunctionSums::add(StatusCode status, RecordKind kind, const RowCounts& counts) {
    empty = false;
    if (kind == RecordKind::invocation) {
        invocations += counts.count;
        if (status == StatusCode::error || status == StatusCode::crash || status == StatusCode::oom) {
            errors += counts.count;
        }
        if (status == StatusCode::timeout) timeouts += counts.count;
        cold_starts += counts.cold_starts;
    }
    billed_ms += counts.billed_ms;
    mb_ms += counts.mb_ms;
    cost_pico_usd += counts.cost_pico_usd;
}

void FunctionSums::add(const FunctionSums& other) {
    empty = empty && other.empty;
    invocations += other.invocations;
    errors += other.errors;
    timeouts += other.timeouts;
    cold_starts += other.cold_starts;
    billed_ms += other.billed_ms;
    mb_ms += other.mb_ms;
    cost_pico_usd += other.cost_pico_usd;
}

void SummaryTotals::add(const std::string& function, const FunctionSums& sums) {
    if (!sums.empty) functions_[function].add(sums);
}

BillingSummary SummaryTotals::finish() const {
    const auto row_of = [](const std::string& function, const FunctionSums& sums) {
        BillingSummaryRow row;
        row.function = function;
        row.invocations = narrow(sums.invocations);
        row.errors = narrow(sums.errors);
        row.timeouts = narrow(sums.timeouts);
        row.cold_starts = narrow(sums.cold_starts);
        row.billed_ms = narrow(sums.billed_ms);
        row.mb_ms = sums.mb_ms;
        row.cost_pico_usd = sums.cost_pico_usd;
        return row;
    };
    BillingSummary summary;
    FunctionSums total;
    for (const auto& [function, sums] : functions_) {
        summary.functions.push_back(row_of(function, sums));
        total.add(sums);
    }
    summary.total = row_of("", total);
    return summary;
}

std::vector<Span> cover(int64_t first, int64_t end) {
    std::vector<Span> spans;
    if (first >= end) return spans;
    const int64_t first_day = ceil_to(first, minutes_per_day);
    const int64_t end_day = floor_to(end, minutes_per_day);
    if (first_day >= end_day) {
        cover_within_day(first, end, spans);
        return spans;
    }
    cover_within_day(first, first_day, spans);
    spans.push_back(Span{Resolution::day, first_day, end_day});
    cover_within_day(end_day, end, spans);
    return spans;
}

}  // namespace sofaas::rollup
