// A cluster node's billing records, copied to the shared PostgreSQL table billing_records,
// so that the whole cluster's bill is in one place and can be read with SQL
// (docs/CLUSTER.md). The node's own ledger stays the durable record of an answered call:
// shipping follows it, never the other way. A record is keyed by its request id and
// attempt, so a record shipped twice (a retried batch, a restart's catch-up) is stored once.
//
// It watches the ledger (LedgerObserver): each record written is queued and shipped in
// batches by a thread of its own, never on the invocation's path. A segment's records are
// all shipped once its sealing is seen and every record of it came through the queue;
// otherwise (sealed before this start, or records dropped from a full queue while the
// database was away) the segment is read back from disk and shipped whole. The segments
// shipped are remembered per node in the database, so a restart ships only what is left.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "billing/ledger.h"

namespace sofaas {

struct BillingShipperOptions {
    size_t batch_records = 500;
    // Records waiting beyond this are dropped from the queue (their segment is then read
    // back from disk once sealed): the memory a database outage may cost.
    size_t max_queued = 100'000;
    std::chrono::milliseconds retry_delay{1000};  // after the database failed
};

struct BillingShippingStatus {
    uint64_t shipped_records = 0;  // inserted or found already there, since start
    uint64_t queued_records = 0;
    uint64_t dropped_records = 0;  // left to be read back from their segments
    uint64_t shipped_segments = 0; // segments known whole in the database, since start
    std::optional<std::string> failure;  // the last database error, until a batch succeeds
};

class BillingShipper final : public LedgerObserver {
public:
    // `node`: this node's stable name, stored with each record. `billing_dir`: the ledger's
    // directory, to read sealed segments back. Connects on its own thread: a database that
    // is down delays shipping, never the daemon.
    BillingShipper(std::string database_url, std::string node, std::filesystem::path billing_dir,
                   BillingShipperOptions options = {});
    ~BillingShipper() override;  // stops the thread; what is still queued is shipped by the next start
    BillingShipper(const BillingShipper&) = delete;
    BillingShipper& operator=(const BillingShipper&) = delete;

    void on_record(const InvocationReport& record, std::string_view segment) override;
    void on_sealed(std::string_view segment, const Replay& replay) override;

    BillingShippingStatus status() const;
    // Waits until everything queued so far is shipped; false after `timeout`.
    bool wait_idle(std::chrono::milliseconds timeout) const;

private:
    struct State;
    std::unique_ptr<State> state_;
};

// The database's tables for billing (migrations of the component "billing"), made or
// brought up to date on `database_url`. Throws PostgresError.
void migrate_billing_tables(const std::string& database_url);

}  // namespace sofaas
