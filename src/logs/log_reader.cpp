#include "logs/log_reader.h"

#include <algorithm>
#include <array>
#include <unordered_map>
#include <unordered_set>

#include "billing/ledger.h"
#include "logs/invocation_lines.h"
#include "logs/stored_runs.h"

namespace sofaas {

namespace {

// How far back a read looks, each step only when the one before held too few lines; past
// the last, back to the oldest line shown. Each is at most 60 times the one before, and
// every run has at least three lines: a step that holds N lines read fewer than 20 N
// records more than those.
constexpr std::array<std::chrono::seconds, 6> windows{
    std::chrono::seconds(1), std::chrono::minutes(1), std::chrono::hours(1),
    std::chrono::days(1),    std::chrono::days(30),   std::chrono::days(365)};

struct RenderedLine {
    LogLine line;
    const InvocationReport* record = nullptr;  // the run whose frame it is part of
};

// One place in the merged log: a run with its lines, or a line standing alone.
struct Placed {
    WallTime position;
    std::vector<RenderedLine> lines;
};

LogLine platform_line(WallTime time, const InvocationReport& record, std::string message) {
    return LogLine{format_rfc3339(time), record.request_id, record.version, "platform", std::move(message)};
}

class LogMerge {
public:
    LogMerge(const std::vector<InvocationReport>& records, const std::vector<StoredRun>& stored, const LogQuery& query)
        : records_(records), stored_(stored), query_(query) {}

    // The merged lines that match the query, oldest first: runs that started at or after
    // `blocks_from`, lines alone at or after `lines_from`.
    std::vector<RenderedLine> lines(WallTime blocks_from, WallTime lines_from) {
        index_stored();
        std::vector<Placed> placed;
        for (const InvocationReport& record : records_) {
            if (record.start < blocks_from) continue;
            if (query_.request_id && record.request_id != *query_.request_id) continue;
            placed.push_back(run_of(record));
        }
        place_unclaimed(placed, blocks_from, lines_from);
        // Records come sorted by start and first: at the same time, a run before a line alone.
        std::stable_sort(placed.begin(), placed.end(),
                         [](const Placed& a, const Placed& b) { return a.position < b.position; });
        const std::string since = query_.since ? format_rfc3339(*query_.since) : std::string();
        std::vector<RenderedLine> out;
        for (Placed& place : placed) {
            for (RenderedLine& line : place.lines) {
                // RFC 3339 in UTC with microseconds sorts as text.
                if (!since.empty() && line.line.time < since) continue;
                if (query_.request_id && line.line.request_id != *query_.request_id) continue;
                out.push_back(std::move(line));
            }
        }
        return out;
    }

private:
    void index_stored() {
        for (const InvocationReport& record : records_) records_by_id_[record.request_id].push_back(&record);
        for (const StoredRun& run : stored_) {
            if (run.kind == StoredKind::run) runs_by_key_.emplace(run_key(run.request_id, run.attempt), &run);
            if (run.kind == StoredKind::legacy_line) legacy_by_id_[run.request_id].push_back(&run);
        }
    }

    // An earlier version's line of a run goes in the run it happened during.
    const InvocationReport* legacy_owner(const StoredRun& line) const {
        auto found = records_by_id_.find(line.request_id);
        if (found == records_by_id_.end()) return nullptr;
        for (const InvocationReport* record : found->second) {
            const FrameLines frame = frame_lines(*record);
            if (line.start >= frame.start_time && line.start <= frame.end_time) return record;
        }
        return nullptr;
    }

    Placed run_of(const InvocationReport& record) {
        const FrameLines frame = frame_lines(record);
        Placed place{record.start, {}};
        place.lines.push_back({platform_line(frame.start_time, record, frame.start), &record});
        if (auto found = runs_by_key_.find(run_key(record.request_id, record.attempt)); found != runs_by_key_.end()) {
            claimed_.insert(found->second);
            for (const LogLine& line : found->second->lines) place.lines.push_back({line, &record});
        }
        if (auto legacy = legacy_by_id_.find(record.request_id); legacy != legacy_by_id_.end()) {
            for (const StoredRun* line : legacy->second) {
                if (legacy_owner(*line) != &record) continue;
                claimed_.insert(line);
                place.lines.push_back({line->lines.front(), &record});
            }
        }
        place.lines.push_back({platform_line(frame.end_time, record, frame.end), &record});
        place.lines.push_back({platform_line(frame.end_time, record, frame.report), &record});
        return place;
    }

    // Stored lines no run of the window claimed: a refusal's, those of a run whose record is
    // missing (logs and ledger fail apart), an earlier version's.
    void place_unclaimed(std::vector<Placed>& placed, WallTime blocks_from, WallTime lines_from) const {
        for (const StoredRun& run : stored_) {
            if (claimed_.contains(&run)) continue;
            switch (run.kind) {
                case StoredKind::run:
                    // Before the window, its record is not read; in it, its record is missing.
                    if (run.start < blocks_from) continue;
                    break;
                case StoredKind::refusal:
                case StoredKind::legacy_line:
                    if (run.start < lines_from) continue;
                    break;
                case StoredKind::legacy_frame:
                    // The record renders it, when it is read.
                    if (run.start < lines_from || records_by_id_.contains(run.request_id)) continue;
                    break;
            }
            Placed place{run.start, {}};
            for (const LogLine& line : run.lines) place.lines.push_back({line, nullptr});
            placed.push_back(std::move(place));
        }
    }

    const std::vector<InvocationReport>& records_;
    const std::vector<StoredRun>& stored_;
    const LogQuery& query_;
    std::unordered_map<std::string, std::vector<const InvocationReport*>> records_by_id_;
    std::unordered_map<std::string, const StoredRun*> runs_by_key_;
    std::unordered_map<std::string, std::vector<const StoredRun*>> legacy_by_id_;
    std::unordered_set<const StoredRun*> claimed_;
};

// With a request id: whether the window holds the request's first run, before which
// nothing of it can be.
bool holds_first_run(const std::vector<InvocationReport>& records, const std::vector<StoredRun>& stored,
                     const std::string& request_id, WallTime blocks_from) {
    for (const InvocationReport& record : records) {
        if (record.start >= blocks_from && record.request_id == request_id && record.attempt <= 1) return true;
    }
    for (const StoredRun& run : stored) {
        if (run.kind == StoredKind::refusal && run.start >= blocks_from && run.request_id == request_id &&
            run.attempt <= 1) {
            return true;
        }
    }
    return false;
}

}  // namespace

std::string run_key(std::string_view request_id, uint32_t attempt) {
    std::string key(request_id);
    key += '#';
    key += std::to_string(attempt);
    return key;
}

RenderedLog read_function_log(const Ledger& ledger, const std::filesystem::path& function_dir,
                              const std::string& function, const LogQuery& query, const LogReadLimits& limits) {
    RenderedLog rendered;
    if (query.count == 0) return rendered;
    const bool since_bounds = query.since && *query.since > limits.oldest;
    const WallTime floor = since_bounds ? *query.since : limits.oldest;

    std::vector<InvocationReport> records;  // sorted by start: those from records_from on
    std::optional<WallTime> records_from;
    std::vector<RenderedLine> matched;
    for (size_t step = 0;; ++step) {
        const bool last = step >= windows.size() || limits.now - floor <= windows[step];
        const WallTime::duration width = last ? WallTime::duration{} : windows[step];
        const WallTime lines_from = last ? floor : limits.now - width;
        // Runs that started before `since` and ended after it have lines after it.
        const WallTime blocks_from =
            last && since_bounds ? std::max(limits.oldest, floor - limits.longest_run) : lines_from;
        if (!records_from || blocks_from < *records_from) {
            std::vector<InvocationReport> older = ledger.query(LedgerQuery{function, blocks_from, records_from});
            std::stable_sort(older.begin(), older.end(),
                             [](const InvocationReport& a, const InvocationReport& b) { return a.start < b.start; });
            records.insert(records.begin(), std::make_move_iterator(older.begin()),
                           std::make_move_iterator(older.end()));
            records_from = blocks_from;
        }
        const std::vector<StoredRun> stored =
            read_stored_runs(function_dir, blocks_from, lines_from, limits.longest_run, query.request_id);
        matched = LogMerge(records, stored, query).lines(blocks_from, lines_from);
        if (matched.size() >= query.count || last) break;
        if (query.request_id && holds_first_run(records, stored, *query.request_id, blocks_from)) break;
    }

    const size_t skip = matched.size() > query.count ? matched.size() - query.count : 0;
    std::unordered_set<const InvocationReport*> runs;
    for (size_t i = skip; i < matched.size(); ++i) {
        if (matched[i].record && runs.insert(matched[i].record).second) {
            rendered.rendered_runs.push_back(run_key(matched[i].record->request_id, matched[i].record->attempt));
        }
        rendered.lines.push_back(std::move(matched[i].line));
    }
    return rendered;
}

}  // namespace sofaas
