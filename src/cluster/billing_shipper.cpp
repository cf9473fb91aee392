#include "cluster/billing_shipper.h"

#include <array>
#include <utility>
#include <cmath>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include <spdlog/spdlog.h>

#include "billing/billing_record.h"
#include "billing/segment.h"
#include "store/postgres_connection.h"
#include "store/postgres_schema.h"

namespace sofaas {

namespace {

constexpr std::array<std::string_view, 1> billing_migrations{
    // 1: the records, by run; the segments each node has shipped whole.
    "CREATE TABLE billing_records ("
    "  request_id TEXT NOT NULL,"
    "  attempt INTEGER NOT NULL,"
    "  node TEXT NOT NULL,"
    "  function TEXT NOT NULL,"
    "  version BIGINT NOT NULL,"
    "  trigger TEXT NOT NULL,"
    "  schedule TEXT NOT NULL,"
    "  start_us BIGINT NOT NULL,"
    "  start_time TIMESTAMPTZ NOT NULL,"
    "  duration_us BIGINT NOT NULL,"
    "  init_us BIGINT,"
    "  billed_ms BIGINT NOT NULL,"
    "  memory_mb INTEGER NOT NULL,"
    "  max_memory_used_mb INTEGER NOT NULL,"
    "  status TEXT NOT NULL,"
    "  cost_pico_usd BIGINT NOT NULL,"
    "  key_id TEXT NOT NULL,"
    "  role TEXT NOT NULL,"
    "  user_sub TEXT NOT NULL,"
    "  PRIMARY KEY (request_id, attempt));"
    "CREATE INDEX billing_records_by_start ON billing_records (start_us);"
    "CREATE INDEX billing_records_by_function ON billing_records (function, start_us);"
    "CREATE TABLE billing_shipped_segments ("
    "  node TEXT NOT NULL,"
    "  segment TEXT NOT NULL,"
    "  shipped_at TIMESTAMPTZ NOT NULL DEFAULT now(),"
    "  PRIMARY KEY (node, segment));",
};

constexpr int columns_per_record = 18;

// "INSERT ... VALUES ($1, ..., $18), ($19, ...) ...": placeholders only, never values.
std::string insert_statement(size_t records) {
    std::string sql =
        "INSERT INTO billing_records (request_id, attempt, node, function, version, trigger, schedule, start_us, "
        "start_time, duration_us, init_us, billed_ms, memory_mb, max_memory_used_mb, status, cost_pico_usd, key_id, "
        "role, user_sub) VALUES ";
    for (size_t row = 0; row < records; ++row) {
        const size_t base = row * columns_per_record;
        const auto p = [&](int column) { return "$" + std::to_string(base + static_cast<size_t>(column)); };
        if (row > 0) sql += ", ";
        sql += "(" + p(1) + ", " + p(2) + "::integer, " + p(3) + ", " + p(4) + ", " + p(5) + "::bigint, " + p(6) + ", " +
               p(7) + ", " + p(8) + "::bigint, to_timestamp(" + p(8) + "::bigint::float8 / 1000000), " + p(9) +
               "::bigint, " + p(10) + "::bigint, " + p(11) + "::bigint, " + p(12) + "::integer, " + p(13) +
               "::integer, " + p(14) + ", " + p(15) + "::bigint, " + p(16) + ", " + p(17) + ", " + p(18) + ")";
    }
    sql += " ON CONFLICT (request_id, attempt) DO NOTHING";
    return sql;
}

// Each record's columns as text that lives as long as the statement's parameters.
struct Row {
    InvocationReport record;
    std::string version, attempt, start_us, duration_us, init_us, billed_ms, memory_mb, max_memory_mb, cost;
};

void insert_records(PostgresConnection& db, const std::string& node, std::vector<InvocationReport> records) {
    if (records.empty()) return;
    std::vector<Row> rows;
    rows.reserve(records.size());
    for (InvocationReport& record : records) {
        Row row;
        row.attempt = std::to_string(record.attempt);
        row.version = std::to_string(record.version);
        row.start_us = std::to_string(
            std::chrono::duration_cast<std::chrono::microseconds>(record.start.time_since_epoch()).count());
        row.duration_us = std::to_string(ledger_microseconds(record.duration_ms));
        if (record.init_ms) row.init_us = std::to_string(ledger_microseconds(*record.init_ms));
        row.billed_ms = std::to_string(record.billed_ms);
        row.memory_mb = std::to_string(record.memory_mb);
        row.max_memory_mb = std::to_string(record.max_memory_used_mb);
        row.cost = std::to_string(record.cost_pico_usd);
        row.record = std::move(record);
        rows.push_back(std::move(row));
    }
    std::vector<PostgresValue> parameters;
    parameters.reserve(rows.size() * columns_per_record);
    for (const Row& row : rows) {
        const InvocationReport& r = row.record;
        parameters.insert(parameters.end(),
                          {PostgresValue(r.request_id), PostgresValue(row.attempt), PostgresValue(node),
                           PostgresValue(r.function), PostgresValue(row.version), PostgresValue(to_string(r.trigger)),
                           PostgresValue(r.principal.schedule), PostgresValue(row.start_us),
                           PostgresValue(row.duration_us),
                           r.init_ms ? PostgresValue(row.init_us) : PostgresValue(std::nullopt),
                           PostgresValue(row.billed_ms), PostgresValue(row.memory_mb), PostgresValue(row.max_memory_mb),
                           PostgresValue(to_string(r.status)), PostgresValue(row.cost), PostgresValue(r.principal.key_id),
                           PostgresValue(r.principal.role), PostgresValue(r.principal.user_sub)});
    }
    db.run(insert_statement(rows.size()), parameters);
}

}  // namespace

void migrate_billing_tables(const std::string& database_url) {
    PostgresConnection db(database_url);
    migrate_postgres_schema(db, "billing", billing_migrations);
}

struct BillingShipper::State {
    std::string url;
    std::string node;
    std::filesystem::path billing_dir;
    BillingShipperOptions options;

    // A record (its ledger line) or the news that a segment was sealed, in the ledger's order.
    struct Item {
        std::string segment;
        std::string line;  // empty: `segment` was sealed
    };

    mutable std::mutex mutex;
    std::condition_variable wake;          // the thread: work, or stop
    mutable std::condition_variable idle;  // wait_idle()
    std::deque<Item> queue;
    size_t queued_records = 0;
    bool busy = false;  // the thread is shipping what it took from the queue
    std::set<std::string, std::less<>> seen;     // segments with records queued since start
    std::set<std::string, std::less<>> dropped;  // segments with records dropped from a full queue
    BillingShippingStatus counts;
    bool stopping = false;
    std::thread thread;

    // Sealed segments on disk by name, listed again when one is missing (shipping thread only).
    std::map<std::string, SegmentFile, std::less<>> listing;

    void run();
    void ship_sealed(PostgresConnection& db, const std::string& segment, std::set<std::string>& shipped);
};

BillingShipper::BillingShipper(std::string database_url, std::string node, std::filesystem::path billing_dir,
                               BillingShipperOptions options)
    : state_(std::make_unique<State>()) {
    state_->url = std::move(database_url);
    state_->node = std::move(node);
    state_->billing_dir = std::move(billing_dir);
    state_->options = options;
    state_->thread = std::thread([state = state_.get()] { state->run(); });
}

BillingShipper::~BillingShipper() {
    {
        std::lock_guard lock(state_->mutex);
        state_->stopping = true;
    }
    state_->wake.notify_all();
    state_->thread.join();
}

void BillingShipper::on_record(const InvocationReport& record, std::string_view segment) {
    std::string line;
    append_ledger_line(line, record);
    line.pop_back();  // its '\n'
    std::lock_guard lock(state_->mutex);
    if (state_->queued_records >= state_->options.max_queued) {
        ++state_->counts.dropped_records;
        state_->dropped.emplace(segment);
        return;
    }
    state_->seen.emplace(segment);
    state_->queue.push_back({std::string(segment), std::move(line)});
    ++state_->queued_records;
    state_->wake.notify_one();
}

void BillingShipper::on_sealed(std::string_view segment, const Replay&) {
    // Read back later if need be, on the shipping thread: the sealing thread never waits
    // for the database.
    std::lock_guard lock(state_->mutex);
    state_->queue.push_back({std::string(segment), {}});
    state_->wake.notify_one();
}

BillingShippingStatus BillingShipper::status() const {
    std::lock_guard lock(state_->mutex);
    BillingShippingStatus status = state_->counts;
    status.queued_records = state_->queued_records;
    return status;
}

bool BillingShipper::wait_idle(std::chrono::milliseconds timeout) const {
    std::unique_lock lock(state_->mutex);
    return state_->idle.wait_for(lock, timeout, [&] { return state_->queue.empty() && !state_->busy; });
}

// A sealed segment is in the database whole once every record of it went through the
// queue (they are shipped before this news of its sealing); otherwise it is read back.
void BillingShipper::State::ship_sealed(PostgresConnection& db, const std::string& segment,
                                        std::set<std::string>& shipped) {
    if (shipped.contains(segment)) return;
    bool whole;
    {
        std::lock_guard lock(mutex);
        whole = seen.contains(segment) && !dropped.contains(segment);
    }
    if (!whole) {
        auto file = listing.find(segment);
        if (file == listing.end()) {  // sealed since the last listing
            listing.clear();
            for (SegmentFile& candidate : list_segments(billing_dir)) {
                if (candidate.kind != SegmentKind::open) listing.emplace(candidate.name, std::move(candidate));
            }
            file = listing.find(segment);
        }
        if (file == listing.end()) {
            spdlog::warn("billing shipper: segment {} is no longer in {} (archived?): not shipped", segment,
                         billing_dir.string());
            return;
        }
        // A batch at a time as the segment is read: a sealed segment holds up to 32 MiB of lines.
        std::vector<InvocationReport> batch;
        size_t records = 0, skipped = 0;
        read_segment(file->second, {}, [&](InvocationReport&& record) {
            batch.push_back(std::move(record));
            if (batch.size() < options.batch_records) return;
            records += batch.size();
            insert_records(db, node, std::exchange(batch, {}));
        }, skipped);
        records += batch.size();
        insert_records(db, node, std::move(batch));
        std::lock_guard lock(mutex);
        counts.shipped_records += records;
    }
    db.run("INSERT INTO billing_shipped_segments (node, segment) VALUES ($1, $2) ON CONFLICT DO NOTHING",
           {node, segment});
    shipped.insert(segment);
    std::lock_guard lock(mutex);
    seen.erase(segment);
    dropped.erase(segment);
    ++counts.shipped_segments;
}

void BillingShipper::State::run() {
    std::unique_ptr<PostgresConnection> db;
    bool migrated = false;
    std::optional<std::set<std::string>> shipped;  // loaded once connected
    std::unique_lock lock(mutex);
    while (true) {
        wake.wait(lock, [&] { return stopping || !queue.empty(); });
        if (stopping) return;
        // The front item, or the records before the next news of a sealing.
        std::vector<Item> batch;
        for (const Item& item : queue) {
            if (item.line.empty() ? !batch.empty() : batch.size() >= options.batch_records) break;
            batch.push_back(item);
            if (item.line.empty()) break;
        }
        busy = true;
        lock.unlock();
        std::optional<std::string> failure;
        size_t records = 0;
        try {
            if (!db) db = std::make_unique<PostgresConnection>(url);
            if (!migrated) {
                migrate_postgres_schema(*db, "billing", billing_migrations);
                migrated = true;
            }
            if (!shipped) {
                PostgresRows rows = db->run("SELECT segment FROM billing_shipped_segments WHERE node = $1", {node});
                shipped.emplace();
                for (size_t row = 0; row < rows.size(); ++row) shipped->insert(rows.text(row, 0));
            }
            if (batch.front().line.empty()) {
                ship_sealed(*db, batch.front().segment, *shipped);
            } else {
                std::vector<InvocationReport> parsed;
                for (const Item& item : batch) {
                    if (auto record = parse_ledger_line(item.line)) {
                        parsed.push_back(std::move(*record));
                    } else {
                        spdlog::error("billing shipper: a record of {} could not be read back: not shipped", item.segment);
                    }
                }
                records = batch.size();
                insert_records(*db, node, std::move(parsed));
            }
        } catch (const std::exception& e) {
            failure = e.what();
        }
        lock.lock();
        busy = false;
        if (failure) {
            if (counts.failure != failure) spdlog::error("billing shipper: {} (retried every {} ms)", *failure, options.retry_delay.count());
            counts.failure = failure;
            wake.wait_for(lock, options.retry_delay, [&] { return stopping; });
            continue;
        }
        if (counts.failure) spdlog::info("billing shipper: shipping again");
        counts.failure.reset();
        for (size_t i = 0; i < batch.size(); ++i) queue.pop_front();
        queued_records -= records;
        counts.shipped_records += records;
        if (queue.empty()) idle.notify_all();
    }
}

}  // namespace sofaas
