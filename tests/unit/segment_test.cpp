// The ledger's segments: the line format, sealing (compression with a frame per minute),
// reading a range, and the ledger's hourly segments across hour and day boundaries.
#include "billing/segment.h"

#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <mutex>
#include <random>
#include <thread>

#include "billing/billing_record.h"
#include "billing/ledger.h"
#include "support/eventually.h"
#include "support/temp_dir.h"
#include "support/test_data.h"

using namespace sofaas;
using sofaas::testing::file_text;
using sofaas::testing::utc;
using namespace std::chrono;
namespace fs = std::filesystem;

namespace {

InvocationReport segment_record(std::string request_id, WallTime start, std::string function = "hello") {
    InvocationReport r;
    r.request_id = std::move(request_id);
    r.function = std::move(function);
    r.version = 2;
    r.trigger = Trigger::invoke;
    r.start = start;
    r.duration_ms = 1.234;
    r.billed_ms = 2;
    r.memory_mb = 128;
    r.max_memory_used_mb = 4;
    r.cost_pico_usd = 204'167;
    return r;
}

std::vector<InvocationReport> read_all(const SegmentFile& segment, const SegmentRange& range, size_t& skipped) {
    std::vector<InvocationReport> records;
    read_segment(segment, range, [&](InvocationReport&& r) { records.push_back(std::move(r)); }, skipped);
    return records;
}

std::optional<SegmentFile> find_segment(const fs::path& dir, const std::string& name) {
    for (auto& segment : list_segments(dir)) {
        if (segment.name == name) return segment;
    }
    return std::nullopt;
}

// Counts what the ledger tells its observer. A segment may be handed over more than once
// (at every start): it counts each segment's records once.
class CountingObserver : public LedgerObserver {
public:
    void on_record(const InvocationReport&, std::string_view) override { ++records; }
    void on_sealed(std::string_view segment, const Replay& replay) override {
        int count = 0;
        replay([&](const InvocationReport&) { ++count; });
        std::lock_guard lock(mutex_);
        replayed_[std::string(segment)] = count;
    }
    int sealed() const {
        std::lock_guard lock(mutex_);
        return static_cast<int>(replayed_.size());
    }
    int replayed() const {
        std::lock_guard lock(mutex_);
        int total = 0;
        for (const auto& [_, count] : replayed_) total += count;
        return total;
    }
    std::atomic<int> records{0};

private:
    mutable std::mutex mutex_;
    std::map<std::string, int> replayed_;
};

class SegmentTest : public ::testing::Test {
protected:
    sofaas::testing::TempDir temp{"sofaas-segments"};
    fs::path billing = temp / "billing";
    LedgerOptions options() {
        LedgerOptions o;
        o.fsync_interval = milliseconds(1);
        o.reserve_bytes = 0;
        o.seal_idle = seconds(0);
        o.check_interval = seconds(3600);  // the tests seal with seal_due()
        o.clock = [] { return utc(2026, 12, 6, 12); };
        return o;
    }
};

}  // namespace

TEST(LedgerLineTest, RoundTripsEveryField) {
    InvocationReport r = segment_record("0192f3c4-55b6-4ef5-bbe0-99ced1e44fdf", utc(2026, 12, 6, 13, 1, 2) + microseconds(7));
    r.trigger = Trigger::async;
    r.attempt = 3;
    r.init_ms = 80.5;
    r.status = InvocationStatus::timeout;
    r.principal = {"ASIA1", "reader", "sub\twith\ttabs\nand\\newlines"};
    std::string line;
    append_ledger_line(line, r);
    EXPECT_EQ(std::count(line.begin(), line.end(), '\n'), 1) << "one record, one line, whatever its strings";
    EXPECT_LE(line.size(), 150u) << line;
    auto back = parse_ledger_line(line);
    ASSERT_TRUE(back);
    EXPECT_EQ(back->request_id, r.request_id);
    EXPECT_EQ(back->function, r.function);
    EXPECT_EQ(back->version, 2u);
    EXPECT_EQ(back->trigger, Trigger::async);
    EXPECT_EQ(back->attempt, 3u);
    EXPECT_EQ(back->start, r.start);
    EXPECT_EQ(back->duration_ms, 1.234);
    EXPECT_EQ(back->init_ms, 80.5);
    EXPECT_EQ(back->billed_ms, 2u);
    EXPECT_EQ(back->memory_mb, 128u);
    EXPECT_EQ(back->max_memory_used_mb, 4u);
    EXPECT_EQ(back->status, InvocationStatus::timeout);
    EXPECT_EQ(back->cost_pico_usd, 204'167u);
    EXPECT_EQ(back->principal.key_id, "ASIA1");
    EXPECT_EQ(back->principal.role, "reader");
    EXPECT_EQ(back->principal.user_sub, r.principal.user_sub);
    EXPECT_EQ(back->principal.schedule, "");
}

TEST(LedgerLineTest, AScheduledRunsLineNamesItsSchedule) {
    InvocationReport r = segment_record("0192f3c4-55b6-4ef5-bbe0-99ced1e44fdf", utc(2026, 12, 6, 13));
    r.trigger = Trigger::schedule;
    r.attempt = 1;
    r.principal.schedule = "nightly\tbatch";
    std::string line;
    append_ledger_line(line, r);
    auto back = parse_ledger_line(line);
    ASSERT_TRUE(back);
    EXPECT_EQ(back->principal.schedule, "nightly\tbatch");
    EXPECT_EQ(back->principal.key_id, "");
    EXPECT_EQ(back->start, r.start);
    EXPECT_EQ(back->attempt, 1u);
}

TEST(LedgerLineTest, ReadsALineWrittenBeforeSchedulesWereNamed) {
    // 16 fields: no schedule between the attempt and the start.
    const std::string line = "0192f3c4-55b6-4ef5-bbe0-99ced1e44fdf\thello\t2\tasync\t3\t1796562000000000\t1234\t\t2"
                             "\t128\t4\tok\t204167\tASIA1\treader\tuser-1\n";
    auto back = parse_ledger_line(line);
    ASSERT_TRUE(back);
    EXPECT_EQ(back->attempt, 3u);
    EXPECT_EQ(back->start.time_since_epoch().count(), 1796562000000000);
    EXPECT_EQ(back->duration_ms, 1.234);
    EXPECT_EQ(back->status, InvocationStatus::ok);
    EXPECT_EQ(back->cost_pico_usd, 204'167u);
    EXPECT_EQ(back->principal.user_sub, "user-1");
    EXPECT_EQ(back->principal.schedule, "");
}

TEST(LedgerLineTest, AWarmInvocationsLineIsUnder120Bytes) {
    std::string line;
    append_ledger_line(line, segment_record("0192f3c4-55b6-4ef5-bbe0-99ced1e44fdf", utc(2026, 12, 6, 13)));
    EXPECT_LT(line.size(), 120u) << line;
}

TEST(LedgerLineTest, RejectsEveryTornPrefixAndCorruptFields) {
    std::string line;
    append_ledger_line(line, segment_record("id", utc(2026, 12, 6, 13)));
    for (size_t length = 0; length + 1 < line.size(); ++length) {
        // A prefix that ends between fields has too few of them; one cut inside a number
        // parses as another number, but a line without its '\n' is torn for the reader.
        auto parsed = parse_ledger_line(line.substr(0, length));
        if (parsed) EXPECT_NE(line.substr(0, length).back(), '\t') << line.substr(0, length);
    }
    // Torn before its last field, a line never passes for one written before schedules were
    // named (one field fewer).
    InvocationReport named = segment_record("id", utc(2026, 12, 6, 13));
    named.principal = {"ASIA1", "reader", "user-1", "nightly"};
    std::string full;
    append_ledger_line(full, named);
    const size_t last_tab = full.rfind('\t');
    for (size_t length = 0; length <= last_tab; ++length) {
        EXPECT_EQ(parse_ledger_line(full.substr(0, length)), std::nullopt) << full.substr(0, length);
    }
    const auto with_field = [&](size_t index, std::string value) {
        std::vector<std::string> fields;
        std::string body = line.substr(0, line.size() - 1);
        for (size_t begin = 0;;) {
            size_t tab = body.find('\t', begin);
            fields.push_back(body.substr(begin, tab == std::string::npos ? std::string::npos : tab - begin));
            if (tab == std::string::npos) break;
            begin = tab + 1;
        }
        fields[index] = std::move(value);
        std::string out;
        for (size_t i = 0; i < fields.size(); ++i) out += (i ? "\t" : "") + fields[i];
        return out + "\n";
    };
    EXPECT_TRUE(parse_ledger_line(with_field(2, "7")));
    EXPECT_FALSE(parse_ledger_line(with_field(0, "")));         // no request id
    EXPECT_FALSE(parse_ledger_line(with_field(2, "-1")));       // version
    EXPECT_FALSE(parse_ledger_line(with_field(3, "cron")));     // trigger
    EXPECT_FALSE(parse_ledger_line(with_field(5, "bad\\q")));   // schedule: an unknown escape
    EXPECT_FALSE(parse_ledger_line(with_field(6, "12x")));      // start
    EXPECT_FALSE(parse_ledger_line(with_field(7, "-5")));       // duration
    EXPECT_FALSE(parse_ledger_line(with_field(12, "throttled")));  // never billed
    EXPECT_FALSE(parse_ledger_line(with_field(13, "1.5")));     // money is whole pico-dollars
    EXPECT_FALSE(parse_ledger_line(with_field(16, "bad\\q")));  // an unknown escape
    EXPECT_FALSE(parse_ledger_line(line.substr(0, line.size() - 1) + "\textra\n"));
    EXPECT_FALSE(parse_ledger_line("\x01\x02 garbage"));
}

TEST_F(SegmentTest, NamesParseBackAndOtherFilesAreNotSegments) {
    fs::create_directories(billing);
    for (const char* name : {"2026-12-06T13.0.tsv", "2026-12-06T13.1.tsv.zst", "2026-11-27.jsonl", "rollups.db",
                             "2026-12-06T13.0.zst.tmp", "2026-12-06T25.0.tsv", "2026-12-06T13.01.tsv", "2026-13-01.jsonl"}) {
        std::ofstream(billing / name) << "";
    }
    const auto segments = list_segments(billing);
    ASSERT_EQ(segments.size(), 3u);
    EXPECT_EQ(segments[0].name, "2026-11-27");
    EXPECT_EQ(segments[0].kind, SegmentKind::legacy_day);
    EXPECT_EQ(segments[0].ends - segments[0].begins, hours(24));
    EXPECT_EQ(segments[1].name, "2026-12-06T13.0");
    EXPECT_EQ(segments[1].begins, utc(2026, 12, 6, 13));
    EXPECT_EQ(segments[2].name, "2026-12-06T13.1");
    EXPECT_EQ(segments[2].kind, SegmentKind::sealed);
    EXPECT_EQ(segments[2].sequence, 1u);
    EXPECT_EQ(segment_name(utc(2026, 12, 6, 9, 59, 59), 12), "2026-12-06T09.12");
}

TEST_F(SegmentTest, SealingSortsByStartDropsDuplicatesAndReadsOnlyTheMinutesAsked) {
    fs::create_directories(billing);
    std::string text(ledger_line_header);
    std::vector<InvocationReport> written;
    std::mt19937 random(7);
    for (int i = 0; i < 3000; ++i) {
        auto r = segment_record("r" + std::to_string(i), utc(2026, 12, 6, 13) + microseconds(random() % 3'600'000'000ull),
                                "f" + std::to_string(i % 7));
        append_ledger_line(text, r);
        if (i % 100 == 0) append_ledger_line(text, r);  // written again after a failed fsync
        written.push_back(r);
    }
    std::ofstream(billing / "2026-12-06T13.0.tsv", std::ios::binary) << text;
    const SegmentFile open = *find_segment(billing, "2026-12-06T13.0");
    const CompressedSegment compressed = compress_segment(open, 3);
    EXPECT_EQ(compressed.records, 3000u);
    EXPECT_EQ(compressed.duplicates, 30u);
    EXPECT_LT(compressed.bytes_out, compressed.bytes_in / 2);

    const SegmentFile sealed = *find_segment(billing, "2026-12-06T13.0");
    ASSERT_EQ(sealed.kind, SegmentKind::sealed) << "listed sealed, though the open file is still there";
    size_t skipped = 0;
    const auto all = read_all(sealed, {}, skipped);
    ASSERT_EQ(all.size(), 3000u);
    EXPECT_TRUE(std::is_sorted(all.begin(), all.end(), [](auto& a, auto& b) { return a.start < b.start; }));
    EXPECT_EQ(skipped, 0u);

    // [13:20:30, 13:21:15): the minute before and after are decompressed, but only the range is read.
    const SegmentRange range{utc(2026, 12, 6, 13, 20, 30), utc(2026, 12, 6, 13, 21, 15)};
    const auto some = read_all(sealed, range, skipped);
    const auto expected = std::count_if(written.begin(), written.end(), [&](auto& r) { return range.contains(r.start); });
    EXPECT_EQ(some.size(), static_cast<size_t>(expected));
    EXPECT_GT(expected, 0);
    for (const auto& r : some) EXPECT_TRUE(range.contains(r.start));
}

TEST_F(SegmentTest, TheSealedFileIsPlainZstdThatZstdcatReads) {
    fs::create_directories(billing);
    std::string text(ledger_line_header);
    for (int minute = 0; minute < 3; ++minute) append_ledger_line(text, segment_record("m" + std::to_string(minute), utc(2026, 12, 6, 13, minute)));
    std::ofstream(billing / "2026-12-06T13.0.tsv", std::ios::binary) << text;
    compress_segment(*find_segment(billing, "2026-12-06T13.0"), 3);
    if (std::system("command -v zstdcat >/dev/null") != 0) GTEST_SKIP() << "zstd's tools are not installed";
    const std::string out = (temp / "out.tsv").string();
    ASSERT_EQ(std::system(("zstdcat -q " + (billing / "2026-12-06T13.0.tsv.zst").string() + " > " + out).c_str()), 0);
    EXPECT_EQ(file_text(out), text) << "the header, then the records, by start";
}

TEST_F(SegmentTest, ACorruptIndexIsAnErrorNotACrash) {
    fs::create_directories(billing);
    std::string text(ledger_line_header);
    append_ledger_line(text, segment_record("a", utc(2026, 12, 6, 13)));
    std::ofstream(billing / "2026-12-06T13.0.tsv", std::ios::binary) << text;
    compress_segment(*find_segment(billing, "2026-12-06T13.0"), 3);
    fs::remove(billing / "2026-12-06T13.0.tsv");
    const fs::path sealed = billing / "2026-12-06T13.0.tsv.zst";
    std::string bytes = file_text(sealed);
    for (size_t cut : {bytes.size() - 1, bytes.size() - 9, size_t{10}, size_t{0}}) {
        std::ofstream(sealed, std::ios::binary | std::ios::trunc) << bytes.substr(0, cut);
        size_t skipped = 0;
        EXPECT_THROW(read_all(*find_segment(billing, "2026-12-06T13.0"), {}, skipped), std::system_error) << cut;
    }
    std::string flipped = bytes;
    flipped[20] ^= 0x55;  // inside the frame: its checksum fails
    std::ofstream(sealed, std::ios::binary | std::ios::trunc) << flipped;
    size_t skipped = 0;
    EXPECT_TRUE(read_all(*find_segment(billing, "2026-12-06T13.0"), {}, skipped).empty());
    EXPECT_EQ(skipped, 1u);
}

TEST_F(SegmentTest, ASegmentSealedWhileBeingReadIsReadWhole) {
    CountingObserver observer;
    LedgerOptions o = options();
    o.observer = &observer;
    Ledger ledger(billing, o);
    for (int i = 0; i < 2000; ++i) ASSERT_TRUE(ledger.append(segment_record("r" + std::to_string(i), utc(2026, 12, 6, 9, 0, i % 3600))));
    ledger.flush();
    std::atomic<bool> stop{false};
    std::atomic<int> reads{0};
    std::thread reader([&] {
        while (!stop) {
            EXPECT_EQ(ledger.query({}).size(), 2000u);
            ++reads;
        }
    });
    ASSERT_TRUE(sofaas::testing::eventually([&] { return reads > 0; }));
    // The sealing thread may have sealed part of it already: then the hour has two segments.
    ledger.seal_due();
    EXPECT_EQ(ledger.storage().open_segments, 0u);
    const int reads_at_seal = reads;
    ASSERT_TRUE(sofaas::testing::eventually([&] { return reads > reads_at_seal + 2; }));
    stop = true;
    reader.join();
    EXPECT_TRUE(fs::exists(billing / "2026-12-06T09.0.tsv.zst"));
    EXPECT_FALSE(fs::exists(billing / "2026-12-06T09.0.tsv"));
    EXPECT_EQ(observer.records, 2000);
    EXPECT_GE(observer.sealed(), 1);
    EXPECT_EQ(observer.replayed(), 2000);
}

// The hour's segment is sealed only seal_after past the hour's end (records come when their
// invocations end); the current hour's never.
TEST_F(SegmentTest, AnHoursSegmentIsSealedSealAfterItsEnd) {
    WallTime now = utc(2026, 12, 6, 13, 5);
    LedgerOptions o = options();
    o.clock = [&] { return now; };
    Ledger ledger(billing, o);
    ASSERT_TRUE(ledger.append(segment_record("a", utc(2026, 12, 6, 12, 59, 59))));
    ASSERT_TRUE(ledger.append(segment_record("b", utc(2026, 12, 6, 13, 0, 0))));
    ledger.flush();
    EXPECT_EQ(ledger.seal_due(), 0u);
    now = utc(2026, 12, 6, 13, 10);  // 12:00-13:00 ended 10 minutes ago
    EXPECT_EQ(ledger.seal_due(), 1u);
    EXPECT_TRUE(fs::exists(billing / "2026-12-06T12.0.tsv.zst"));
    EXPECT_TRUE(fs::exists(billing / "2026-12-06T13.0.tsv"));
    // A late record of the sealed hour starts its next segment.
    ASSERT_TRUE(ledger.append(segment_record("late", utc(2026, 12, 6, 12, 59, 0))));
    EXPECT_TRUE(fs::exists(billing / "2026-12-06T12.1.tsv"));
    ledger.flush();
    EXPECT_EQ(ledger.seal_due(), 1u);
    const auto records = ledger.query({.since = utc(2026, 12, 6, 12), .until = utc(2026, 12, 6, 13)});
    ASSERT_EQ(records.size(), 2u);
    EXPECT_EQ(records[0].request_id, "late");
    EXPECT_EQ(records[1].request_id, "a");
    EXPECT_EQ(ledger.query({.since = utc(2026, 12, 6, 13)}).size(), 1u) << "the hour boundary is exclusive";
}

TEST_F(SegmentTest, ASegmentPastItsSizeLimitStartsTheHoursNextOne) {
    LedgerOptions o = options();
    o.segment_max_bytes = 4096;
    Ledger ledger(billing, o);
    for (int i = 0; i < 400; ++i) ASSERT_TRUE(ledger.append(segment_record("r" + std::to_string(i), utc(2026, 12, 6, 11, 30))));
    ledger.flush();
    const auto segments = list_segments(billing);
    ASSERT_GT(segments.size(), 4u);
    for (const auto& s : segments) EXPECT_LE(fs::file_size(s.path), 4096u) << s.name;
    // All but the hour's current one, which waits for seal_after past the hour.
    EXPECT_EQ(ledger.seal_due(), segments.size() - 1);
    EXPECT_EQ(ledger.query({}).size(), 400u);
    const LedgerStorage storage = ledger.storage();
    EXPECT_EQ(storage.open_segments, 1u);
    EXPECT_EQ(storage.sealed_segments, segments.size() - 1);
    EXPECT_GT(storage.sealed_records, 300u);
}

// The day's last and next hours: a query split at midnight finds each record once.
TEST_F(SegmentTest, MidnightAndHourBoundariesSplitRecordsExactly) {
    Ledger ledger(billing, options());
    const WallTime midnight = utc(2026, 12, 6);
    for (int offset_us : {-2, -1, 0, 1}) {
        ASSERT_TRUE(ledger.append(segment_record("m" + std::to_string(offset_us), midnight + microseconds(offset_us))));
    }
    ledger.flush();
    EXPECT_EQ(ledger.query({.until = midnight}).size(), 2u);
    EXPECT_EQ(ledger.query({.since = midnight}).size(), 2u);
    ledger.seal_due();
    EXPECT_TRUE(fs::exists(billing / "2026-12-05T23.0.tsv.zst"));
    EXPECT_TRUE(fs::exists(billing / "2026-12-06T00.0.tsv.zst"));
    EXPECT_EQ(ledger.query({.until = midnight}).size(), 2u);
    EXPECT_EQ(ledger.query({.since = midnight}).size(), 2u);
    EXPECT_EQ(ledger.query({.since = midnight - microseconds(1), .until = midnight + microseconds(1)}).size(), 2u);
}

// A kill -9 after the .zst was renamed, before the open file was removed: the next start
// finishes the sealing, and no record is read twice.
TEST_F(SegmentTest, ARestartFinishesAnInterruptedSealing) {
    {
        Ledger ledger(billing, options());
        for (int i = 0; i < 10; ++i) ASSERT_TRUE(ledger.append(segment_record("r" + std::to_string(i), utc(2026, 12, 6, 8))));
    }
    compress_segment(*find_segment(billing, "2026-12-06T08.0"), 3);
    std::ofstream(billing / "2026-12-06T08.1.zst.tmp") << "half a compressed segment";
    CountingObserver observer;
    LedgerOptions o = options();
    o.observer = &observer;
    Ledger restarted(billing, o);
    EXPECT_FALSE(fs::exists(billing / "2026-12-06T08.0.tsv"));
    EXPECT_FALSE(fs::exists(billing / "2026-12-06T08.1.zst.tmp"));
    EXPECT_EQ(observer.records, 0) << "sealed: not replayed as open";
    ASSERT_TRUE(sofaas::testing::eventually([&] { return observer.sealed() == 1; }));
    EXPECT_EQ(observer.replayed(), 10);
    EXPECT_EQ(restarted.query({}).size(), 10u);
}

TEST_F(SegmentTest, OpenSegmentsAreReplayedToTheObserverOnceAtStart) {
    {
        Ledger ledger(billing, options());
        for (int i = 0; i < 5; ++i) ASSERT_TRUE(ledger.append(segment_record("r" + std::to_string(i), utc(2026, 12, 6, 11, 59))));
        ASSERT_TRUE(ledger.append(segment_record("r0", utc(2026, 12, 6, 11, 59))));  // a copy, as after a failed fsync
    }
    CountingObserver observer;
    LedgerOptions o = options();
    o.observer = &observer;
    Ledger restarted(billing, o);
    EXPECT_EQ(observer.records, 5);
}

TEST_F(SegmentTest, OldSealedSegmentsMoveToTheArchiveAndAreNoLongerRead) {
    LedgerOptions o = options();
    o.archive_dir = temp / "archive";
    o.archive_after = hours(24);
    Ledger ledger(billing, o);
    ASSERT_TRUE(ledger.append(segment_record("old", utc(2026, 12, 4, 10))));
    ASSERT_TRUE(ledger.append(segment_record("recent", utc(2026, 12, 6, 10))));
    ledger.flush();
    ledger.seal_due();
    EXPECT_TRUE(fs::exists(temp / "archive" / "2026-12-04T10.0.tsv.zst"));
    EXPECT_FALSE(fs::exists(billing / "2026-12-04T10.0.tsv.zst"));
    EXPECT_TRUE(fs::exists(billing / "2026-12-06T10.0.tsv.zst"));
    const auto records = ledger.query({});
    ASSERT_EQ(records.size(), 1u);
    EXPECT_EQ(records[0].request_id, "recent");
    EXPECT_EQ(ledger.storage().archived_segments, 1u);
}

// Sealing needs no listing of the directory (the open segments are known in memory); the
// archive does, but not on every pass: after a seal, then once a minute.
TEST_F(SegmentTest, TheSealerListsTheDirectoryOnlyWhenTheArchiveCanHaveWork) {
    LedgerOptions o = options();
    o.archive_dir = temp / "archive";
    o.archive_after = hours(24);
    o.check_interval = milliseconds(1);
    Ledger ledger(billing, o);
    ASSERT_TRUE(ledger.append(segment_record("old", utc(2026, 12, 4, 10))));
    ASSERT_TRUE(sofaas::testing::eventually([&] { return ledger.storage().archived_segments == 1; }));
    EXPECT_TRUE(fs::exists(temp / "archive" / "2026-12-04T10.0.tsv.zst"));
    std::this_thread::sleep_for(milliseconds(200));  // passes of the sealer, a millisecond apart
    const uint64_t listings = ledger.storage().archive_listings;
    EXPECT_GE(listings, 1u);
    EXPECT_LE(listings, 2u) << "the first pass and the seal, not every pass";
}

// A segment the ledger still had to seal that the operator moved away is left alone, and
// does not hold up the sealing of the others.
TEST_F(SegmentTest, AnOpenSegmentMovedAwayBeforeItsSealingIsSkipped) {
    WallTime now = utc(2026, 12, 6, 8, 30);
    LedgerOptions o = options();
    o.clock = [&] { return now; };
    Ledger ledger(billing, o);
    ASSERT_TRUE(ledger.append(segment_record("a", utc(2026, 12, 6, 8))));
    ASSERT_TRUE(ledger.append(segment_record("b", utc(2026, 12, 6, 9))));
    ledger.flush();
    fs::create_directories(temp / "elsewhere");
    fs::rename(billing / "2026-12-06T08.0.tsv", temp / "elsewhere" / "2026-12-06T08.0.tsv");
    now = utc(2026, 12, 6, 12);  // both hours over
    EXPECT_EQ(ledger.seal_due(), 1u);
    EXPECT_TRUE(fs::exists(billing / "2026-12-06T09.0.tsv.zst"));
    EXPECT_FALSE(fs::exists(billing / "2026-12-06T08.0.tsv.zst"));
    EXPECT_TRUE(fs::exists(temp / "elsewhere" / "2026-12-06T08.0.tsv"));
    EXPECT_EQ(ledger.seal_due(), 0u);
}
