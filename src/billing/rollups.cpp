#include "billing/rollups.h"

#include <algorithm>
#include <map>
#include <mutex>
#include <set>
#include <shared_mutex>
#include <stdexcept>
#include <unordered_map>
#include <utility>
#include <vector>

#include <sqlite3.h>
#include <spdlog/spdlog.h>

#include "billing/rollup_rows.h"
#include "events/sqlite_connection.h"

namespace sofaas {
namespace {

using rollup::RecordKind;
using rollup::Resolution;
using rollup::RowCounts;
using rollup::RowKey;
using rollup::RowKeyHash;
using rollup::StatusCode;

using RollupRows = std::unordered_map<RowKey, RowCounts, RowKeyHash>;

// Seals wait on nothing but their own commit; a summary waits for a commit in progress.
constexpr int rollups_busy_timeout_ms = 10'000;

// STRICT: an upsert whose sum passes 2^63 - 1 makes a REAL, which a STRICT INTEGER column
// refuses, so the seal fails instead of storing a rounded amount. WITHOUT ROWID: the key
// is the row's only index, and the rows are stored in its order (start first, so a range
// of time is one range of the tree).
std::string rows_table(std::string_view name) {
    return "CREATE TABLE IF NOT EXISTS " + std::string(name) +
           " (start_minute INTEGER NOT NULL, function_id INTEGER NOT NULL, version INTEGER NOT NULL,"
           " status INTEGER NOT NULL, kind INTEGER NOT NULL, count INTEGER NOT NULL, cold_starts INTEGER NOT NULL,"
           " billed_ms INTEGER NOT NULL, mb_ms INTEGER NOT NULL, cost_pico_usd INTEGER NOT NULL,"
           " duration_us_sum INTEGER NOT NULL,"
           " PRIMARY KEY (start_minute, function_id, version, status, kind)) STRICT, WITHOUT ROWID";
}

const char* table_of(Resolution resolution) {
    switch (resolution) {
        case Resolution::minute: return "minute_rows";
        case Resolution::hour: return "hour_rows";
        case Resolution::day: return "day_rows";
    }
    return "minute_rows";
}

std::string upsert_sql(Resolution resolution) {
    return std::string("INSERT INTO ") + table_of(resolution) +
           " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO UPDATE SET"
           " count = count + excluded.count, cold_starts = cold_starts + excluded.cold_starts,"
           " billed_ms = billed_ms + excluded.billed_ms, mb_ms = mb_ms + excluded.mb_ms,"
           " cost_pico_usd = cost_pico_usd + excluded.cost_pico_usd,"
           " duration_us_sum = duration_us_sum + excluded.duration_us_sum";
}

std::string select_sql(Resolution resolution, bool one_function) {
    return std::string("SELECT function_id, status, kind, count, cold_starts, billed_ms, mb_ms, cost_pico_usd FROM ") +
           table_of(resolution) + " WHERE start_minute >= ? AND start_minute < ?" +
           (one_function ? " AND function_id = ?" : "");
}

void open_schema(SqliteConnection& db) {
    // WAL: summaries read while a seal writes. synchronous=NORMAL: a power cut may lose the
    // last seals' commits but never leaves a torn one, and the ledger seals every sealed
    // segment at start, so what was lost is rebuilt from the segments.
    db.execute("PRAGMA journal_mode=WAL");
    db.execute("PRAGMA synchronous=NORMAL");
    db.execute("CREATE TABLE IF NOT EXISTS functions (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE) STRICT");
    db.execute("CREATE TABLE IF NOT EXISTS sealed_segments (name TEXT PRIMARY KEY) STRICT, WITHOUT ROWID");
    for (Resolution resolution : {Resolution::minute, Resolution::hour, Resolution::day}) {
        db.execute(rows_table(table_of(resolution)));
    }
}

// The rows of a coarser resolution, from minute rows.
RollupRows coarsen(const RollupRows& minutes, int64_t minutes_per_bucket) {
    RollupRows coarse;
    for (const auto& [key, counts] : minutes) {
        RowKey bucket = key;
        bucket.start_minute = key.start_minute - ((key.start_minute % minutes_per_bucket) + minutes_per_bucket) % minutes_per_bucket;
        coarse[bucket].add(counts);
    }
    return coarse;
}

int64_t stored_integer(uint64_t value) { return static_cast<int64_t>(value); }  // RowCounts keeps them below 2^63

RowCounts counts_of(const SqliteQuery& row) {
    RowCounts counts;
    counts.count = static_cast<uint64_t>(row.integer(3));
    counts.cold_starts = static_cast<uint64_t>(row.integer(4));
    counts.billed_ms = static_cast<uint64_t>(row.integer(5));
    counts.mb_ms = static_cast<uint64_t>(row.integer(6));
    counts.cost_pico_usd = static_cast<uint64_t>(row.integer(7));
    return counts;
}

}  // namespace

struct Rollups::State {
    explicit State(const std::filesystem::path& database)
        : writer(database, rollups_busy_timeout_ms), reader(database, rollups_busy_timeout_ms) {
        open_schema(writer);
        auto names = writer.query("SELECT id, name FROM functions");
        while (names.next()) function_ids.emplace(names.text(1), names.integer(0));
        auto segments = writer.query("SELECT name FROM sealed_segments");
        while (segments.next()) sealed_names.insert(segments.text(0));
    }

    // A seal's writes; function_ids is the writer's cache of the functions table.
    std::mutex write_mutex;
    SqliteConnection writer;
    std::unordered_map<std::string, int64_t> function_ids;

    mutable std::mutex read_mutex;
    mutable SqliteConnection reader;

    // A summary holds it shared while it reads the database and memory, a seal alone while
    // it commits and drops the segment's rows from memory: a summary sees each segment once,
    // in the database or in memory.
    mutable std::shared_mutex commit_mutex;

    // Rows of the open segments, by segment, and the names of the sealed ones.
    mutable std::mutex memory_mutex;
    std::map<std::string, RollupRows, std::less<>> open_segments;
    std::set<std::string, std::less<>> sealed_names;

    int64_t function_id(const std::string& name, std::unordered_map<std::string, int64_t>& added);
    void write(const RollupRows& rows, Resolution resolution, std::unordered_map<std::string, int64_t>& added);
    void read_database(const std::vector<rollup::Span>& spans, const std::optional<std::string>& function,
                       rollup::SummaryTotals& totals) const;
};

int64_t Rollups::State::function_id(const std::string& name, std::unordered_map<std::string, int64_t>& added) {
    if (auto found = function_ids.find(name); found != function_ids.end()) return found->second;
    if (auto found = added.find(name); found != added.end()) return found->second;
    writer.query("INSERT INTO functions (name) VALUES (?)").bind(name).run();
    auto id = writer.query("SELECT id FROM functions WHERE name = ?");
    id.bind(name).next();
    return added.emplace(name, id.integer(0)).first->second;
}

void Rollups::State::write(const RollupRows& rows, Resolution resolution, std::unordered_map<std::string, int64_t>& added) {
    const std::string sql = upsert_sql(resolution);
    for (const auto& [key, counts] : rows) {
        writer.query(sql)
            .bind(key.start_minute, function_id(key.function, added), key.version, static_cast<int>(key.status),
                  static_cast<int>(key.kind), stored_integer(counts.count), stored_integer(counts.cold_starts),
                  stored_integer(counts.billed_ms), stored_integer(counts.mb_ms), stored_integer(counts.cost_pico_usd),
                  stored_integer(counts.duration_us_sum))
            .run();
    }
}

Rollups::Rollups(const std::filesystem::path& database) {
    if (database.has_parent_path()) std::filesystem::create_directories(database.parent_path());
    try {
        state_ = std::make_unique<State>(database);
    } catch (const SqliteError& e) {
        const int code = e.code() & 0xff;
        if (code != SQLITE_CORRUPT && code != SQLITE_NOTADB) throw;
        // Everything in it can be rebuilt from the ledger, which seals every segment again
        // at start; the damaged file is kept aside for whoever wants to look at it.
        const std::filesystem::path aside = database.string() + ".damaged";
        spdlog::error("billing rollups {}: {}; moved to {}, rebuilt from the ledger", database.string(), e.what(),
                      aside.string());
        std::filesystem::rename(database, aside);
        for (const char* suffix : {"-wal", "-shm"}) {
            std::error_code ignored;  // absent when the database was not in WAL mode
            std::filesystem::remove(database.string() + suffix, ignored);
        }
        state_ = std::make_unique<State>(database);
    }
}

Rollups::~Rollups() = default;

void Rollups::add(const InvocationReport& record, std::string_view segment) {
    RowKey key = rollup::minute_key_of(record);
    std::lock_guard lock(state_->memory_mutex);
    auto open = state_->open_segments.find(segment);
    if (open == state_->open_segments.end()) {
        // Records of a segment already in the database are in its rows: counting them
        // again here would count them twice.
        if (state_->sealed_names.contains(segment)) return;
        open = state_->open_segments.emplace(std::string(segment), RollupRows{}).first;
    }
    open->second[std::move(key)].add(record);
}

void Rollups::seal(std::string_view segment, const RecordReplay& replay) {
    State& state = *state_;
    std::lock_guard writing(state.write_mutex);
    if (sealed(segment)) return;

    // From the segment's own records, not the rows in memory: after a restart those hold
    // only what was replayed, and the segment is what was billed.
    RollupRows minutes;
    replay([&minutes](const InvocationReport& record) { minutes[rollup::minute_key_of(record)].add(record); });
    const RollupRows hours = coarsen(minutes, rollup::minutes_per_hour);
    const RollupRows days = coarsen(minutes, rollup::minutes_per_day);

    std::unordered_map<std::string, int64_t> added;
    RollupRows dropped;
    try {
        state.writer.execute("BEGIN IMMEDIATE");
        state.write(minutes, Resolution::minute, added);
        state.write(hours, Resolution::hour, added);
        state.write(days, Resolution::day, added);
        state.writer.query("INSERT INTO sealed_segments (name) VALUES (?)").bind(segment).run();
        std::unique_lock committing(state.commit_mutex);
        state.writer.execute("COMMIT");
        std::lock_guard memory(state.memory_mutex);
        state.sealed_names.emplace(segment);
        if (auto open = state.open_segments.find(segment); open != state.open_segments.end()) {
            dropped = std::move(open->second);  // freed below, outside the locks
            state.open_segments.erase(open);
        }
    } catch (...) {
        if (state.writer.in_transaction()) state.writer.execute("ROLLBACK");
        throw;
    }
    state.function_ids.merge(added);
}

bool Rollups::sealed(std::string_view segment) const {
    std::lock_guard lock(state_->memory_mutex);
    return state_->sealed_names.contains(segment);
}

void Rollups::State::read_database(const std::vector<rollup::Span>& spans, const std::optional<std::string>& function,
                                   rollup::SummaryTotals& totals) const {
    // Names and rows from one snapshot: a function a seal adds meanwhile is in neither.
    std::optional<int64_t> only_id;
    std::unordered_map<int64_t, std::string> names;
    if (function) {
        auto id = reader.query("SELECT id FROM functions WHERE name = ?");
        if (!id.bind(*function).next()) return;
        only_id = id.integer(0);
        names.emplace(*only_id, *function);
    } else {
        auto all = reader.query("SELECT id, name FROM functions");
        while (all.next()) names.emplace(all.integer(0), all.text(1));
    }
    // Summed by id first: a row costs an index, not a lookup by name. Ids are the
    // functions table's rowids, given out from 1 up.
    int64_t last_id = 0;
    for (const auto& [id, name] : names) last_id = std::max(last_id, id);
    std::vector<rollup::FunctionSums> by_id(static_cast<size_t>(last_id) + 1);
    for (const rollup::Span& span : spans) {
        auto rows = reader.query(select_sql(span.resolution, only_id.has_value()));
        if (only_id) rows.bind(span.first, span.end, *only_id);
        else rows.bind(span.first, span.end);
        while (rows.next()) {
            const int64_t id = rows.integer(0);
            if (id < 0 || id > last_id) throw std::runtime_error("a billing rollup row names no function");
            by_id[id].add(static_cast<StatusCode>(rows.integer(1)), static_cast<RecordKind>(rows.integer(2)),
                          counts_of(rows));
        }
    }
    for (size_t id = 0; id < by_id.size(); ++id) {
        if (!by_id[id].empty) totals.add(names.at(static_cast<int64_t>(id)), by_id[id]);
    }
}

RollupSummary Rollups::summarize(const RollupQuery& query) const {
    const State& state = *state_;
    // Unbounded sides reach far beyond any record, yet leave room to round to whole days.
    constexpr int64_t far = int64_t{1} << 40;
    const int64_t first = query.since ? rollup::minute_of(*query.since) : -far;
    int64_t end = far;
    if (query.until) {
        end = rollup::minute_of(*query.until);
        if (rollup::time_of_minute(end) < *query.until) ++end;
    }

    RollupSummary answer;
    if (query.since) answer.since = rollup::time_of_minute(first);
    if (query.until) answer.until = rollup::time_of_minute(end);
    rollup::SummaryTotals totals;
    {
        std::shared_lock committed(state.commit_mutex);
        {
            std::lock_guard reading(state.read_mutex);
            state.reader.execute("BEGIN");
            try {
                state.read_database(rollup::cover(first, end), query.function, totals);
            } catch (...) {
                state.reader.execute("ROLLBACK");
                throw;
            }
            state.reader.execute("COMMIT");
        }
        std::lock_guard memory(state.memory_mutex);
        for (const auto& [segment, rows] : state.open_segments) {
            for (const auto& [key, counts] : rows) {
                if (key.start_minute < first || key.start_minute >= end) continue;
                if (query.function && key.function != *query.function) continue;
                rollup::FunctionSums sums;
                sums.add(key.status, key.kind, counts);
                totals.add(key.function, sums);
            }
        }
    }
    answer.summary = totals.finish();
    return answer;
}

}  // namespace sofaas
