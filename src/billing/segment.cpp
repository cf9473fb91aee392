#include "billing/segment.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <memory>
#include <system_error>
#include <tuple>

#include <spdlog/spdlog.h>
#include <zstd.h>

#include "billing/billing_record.h"
#include "common/file_io.h"
#include "common/unique_fd.h"

namespace sofaas {
namespace fs = std::filesystem;

namespace {

using std::chrono::hours;
using std::chrono::minutes;

constexpr std::string_view open_suffix = ".tsv";
constexpr std::string_view sealed_suffix = ".tsv.zst";
constexpr std::string_view legacy_suffix = ".jsonl";
constexpr std::string_view temporary_suffix = ".zst.tmp";

// The frame index: a skippable frame (magic 0x184D2A5E, a little-endian size, the payload)
// at the end of the file, its payload the entries and then their count and a tag, so that a
// reader finds it from the file's last 8 bytes.
constexpr uint32_t index_frame_magic = 0x184D2A5E;
constexpr uint32_t index_tag = 0x31584C53;  // "SLX1"
struct IndexEntry {
    int64_t minute_s = 0;  // the minute its records start in, seconds since the epoch
    uint64_t offset = 0;   // of its zstd frame in the file
    uint32_t length = 0;
    uint32_t records = 0;
};
constexpr size_t index_entry_bytes = 24;

void put_u32(std::string& out, uint32_t value) {
    for (int i = 0; i < 4; ++i) out += static_cast<char>((value >> (8 * i)) & 0xFF);
}
void put_u64(std::string& out, uint64_t value) {
    for (int i = 0; i < 8; ++i) out += static_cast<char>((value >> (8 * i)) & 0xFF);
}
uint64_t get_le(const char* bytes, int count) {
    uint64_t value = 0;
    for (int i = 0; i < count; ++i) value |= uint64_t{static_cast<unsigned char>(bytes[i])} << (8 * i);
    return value;
}

bool ends_with(std::string_view text, std::string_view suffix) {
    return text.size() >= suffix.size() && text.substr(text.size() - suffix.size()) == suffix;
}

// "2026-12-06T13" -> that hour; "2026-11-27" -> that day.
std::optional<WallTime> parse_hour(std::string_view stem) {
    if (stem.size() != 13 || stem[10] != 'T') return std::nullopt;
    auto day = parse_time_spec(stem.substr(0, 10), WallTime{});
    int hour = 0;
    for (char c : stem.substr(11)) {
        if (c < '0' || c > '9') return std::nullopt;
        hour = hour * 10 + (c - '0');
    }
    if (!day || hour > 23) return std::nullopt;
    return *day + hours(hour);
}

std::optional<SegmentFile> parse_file_name(const fs::path& path) {
    const std::string file = path.filename().string();
    SegmentFile segment;
    segment.path = path;
    std::string_view base;
    if (ends_with(file, sealed_suffix)) {
        segment.kind = SegmentKind::sealed;
        base = std::string_view(file).substr(0, file.size() - sealed_suffix.size());
    } else if (ends_with(file, open_suffix)) {
        segment.kind = SegmentKind::open;
        base = std::string_view(file).substr(0, file.size() - open_suffix.size());
    } else if (ends_with(file, legacy_suffix)) {
        const std::string_view day = std::string_view(file).substr(0, file.size() - legacy_suffix.size());
        if (day.size() != 10) return std::nullopt;
        auto begins = parse_time_spec(day, WallTime{});
        if (!begins || format_date(*begins) != day) return std::nullopt;
        segment.kind = SegmentKind::legacy_day;
        segment.name = std::string(day);
        segment.begins = *begins;
        segment.ends = *begins + hours(24);
        return segment;
    } else {
        return std::nullopt;
    }
    const size_t dot = base.find('.');
    if (dot == std::string_view::npos || dot + 1 == base.size() || base.size() - dot > 10) return std::nullopt;
    auto hour = parse_hour(base.substr(0, dot));
    uint32_t sequence = 0;
    for (char c : base.substr(dot + 1)) {
        if (c < '0' || c > '9') return std::nullopt;
        sequence = sequence * 10 + static_cast<uint32_t>(c - '0');
    }
    if (!hour || segment_name(*hour, sequence) != base) return std::nullopt;  // one spelling per segment
    segment.name = std::string(base);
    segment.begins = *hour;
    segment.ends = *hour + hours(1);
    segment.sequence = sequence;
    return segment;
}

// Calls `line` for each '\n'-terminated line of `text`; a last line without its '\n' is
// torn (a crash, or a write in progress) and counted, even if it would parse.
template <typename OnLine>
void for_each_line(std::string_view text, size_t& skipped_lines, OnLine&& line) {
    size_t begin = 0;
    while (begin < text.size()) {
        const size_t end = text.find('\n', begin);
        if (end == std::string_view::npos) {
            ++skipped_lines;
            return;
        }
        const std::string_view one = text.substr(begin, end - begin);
        begin = end + 1;
        if (one.empty() || one.front() == '#') continue;  // the newline sealing a torn line; the header
        line(one);
    }
}

void read_ledger_lines(std::string_view text, const SegmentRange& range,
                       const std::function<void(InvocationReport&&)>& sink, size_t& skipped_lines) {
    for_each_line(text, skipped_lines, [&](std::string_view line) {
        auto record = parse_ledger_line(line);
        if (!record) {
            ++skipped_lines;
            return;
        }
        if (range.contains(record->start)) sink(std::move(*record));
    });
}

std::string read_file_or_sealed(const SegmentFile& segment, SegmentFile& sealed) {
    try {
        return read_whole_file(segment.path);
    } catch (const std::system_error& e) {
        if (e.code() != std::errc::no_such_file_or_directory || segment.kind != SegmentKind::open) throw;
    }
    // Sealed meanwhile: its records are in the compressed file now.
    sealed = segment;
    sealed.kind = SegmentKind::sealed;
    sealed.path = segment.path.parent_path() / (segment.name + std::string(sealed_suffix));
    return {};
}

std::vector<IndexEntry> read_index(int fd, const fs::path& path, uint64_t file_size) {
    char tail[8];
    if (file_size < 16 || ::pread(fd, tail, sizeof tail, static_cast<off_t>(file_size - 8)) != 8 ||
        get_le(tail + 4, 4) != index_tag) {
        throw std::system_error(std::make_error_code(std::errc::illegal_byte_sequence),
                                "no frame index at the end of " + path.string());
    }
    const uint64_t count = get_le(tail, 4);
    const uint64_t payload = count * index_entry_bytes + 8;
    if (payload + 8 > file_size) {
        throw std::system_error(std::make_error_code(std::errc::illegal_byte_sequence), "bad frame index in " + path.string());
    }
    std::string bytes(payload + 8, '\0');
    if (::pread(fd, bytes.data(), bytes.size(), static_cast<off_t>(file_size - bytes.size())) !=
            static_cast<ssize_t>(bytes.size()) ||
        get_le(bytes.data(), 4) != index_frame_magic || get_le(bytes.data() + 4, 4) != payload) {
        throw std::system_error(std::make_error_code(std::errc::illegal_byte_sequence), "bad frame index in " + path.string());
    }
    std::vector<IndexEntry> entries(count);
    for (uint64_t i = 0; i < count; ++i) {
        const char* at = bytes.data() + 8 + i * index_entry_bytes;
        entries[i] = IndexEntry{static_cast<int64_t>(get_le(at, 8)), get_le(at + 8, 8),
                                static_cast<uint32_t>(get_le(at + 16, 4)), static_cast<uint32_t>(get_le(at + 20, 4))};
        if (entries[i].offset + entries[i].length > file_size) {
            throw std::system_error(std::make_error_code(std::errc::illegal_byte_sequence),
                                    "bad frame index in " + path.string());
        }
    }
    return entries;
}

void read_sealed(const SegmentFile& segment, const SegmentRange& range,
                 const std::function<void(InvocationReport&&)>& sink, size_t& skipped_lines) {
    UniqueFd fd(::open(segment.path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) throw_file_error("cannot open", segment.path);
    struct stat status {};
    if (::fstat(fd.get(), &status) != 0) throw_file_error("cannot stat", segment.path);
    const auto entries = read_index(fd.get(), segment.path, static_cast<uint64_t>(status.st_size));
    std::string compressed;
    std::string text;
    for (const IndexEntry& entry : entries) {
        const WallTime minute{std::chrono::seconds(entry.minute_s)};
        if (!range.overlaps(minute, minute + minutes(1))) continue;
        compressed.resize(entry.length);
        if (::pread(fd.get(), compressed.data(), compressed.size(), static_cast<off_t>(entry.offset)) !=
            static_cast<ssize_t>(compressed.size())) {
            throw_file_error("cannot read", segment.path);
        }
        const unsigned long long size = ZSTD_getFrameContentSize(compressed.data(), compressed.size());
        if (size == ZSTD_CONTENTSIZE_ERROR || size == ZSTD_CONTENTSIZE_UNKNOWN || size > (1ull << 32)) {
            spdlog::warn("ledger: a corrupt frame in {} skipped ({} records)", segment.path.string(), entry.records);
            skipped_lines += entry.records;
            continue;
        }
        text.resize(size);
        const size_t got = ZSTD_decompress(text.data(), text.size(), compressed.data(), compressed.size());
        if (ZSTD_isError(got) || got != size) {
            spdlog::warn("ledger: a corrupt frame in {} skipped ({} records)", segment.path.string(), entry.records);
            skipped_lines += entry.records;
            continue;
        }
        read_ledger_lines(text, range, sink, skipped_lines);
    }
}

// A line's start and run key, without parsing the rest.
struct LineOrder {
    int64_t start_us;
    std::string_view line;
    std::string_view key;  // request id + attempt: fields 1 and 5
};

}  // namespace

std::string segment_name(WallTime hour, uint32_t sequence) {
    std::string name = format_rfc3339(hour_of(hour)).substr(0, 13);  // "2026-12-06T13"
    name += '.';
    name += std::to_string(sequence);
    return name;
}

WallTime hour_of(WallTime time) { return std::chrono::floor<hours>(time); }

bool SegmentRange::overlaps(WallTime begins, WallTime ends) const {
    if (since && ends <= *since) return false;
    if (until && begins >= *until) return false;
    return true;
}

bool SegmentRange::contains(WallTime start) const {
    if (since && start < *since) return false;
    if (until && start >= *until) return false;
    return true;
}

std::vector<SegmentFile> list_segments(const fs::path& directory) {
    std::vector<SegmentFile> segments;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(directory, ec)) {
        if (auto segment = parse_file_name(entry.path()); segment && entry.is_regular_file(ec)) {
            segments.push_back(std::move(*segment));
        }
    }
    std::sort(segments.begin(), segments.end(), [](const SegmentFile& a, const SegmentFile& b) {
        return std::tie(a.begins, a.sequence, a.name, a.kind) < std::tie(b.begins, b.sequence, b.name, b.kind);
    });
    // open sorts before sealed: drop an open one whose sealed file exists.
    std::vector<SegmentFile> listed;
    for (auto& segment : segments) {
        if (!listed.empty() && listed.back().name == segment.name && listed.back().kind == SegmentKind::open &&
            segment.kind == SegmentKind::sealed) {
            listed.back() = std::move(segment);
        } else {
            listed.push_back(std::move(segment));
        }
    }
    return listed;
}

void read_segment(const SegmentFile& segment, const SegmentRange& range,
                  const std::function<void(InvocationReport&&)>& sink, size_t& skipped_lines) {
    if (!range.overlaps(segment.begins, segment.ends)) return;
    switch (segment.kind) {
        case SegmentKind::sealed: read_sealed(segment, range, sink, skipped_lines); return;
        case SegmentKind::open: {
            SegmentFile sealed;
            const std::string text = read_file_or_sealed(segment, sealed);
            if (!sealed.path.empty()) {
                read_sealed(sealed, range, sink, skipped_lines);
            } else {
                read_ledger_lines(text, range, sink, skipped_lines);
            }
            return;
        }
        case SegmentKind::legacy_day: {
            const std::string text = read_whole_file(segment.path);
            for_each_line(text, skipped_lines, [&](std::string_view line) {
                auto record = parse_json_line(line);
                if (!record) {
                    ++skipped_lines;
                    return;
                }
                if (range.contains(record->start)) sink(std::move(*record));
            });
            return;
        }
    }
}

std::string run_key(const InvocationReport& record) {
    std::string key = record.request_id;
    key += '#';
    key += std::to_string(record.attempt);
    return key;
}

CompressedSegment compress_segment(const SegmentFile& open, int level) {
    CompressedSegment result;
    const std::string text = read_whole_file(open.path);
    result.bytes_in = text.size();
    std::vector<LineOrder> lines;
    size_t skipped = 0;
    for_each_line(text, skipped, [&](std::string_view line) {
        auto record = parse_ledger_line(line);
        if (!record) {
            ++skipped;
            return;
        }
        // The request id is the line's first field, the attempt its fifth.
        size_t tab = 0;
        for (int field = 0; field < 5; ++field) tab = line.find('\t', tab) + 1;
        const std::string_view key(line.data(), tab - 1);
        lines.push_back({record->start.time_since_epoch().count(), line, key});
    });
    result.skipped_lines = skipped;
    // By start, then key: the copies of a record written twice are neighbours.
    std::sort(lines.begin(), lines.end(), [](const LineOrder& a, const LineOrder& b) {
        return std::tie(a.start_us, a.key) < std::tie(b.start_us, b.key);
    });

    std::unique_ptr<ZSTD_CCtx, decltype(&ZSTD_freeCCtx)> context(ZSTD_createCCtx(), ZSTD_freeCCtx);
    ZSTD_CCtx_setParameter(context.get(), ZSTD_c_compressionLevel, level);
    ZSTD_CCtx_setParameter(context.get(), ZSTD_c_contentSizeFlag, 1);
    ZSTD_CCtx_setParameter(context.get(), ZSTD_c_checksumFlag, 1);
    std::string out;
    std::vector<IndexEntry> index;
    std::string frame_text;
    std::string compressed;
    auto flush_frame = [&](int64_t minute_s, uint32_t records) {
        compressed.resize(ZSTD_compressBound(frame_text.size()));
        const size_t size = ZSTD_compress2(context.get(), compressed.data(), compressed.size(), frame_text.data(),
                                           frame_text.size());
        if (ZSTD_isError(size)) {
            throw std::system_error(std::make_error_code(std::errc::io_error),
                                    std::string("cannot compress ") + open.path.string() + ": " + ZSTD_getErrorName(size));
        }
        index.push_back({minute_s, out.size(), static_cast<uint32_t>(size), records});
        out.append(compressed.data(), size);
        frame_text.clear();
    };
    frame_text = ledger_line_header;
    int64_t frame_minute = 0;
    uint32_t frame_records = 0;
    std::string_view previous_key;
    int64_t previous_start = -1;
    for (const LineOrder& line : lines) {
        if (line.start_us == previous_start && line.key == previous_key) {
            ++result.duplicates;
            continue;
        }
        previous_start = line.start_us;
        previous_key = line.key;
        const int64_t minute = std::chrono::duration_cast<std::chrono::seconds>(
                                   std::chrono::floor<minutes>(std::chrono::microseconds(line.start_us)))
                                   .count();
        if (frame_records > 0 && minute != frame_minute) {
            flush_frame(frame_minute, frame_records);
            frame_records = 0;
        }
        frame_minute = minute;
        frame_text.append(line.line);
        frame_text += '\n';
        ++frame_records;
        ++result.records;
    }
    if (frame_records > 0 || index.empty()) {
        flush_frame(frame_records > 0 ? frame_minute
                                      : std::chrono::duration_cast<std::chrono::seconds>(open.begins.time_since_epoch()).count(),
                    frame_records);
    }

    std::string payload;
    for (const IndexEntry& entry : index) {
        put_u64(payload, static_cast<uint64_t>(entry.minute_s));
        put_u64(payload, entry.offset);
        put_u32(payload, entry.length);
        put_u32(payload, entry.records);
    }
    put_u32(payload, static_cast<uint32_t>(index.size()));
    put_u32(payload, index_tag);
    put_u32(out, index_frame_magic);
    put_u32(out, static_cast<uint32_t>(payload.size()));
    out += payload;
    result.bytes_out = out.size();

    const fs::path sealed = open.path.parent_path() / (open.name + std::string(sealed_suffix));
    const fs::path temporary = open.path.parent_path() / (open.name + std::string(temporary_suffix));
    write_file_synced(temporary, out);
    if (::rename(temporary.c_str(), sealed.c_str()) != 0) throw_file_error("cannot rename", temporary);
    fsync_directory(open.path.parent_path());
    return result;
}

size_t remove_temporaries(const fs::path& directory) {
    size_t removed = 0;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(directory, ec)) {
        if (ends_with(entry.path().filename().string(), temporary_suffix) && fs::remove(entry.path(), ec)) ++removed;
    }
    return removed;
}

}  // namespace sofaas
