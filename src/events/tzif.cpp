// RFC 8536, the Time Zone Information Format.
#include <cstdint>

#include "events/time_zone_rules.h"

namespace sofaas {
namespace {

using namespace std::chrono;

class BigEndianReader {
public:
    explicit BigEndianReader(std::string_view bytes) : bytes_(bytes) {}

    bool has(size_t count) const { return count <= bytes_.size() - pos_; }
    size_t position() const { return pos_; }
    std::string_view take(size_t count) {
        std::string_view out = bytes_.substr(pos_, count);
        pos_ += count;
        return out;
    }
    uint64_t unsigned_number(size_t width) {
        uint64_t value = 0;
        for (unsigned char c : take(width)) value = (value << 8) | c;
        return value;
    }
    int64_t signed_number(size_t width) {
        uint64_t value = unsigned_number(width);
        if (width < 8 && (value >> (width * 8 - 1)) != 0) value |= ~uint64_t{0} << (width * 8);
        return static_cast<int64_t>(value);
    }

private:
    std::string_view bytes_;
    size_t pos_ = 0;
};

struct Header {
    char version = 0;
    uint64_t isutcnt = 0, isstdcnt = 0, leapcnt = 0, timecnt = 0, typecnt = 0, charcnt = 0;

    // Bytes of the data block that follows, with `time_size`-byte transition times.
    uint64_t data_size(uint64_t time_size) const {
        return timecnt * time_size + timecnt + typecnt * 6 + charcnt + leapcnt * (time_size + 4) + isstdcnt +
               isutcnt;
    }
};

constexpr size_t kHeaderSize = 44;
// RFC 8536 section 3.2: utoff must lie in -89999..93599 (about -25 h to +26 h).
constexpr int64_t kMinUtoff = -89999;
constexpr int64_t kMaxUtoff = 93599;

std::optional<Header> read_header(BigEndianReader& reader, size_t time_size, std::string& problem) {
    if (!reader.has(kHeaderSize) || reader.take(4) != "TZif") {
        problem = "not a TZif file";
        return std::nullopt;
    }
    Header header;
    header.version = reader.take(1)[0];
    reader.take(15);
    header.isutcnt = reader.unsigned_number(4);
    header.isstdcnt = reader.unsigned_number(4);
    header.leapcnt = reader.unsigned_number(4);
    header.timecnt = reader.unsigned_number(4);
    header.typecnt = reader.unsigned_number(4);
    header.charcnt = reader.unsigned_number(4);
    if (header.typecnt == 0 || header.typecnt > 256 || header.charcnt == 0 ||
        (header.isutcnt != 0 && header.isutcnt != header.typecnt) ||
        (header.isstdcnt != 0 && header.isstdcnt != header.typecnt)) {
        problem = "inconsistent TZif header counts";
        return std::nullopt;
    }
    // Leap-second zones ("right/...") count seconds that POSIX time does not.
    if (header.leapcnt != 0) {
        problem = "zones with leap seconds are not supported";
        return std::nullopt;
    }
    if (!reader.has(header.data_size(time_size))) {
        problem = "truncated TZif file";
        return std::nullopt;
    }
    return header;
}

std::optional<TimeZone::Rules> read_data(BigEndianReader& reader, const Header& header, size_t time_size,
                                         std::string name, std::string& problem) {
    std::vector<int64_t> times;
    for (uint64_t i = 0; i < header.timecnt; ++i) {
        times.push_back(reader.signed_number(time_size));
        if (i > 0 && times[i] <= times[i - 1]) {
            problem = "TZif transition times out of order";
            return std::nullopt;
        }
    }
    std::vector<uint64_t> type_of_transition;
    for (uint64_t i = 0; i < header.timecnt; ++i) {
        type_of_transition.push_back(reader.unsigned_number(1));
        if (type_of_transition.back() >= header.typecnt) {
            problem = "TZif transition names a local time type that does not exist";
            return std::nullopt;
        }
    }
    std::vector<seconds> type_offsets;
    for (uint64_t i = 0; i < header.typecnt; ++i) {
        int64_t utoff = reader.signed_number(4);
        reader.take(2);  // isdst, desigidx: schedules need only the offset
        if (utoff < kMinUtoff || utoff > kMaxUtoff) {
            problem = "TZif UTC offset out of range";
            return std::nullopt;
        }
        type_offsets.push_back(seconds(utoff));
    }
    reader.take(header.charcnt + header.isstdcnt + header.isutcnt);

    TimeZone::Rules rules;
    rules.name = std::move(name);
    rules.initial_offset = type_offsets[0];
    seconds current = rules.initial_offset;
    for (size_t i = 0; i < times.size(); ++i) {
        seconds offset = type_offsets[type_of_transition[i]];
        if (offset == current) continue;
        rules.transition_times.push_back(sys_seconds(seconds(times[i])));
        rules.offsets_after.push_back(offset);
        current = offset;
    }
    if (!times.empty()) rules.footer_from = sys_seconds(seconds(times.back()));
    return rules;
}

}  // namespace

std::optional<TimeZone::Rules> parse_tzif(std::string name, std::string_view bytes, std::string* why) {
    std::string problem;
    auto fail = [&]() -> std::optional<TimeZone::Rules> {
        if (why) *why = "time zone '" + name + "': " + problem;
        return std::nullopt;
    };
    BigEndianReader reader(bytes);
    auto header = read_header(reader, 4, problem);
    if (!header) return fail();
    if (header->version == 0) {
        auto rules = read_data(reader, *header, 4, name, problem);
        if (!rules) return fail();
        return rules;
    }

    // Version 2 and later repeat the data with 64-bit times after the version 1 block,
    // then end with the footer "\n<POSIX TZ string>\n".
    reader.take(header->data_size(4));
    auto header64 = read_header(reader, 8, problem);
    if (!header64) return fail();
    auto rules = read_data(reader, *header64, 8, name, problem);
    if (!rules) return fail();

    std::string_view rest = reader.take(bytes.size() - reader.position());
    if (rest.size() < 2 || rest.front() != '\n') {
        problem = "TZif footer missing";
        return fail();
    }
    size_t end = rest.find('\n', 1);
    if (end == std::string_view::npos) {
        problem = "TZif footer not terminated";
        return fail();
    }
    std::string_view footer = rest.substr(1, end - 1);
    if (!footer.empty()) {
        auto rule = PosixTzRule::parse(footer, &problem);
        if (!rule) return fail();
        rules->footer = std::move(*rule);
    }
    return rules;
}

}  // namespace sofaas
