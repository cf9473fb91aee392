// The whole cluster's bill, read from the records every node ships to the shared
// PostgreSQL table (billing_shipper.h): what GET /v1/billing and `sofaas billing` answer on a
// node of a cluster. Exact to the microsecond of start, like the records; a record a node
// has not shipped yet (its database was away) is missing until it has.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "billing/billing_record.h"
#include "common/time.h"

namespace sofaas {

class PostgresConnection;

class ClusterBilling {
public:
    explicit ClusterBilling(std::string database_url);  // connects on first use
    ~ClusterBilling();
    ClusterBilling(const ClusterBilling&) = delete;
    ClusterBilling& operator=(const ClusterBilling&) = delete;

    // Sums per function of the records whose start is in [since, until), as summarize() of
    // billing_record.h sums them. Thread-safe (one connection, one query at a time).
    // Throws PostgresError.
    BillingSummary summarize(const std::optional<std::string>& function, std::optional<WallTime> since,
                             std::optional<WallTime> until) const;

private:
    struct State;
    std::unique_ptr<State> state_;
};

}  // namespace sofaas
