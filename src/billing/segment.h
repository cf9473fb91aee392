// The billing ledger's files. Records are appended to an open segment for the hour of their
// start, DATA/billing/2026-12-06T13.0.tsv (one line a record, billing_record.h); the ledger
// starts the hour's next sequence number, 2026-12-06T13.1.tsv, when one grows past its size
// limit or a record comes for an hour already sealed. A sealed segment is compressed into
// 2026-12-06T13.0.tsv.zst: one zstd frame per minute of records, sorted by start, then an
// index of those frames in a skippable frame, which zstd's own tools skip (zstdcat prints
// the records), so that a reader decompresses only the minutes it asks for. Day files of
// older versions (2026-11-27.jsonl) are read as they are and never rewritten.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/invocation_report.h"
#include "common/time.h"

namespace sofaas {

enum class SegmentKind {
    open,        // .tsv: appended to, or waiting to be sealed
    sealed,      // .tsv.zst: never changes again
    legacy_day,  // .jsonl of a whole day, from before segments
};

struct SegmentFile {
    std::filesystem::path path;
    std::string name;  // "2026-12-06T13.0", or "2026-11-27" for a legacy day
    SegmentKind kind = SegmentKind::open;
    WallTime begins;  // its records start in [begins, ends)
    WallTime ends;
    uint32_t sequence = 0;
};

// "2026-12-06T13.0" for the hour starting at `hour` (truncated to the hour) and `sequence`.
std::string segment_name(WallTime hour, uint32_t sequence);
WallTime hour_of(WallTime time);

// The segment files in `directory`, by begins, then sequence. A segment found both open and
// sealed (a crash after compressing it, before the .tsv was removed) is listed sealed only.
// Other files (temporaries, the rollups database) are not listed.
std::vector<SegmentFile> list_segments(const std::filesystem::path& directory);

struct SegmentRange {
    std::optional<WallTime> since;  // inclusive, on the record's start
    std::optional<WallTime> until;  // exclusive
    bool overlaps(WallTime begins, WallTime ends) const;
    bool contains(WallTime start) const;
};

// Calls `sink` for each record of `segment` whose start is in `range`, in the file's order
// (a sealed segment's is by start), duplicates included. A sealed segment decompresses only
// the frames of the minutes in range. Torn or corrupt lines are skipped and counted in
// `skipped_lines`, never thrown; an unreadable file throws std::system_error. An open
// segment renamed away by its sealing meanwhile is read from its sealed file.
void read_segment(const SegmentFile& segment, const SegmentRange& range,
                  const std::function<void(InvocationReport&&)>& sink, size_t& skipped_lines);

struct CompressedSegment {
    uint64_t records = 0;  // after duplicates were dropped
    uint64_t duplicates = 0;
    uint64_t skipped_lines = 0;
    uint64_t bytes_in = 0;
    uint64_t bytes_out = 0;
};

// Writes the sealed form of the open segment `open` (whose records are all written and
// synced) beside it: to a temporary file, fsync'd, renamed to NAME.tsv.zst, the directory
// fsync'd. A record written twice (again after a failed fsync) is kept once. Leaves `open`
// for the caller to remove. Throws std::system_error; a leftover temporary is the caller's
// to remove (remove_temporaries).
CompressedSegment compress_segment(const SegmentFile& open, int level);

// Removes what an interrupted compress_segment left in `directory`; returns how many.
size_t remove_temporaries(const std::filesystem::path& directory);

// The records of one run of an invocation: a queued event's runs share a request id.
std::string run_key(const InvocationReport& record);

}  // namespace sofaas
