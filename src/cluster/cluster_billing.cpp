#include "cluster/cluster_billing.h"

#include <mutex>

#include "store/postgres_connection.h"

namespace sofaas {

namespace {

Pico pico_of(const std::string& digits) {
    Pico value = 0;
    for (char c : digits) {
        if (c < '0' || c > '9') break;  // a numeric sum has no fraction: its digits end the number
        value = value * 10 + static_cast<unsigned>(c - '0');
    }
    return value;
}

std::optional<int64_t> microseconds_of(std::optional<WallTime> time) {
    if (!time) return std::nullopt;
    return std::chrono::duration_cast<std::chrono::microseconds>(time->time_since_epoch()).count();
}

// Inits no invocation paid for (deploy, warm) count in the time and the cost, not as
// invocations: as add() of billing_record.cpp.
constexpr std::string_view summary_query =
    "SELECT function,"
    " count(*) FILTER (WHERE trigger NOT IN ('deploy', 'warm')),"
    " count(*) FILTER (WHERE trigger NOT IN ('deploy', 'warm') AND status IN ('error', 'crash', 'oom')),"
    " count(*) FILTER (WHERE trigger NOT IN ('deploy', 'warm') AND status = 'timeout'),"
    " count(*) FILTER (WHERE trigger NOT IN ('deploy', 'warm') AND init_us IS NOT NULL),"
    " sum(billed_ms)::text, sum(memory_mb::numeric * billed_ms)::text, sum(cost_pico_usd::numeric)::text"
    " FROM billing_records"
    " WHERE ($1::text IS NULL OR function = $1) AND ($2::bigint IS NULL OR start_us >= $2)"
    " AND ($3::bigint IS NULL OR start_us < $3)"
    " GROUP BY function ORDER BY function";

}  // namespace

struct ClusterBilling::State {
    std::string url;
    std::mutex mutex;
    std::unique_ptr<PostgresConnection> db;
};

ClusterBilling::ClusterBilling(std::string database_url) : state_(std::make_unique<State>()) {
    state_->url = std::move(database_url);
}

ClusterBilling::~ClusterBilling() = default;

BillingSummary ClusterBilling::summarize(const std::optional<std::string>& function, std::optional<WallTime> since,
                                         std::optional<WallTime> until) const {
    std::lock_guard lock(state_->mutex);
    if (!state_->db) state_->db = std::make_unique<PostgresConnection>(state_->url);
    const PostgresRows rows =
        state_->db->run(summary_query, {function, microseconds_of(since), microseconds_of(until)});
    BillingSummary summary;
    for (size_t i = 0; i < rows.size(); ++i) {
        BillingSummaryRow row;
        row.function = rows.text(i, 0);
        row.invocations = static_cast<uint64_t>(rows.integer(i, 1));
        row.errors = static_cast<uint64_t>(rows.integer(i, 2));
        row.timeouts = static_cast<uint64_t>(rows.integer(i, 3));
        row.cold_starts = static_cast<uint64_t>(rows.integer(i, 4));
        row.billed_ms = static_cast<uint64_t>(pico_of(rows.text(i, 5)));
        row.mb_ms = pico_of(rows.text(i, 6));
        row.cost_pico_usd = pico_of(rows.text(i, 7));
        summary.total.invocations += row.invocations;
        summary.total.errors += row.errors;
        summary.total.timeouts += row.timeouts;
        summary.total.cold_starts += row.cold_starts;
        summary.total.billed_ms += row.billed_ms;
        summary.total.mb_ms += row.mb_ms;
        summary.total.cost_pico_usd += row.cost_pico_usd;
        summary.functions.push_back(std::move(row));
    }
    return summary;
}

}  // namespace sofaas
