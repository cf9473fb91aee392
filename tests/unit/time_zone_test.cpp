#include <gtest/gtest.h>

#include <cstdint>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "events/time_zone.h"

using namespace sofaas;
using namespace std::chrono;

namespace {

sys_seconds at_utc(int y, unsigned m, unsigned d, int hh = 0, int mm = 0, int ss = 0) {
    return sys_days{year{y} / month{m} / day{d}} + hours(hh) + minutes(mm) + seconds(ss);
}

local_seconds local(int y, unsigned m, unsigned d, int hh = 0, int mm = 0, int ss = 0) {
    return local_days{year{y} / month{m} / day{d}} + hours(hh) + minutes(mm) + seconds(ss);
}

std::string load_error(std::string_view name) {
    std::string why;
    auto zone = TimeZone::load(name, &why);
    return zone ? "loaded" : why;
}

TimeZone rule(std::string_view text) {
    std::string why;
    auto zone = TimeZone::from_posix_rule(text, &why);
    if (!zone) throw TimeZoneError(why);
    return *zone;
}

void append_big_endian(std::string& out, uint64_t value, int width) {
    for (int i = width - 1; i >= 0; --i) out.push_back(static_cast<char>((value >> (8 * i)) & 0xff));
}

// A version 2 TZif file: an empty version 1 block, then `transitions` (time, type index)
// over local time types of the given UTC offsets, then the footer.
std::string tzif_file(const std::vector<std::pair<int64_t, uint8_t>>& transitions, const std::vector<int32_t>& offsets,
                      std::string_view footer) {
    auto header = [](std::string& out, uint32_t timecnt, uint32_t typecnt) {
        out += "TZif2";
        out.append(15, '\0');
        for (uint32_t count : {0u, 0u, 0u, timecnt, typecnt, 1u}) append_big_endian(out, count, 4);
    };
    std::string file;
    header(file, 0, 1);
    file.append(6, '\0');  // one local time type: UTC
    file.push_back('\0');  // its abbreviation
    header(file, static_cast<uint32_t>(transitions.size()), static_cast<uint32_t>(offsets.size()));
    for (const auto& [time, type] : transitions) append_big_endian(file, static_cast<uint64_t>(time), 8);
    for (const auto& [time, type] : transitions) file.push_back(static_cast<char>(type));
    for (int32_t offset : offsets) {
        append_big_endian(file, static_cast<uint32_t>(offset), 4);
        file.append(2, '\0');
    }
    file.push_back('\0');
    file += "\n" + std::string(footer) + "\n";
    return file;
}

}  // namespace

TEST(TimeZone, UtcIsBuiltInWithoutFiles) {
    auto zone = TimeZone::load("UTC");
    ASSERT_TRUE(zone);
    EXPECT_EQ(zone->name(), "UTC");
    EXPECT_EQ(zone->utc_offset_at(at_utc(2024, 7, 1)), seconds(0));
    EXPECT_EQ(TimeZone::utc().to_local(at_utc(2024, 7, 1, 12)), local(2024, 7, 1, 12));
}

TEST(TimeZone, RefusesNamesThatCouldLeaveTheDatabase) {
    EXPECT_EQ(load_error("../etc/passwd"), "time zone name '../etc/passwd' must not contain '..'");
    EXPECT_EQ(load_error("Europe/../../etc/passwd"), "time zone name 'Europe/../../etc/passwd' must not contain '..'");
    EXPECT_EQ(load_error("/etc/passwd"), "time zone name '/etc/passwd' must not start with '/'");
    EXPECT_EQ(load_error(""), "time zone name is empty");
    EXPECT_EQ(load_error(std::string(256, 'A')), "time zone name is longer than 255 characters");
    EXPECT_NE(load_error("Europe/Paris\n").find("other than letters, digits and _+-/"), std::string::npos);
    EXPECT_NE(load_error("zone.tab").find("other than letters"), std::string::npos);
}

TEST(TimeZone, UnknownZoneIsRefusedByName) {
    EXPECT_NE(load_error("Mars/Olympus_Mons").find("unknown time zone 'Mars/Olympus_Mons'"), std::string::npos);
    EXPECT_NE(load_error("Europe").find("unknown time zone 'Europe'"), std::string::npos);  // a directory
    EXPECT_THROW(TimeZone::load_or_throw("Mars/Olympus_Mons"), TimeZoneError);
}

TEST(TimeZone, RefusesFilesThatAreNotPlainTzif) {
    EXPECT_NE(load_error("leapseconds").find("not a TZif file"), std::string::npos);
    EXPECT_NE(load_error("right/Europe/Paris").find("leap seconds are not supported"), std::string::npos);
}

TEST(TimeZone, ParisIsOneHourAheadInWinterAndTwoInSummer) {
    TimeZone paris = TimeZone::load_or_throw("Europe/Paris");
    EXPECT_EQ(paris.name(), "Europe/Paris");
    EXPECT_EQ(paris.utc_offset_at(at_utc(2024, 1, 15)), hours(1));
    EXPECT_EQ(paris.utc_offset_at(at_utc(2024, 7, 15)), hours(2));
    EXPECT_EQ(paris.utc_offset_at(at_utc(2024, 3, 31, 0, 59, 59)), hours(1));
    EXPECT_EQ(paris.utc_offset_at(at_utc(2024, 3, 31, 1)), hours(2));
    EXPECT_EQ(paris.to_local(at_utc(2024, 7, 15, 10)), local(2024, 7, 15, 12));
}

TEST(TimeZone, ParisSpringForwardSkipsTwoToThree) {
    TimeZone paris = TimeZone::load_or_throw("Europe/Paris");
    LocalTimeInUtc skipped = paris.to_utc(local(2024, 3, 31, 2, 30));
    EXPECT_EQ(skipped.kind, LocalTimeInUtc::Kind::gap);
    EXPECT_EQ(skipped.earliest, at_utc(2024, 3, 31, 1));  // 03:00 local, when the gap ends
    EXPECT_EQ(skipped.latest, skipped.earliest);

    LocalTimeInUtc after = paris.to_utc(local(2024, 3, 31, 3));
    EXPECT_EQ(after.kind, LocalTimeInUtc::Kind::unique);
    EXPECT_EQ(after.earliest, at_utc(2024, 3, 31, 1));
}

TEST(TimeZone, ParisFallBackShowsTwoToThreeTwice) {
    TimeZone paris = TimeZone::load_or_throw("Europe/Paris");
    LocalTimeInUtc twice = paris.to_utc(local(2024, 10, 27, 2, 30));
    EXPECT_EQ(twice.kind, LocalTimeInUtc::Kind::fold);
    EXPECT_EQ(twice.earliest, at_utc(2024, 10, 27, 0, 30));
    EXPECT_EQ(twice.latest, at_utc(2024, 10, 27, 1, 30));
    EXPECT_EQ(paris.to_utc(local(2024, 10, 27, 3)).kind, LocalTimeInUtc::Kind::unique);
    EXPECT_EQ(paris.to_utc(local(2024, 10, 27, 1, 59)).kind, LocalTimeInUtc::Kind::unique);
}

TEST(TimeZone, NewYorkGapAndFold) {
    TimeZone new_york = TimeZone::load_or_throw("America/New_York");
    LocalTimeInUtc skipped = new_york.to_utc(local(2024, 3, 10, 2, 30));
    EXPECT_EQ(skipped.kind, LocalTimeInUtc::Kind::gap);
    EXPECT_EQ(skipped.earliest, at_utc(2024, 3, 10, 7));
    LocalTimeInUtc twice = new_york.to_utc(local(2024, 11, 3, 1, 30));
    EXPECT_EQ(twice.kind, LocalTimeInUtc::Kind::fold);
    EXPECT_EQ(twice.earliest, at_utc(2024, 11, 3, 5, 30));
    EXPECT_EQ(twice.latest, at_utc(2024, 11, 3, 6, 30));
}

TEST(TimeZone, ParisBeyond2037FollowsTheFooterRule) {
    TimeZone paris = TimeZone::load_or_throw("Europe/Paris");
    EXPECT_EQ(paris.utc_offset_at(at_utc(2100, 7, 1)), hours(2));
    EXPECT_EQ(paris.utc_offset_at(at_utc(2100, 3, 28, 0, 59, 59)), hours(1));
    EXPECT_EQ(paris.utc_offset_at(at_utc(2100, 3, 28, 1)), hours(2));
    EXPECT_EQ(paris.utc_offset_at(at_utc(2100, 10, 31, 0, 59, 59)), hours(2));
    EXPECT_EQ(paris.utc_offset_at(at_utc(2100, 10, 31, 1)), hours(1));
    LocalTimeInUtc skipped = paris.to_utc(local(2100, 3, 28, 2, 30));
    EXPECT_EQ(skipped.kind, LocalTimeInUtc::Kind::gap);
    EXPECT_EQ(skipped.earliest, at_utc(2100, 3, 28, 1));
}

TEST(TimeZone, LordHoweMovesHalfAnHour) {
    TimeZone lord_howe = TimeZone::load_or_throw("Australia/Lord_Howe");
    EXPECT_EQ(lord_howe.utc_offset_at(at_utc(2024, 4, 6, 14, 59, 59)), hours(11));
    EXPECT_EQ(lord_howe.utc_offset_at(at_utc(2024, 4, 6, 15)), hours(10) + minutes(30));
    LocalTimeInUtc twice = lord_howe.to_utc(local(2024, 4, 7, 1, 45));
    EXPECT_EQ(twice.kind, LocalTimeInUtc::Kind::fold);
    EXPECT_EQ(twice.earliest, at_utc(2024, 4, 6, 14, 45));
    EXPECT_EQ(twice.latest, at_utc(2024, 4, 6, 15, 15));
    LocalTimeInUtc skipped = lord_howe.to_utc(local(2024, 10, 6, 2, 15));
    EXPECT_EQ(skipped.kind, LocalTimeInUtc::Kind::gap);
    EXPECT_EQ(skipped.earliest, at_utc(2024, 10, 5, 15, 30));
}

TEST(TimeZone, KathmanduIsFiveHoursFortyFiveAhead) {
    TimeZone kathmandu = TimeZone::load_or_throw("Asia/Kathmandu");
    EXPECT_EQ(kathmandu.utc_offset_at(at_utc(2024, 6, 1)), hours(5) + minutes(45));
    EXPECT_EQ(kathmandu.utc_offset_at(at_utc(1985, 6, 1)), hours(5) + minutes(30));
    EXPECT_EQ(kathmandu.to_utc(local(2024, 6, 1, 5, 45)).earliest, at_utc(2024, 6, 1));
}

TEST(TimeZone, FixedOffsetsAreNamedByTheirOffset) {
    TimeZone zone = TimeZone::fixed(hours(5) + minutes(45));
    EXPECT_EQ(zone.name(), "UTC+05:45");
    EXPECT_EQ(TimeZone::fixed(-hours(3) - minutes(30)).name(), "UTC-03:30");
    EXPECT_EQ(zone.to_utc(local(2024, 1, 1, 5, 45)).earliest, at_utc(2024, 1, 1));
    EXPECT_THROW(TimeZone::fixed(hours(30)), TimeZoneError);
}

TEST(TimeZone, PosixRuleMatchesTheZoneItCameFrom) {
    TimeZone from_rule = rule("CET-1CEST,M3.5.0,M10.5.0/3");
    TimeZone paris = TimeZone::load_or_throw("Europe/Paris");
    for (sys_seconds t = at_utc(2000, 1, 1); t < at_utc(2036, 1, 1); t += hours(7) + minutes(13)) {
        ASSERT_EQ(from_rule.utc_offset_at(t), paris.utc_offset_at(t)) << t.time_since_epoch().count();
    }
}

TEST(TimeZone, PosixRuleJulianDaysNeverCountFebruary29) {
    TimeZone zone = rule("AAA3BBB,J60/2,J300/2");  // J60 is March 1 in every year
    EXPECT_EQ(zone.utc_offset_at(at_utc(2024, 3, 1, 4, 59, 59)), -hours(3));
    EXPECT_EQ(zone.utc_offset_at(at_utc(2024, 3, 1, 5)), -hours(2));
    EXPECT_EQ(zone.utc_offset_at(at_utc(2023, 3, 1, 5)), -hours(2));
}

TEST(TimeZone, PosixRuleZeroBasedDaysCountFebruary29) {
    TimeZone zone = rule("AAA3BBB,59/2,299/2");  // day 59: Feb 29 in leap years, else March 1
    EXPECT_EQ(zone.utc_offset_at(at_utc(2024, 2, 29, 5)), -hours(2));
    EXPECT_EQ(zone.utc_offset_at(at_utc(2023, 2, 28, 23)), -hours(3));
    EXPECT_EQ(zone.utc_offset_at(at_utc(2023, 3, 1, 5)), -hours(2));
}

TEST(TimeZone, PosixRuleTakesQuotedNamesAndNegativeTimes) {
    EXPECT_EQ(rule("<+03>-3").utc_offset_at(at_utc(2024, 1, 1)), hours(3));
    // Nuuk: daylight time starts on the last Saturday of March at 22:00 local (-1 on Sunday).
    TimeZone nuuk = rule("<-02>2<-01>,M3.5.0/-1,M10.5.0/0");
    EXPECT_EQ(nuuk.utc_offset_at(at_utc(2024, 3, 31, 0, 59, 59)), -hours(2));
    EXPECT_EQ(nuuk.utc_offset_at(at_utc(2024, 3, 31, 1)), -hours(1));
}

TEST(TimeZone, PosixRuleForDaylightTimeAllYear) {
    TimeZone zone = rule("EST5EDT,0/0,J365/25");
    for (sys_seconds t : {at_utc(2024, 1, 1), at_utc(2024, 7, 1), at_utc(2024, 12, 31, 23, 30), at_utc(2025, 1, 1, 4, 30)}) {
        EXPECT_EQ(zone.utc_offset_at(t), -hours(4));
    }
    EXPECT_EQ(zone.to_utc(local(2025, 1, 1, 0, 30)).kind, LocalTimeInUtc::Kind::unique);
}

TEST(TimeZone, BadPosixRulesSayWhatIsWrong) {
    std::string why;
    EXPECT_FALSE(TimeZone::from_posix_rule("CE-1", &why));
    EXPECT_NE(why.find("standard time name"), std::string::npos);
    EXPECT_FALSE(TimeZone::from_posix_rule("CET-1CEST,M13.5.0,M10.5.0/3", &why));
    EXPECT_NE(why.find("daylight time start"), std::string::npos);
    EXPECT_FALSE(TimeZone::from_posix_rule("CET-1CEST,M3.5.0,M10.5.0/3 junk", &why));
    EXPECT_NE(why.find("unexpected text"), std::string::npos);
    EXPECT_FALSE(TimeZone::from_posix_rule("CET-99", &why));
}

TEST(TimeZone, SlimFileWithoutTransitionsFollowsItsFooter) {
    auto zone = TimeZone::from_tzif("Slim/Paris", tzif_file({}, {3600}, "CET-1CEST,M3.5.0,M10.5.0/3"));
    ASSERT_TRUE(zone);
    EXPECT_EQ(zone->utc_offset_at(at_utc(2024, 1, 15)), hours(1));
    EXPECT_EQ(zone->utc_offset_at(at_utc(2024, 7, 15)), hours(2));
    EXPECT_EQ(zone->to_utc(local(2024, 3, 31, 2, 30)).kind, LocalTimeInUtc::Kind::gap);
}

TEST(TimeZone, FooterTakesOverAfterTheLastTransition) {
    int64_t in_2000 = at_utc(2000, 1, 1).time_since_epoch().count();
    auto zone = TimeZone::from_tzif("Test/Zone", tzif_file({{in_2000, 1}}, {0, 3600}, "CET-1CEST,M3.5.0,M10.5.0/3"));
    ASSERT_TRUE(zone);
    EXPECT_EQ(zone->utc_offset_at(at_utc(1999, 7, 1)), seconds(0));
    EXPECT_EQ(zone->utc_offset_at(at_utc(2000, 1, 1)), hours(1));
    EXPECT_EQ(zone->utc_offset_at(at_utc(2000, 7, 1)), hours(2));
    LocalTimeInUtc skipped = zone->to_utc(local(2000, 1, 1, 0, 30));  // clocks went 00:00 -> 01:00
    EXPECT_EQ(skipped.kind, LocalTimeInUtc::Kind::gap);
    EXPECT_EQ(skipped.earliest, at_utc(2000, 1, 1));
}

TEST(TimeZone, FileWithoutFooterKeepsItsLastOffset) {
    auto zone = TimeZone::from_tzif("Test/Zone", tzif_file({{0, 1}}, {0, 7200}, ""));
    ASSERT_TRUE(zone);
    EXPECT_EQ(zone->utc_offset_at(at_utc(1969, 12, 31)), seconds(0));
    EXPECT_EQ(zone->utc_offset_at(at_utc(2500, 1, 1)), hours(2));
}

TEST(TimeZone, BrokenFilesAreRefused) {
    std::string why;
    EXPECT_FALSE(TimeZone::from_tzif("Test/Zone", "hello", &why));
    EXPECT_NE(why.find("not a TZif file"), std::string::npos);
    std::string file = tzif_file({{0, 1}}, {0, 7200}, "");
    EXPECT_FALSE(TimeZone::from_tzif("Test/Zone", file.substr(0, file.size() - 20), &why));
    EXPECT_NE(why.find("truncated"), std::string::npos);
    EXPECT_FALSE(TimeZone::from_tzif("Test/Zone", tzif_file({{0, 5}}, {0, 7200}, ""), &why));
    EXPECT_NE(why.find("does not exist"), std::string::npos);
    EXPECT_FALSE(TimeZone::from_tzif("Test/Zone", tzif_file({{10, 1}, {5, 0}}, {0, 7200}, ""), &why));
    EXPECT_NE(why.find("out of order"), std::string::npos);
}

TEST(TimeZone, CopiesAreSafeToUseFromManyThreads) {
    TimeZone paris = TimeZone::load_or_throw("Europe/Paris");
    std::vector<std::thread> threads;
    std::vector<int> mismatches(4, 0);
    for (int i = 0; i < 4; ++i) {
        threads.emplace_back([&, i, zone = paris] {
            for (sys_seconds t = at_utc(2020, 1, 1); t < at_utc(2060, 1, 1); t += hours(97)) {
                if (zone.to_utc(zone.to_local(t)).earliest > t) ++mismatches[i];
            }
        });
    }
    for (std::thread& thread : threads) thread.join();
    EXPECT_EQ(mismatches, std::vector<int>(4, 0));
}

TEST(TimeZone, ExtremeInstantsDoNotOverflow) {
    TimeZone paris = TimeZone::load_or_throw("Europe/Paris");
    EXPECT_EQ(paris.utc_offset_at(sys_seconds::max()), hours(1));
    EXPECT_EQ(paris.utc_offset_at(sys_seconds::min()), paris.utc_offset_at(at_utc(-9999, 1, 1)));
    paris.to_utc(local_seconds::max());
    paris.to_utc(local_seconds::min());
}

TEST(TimeZone, DamagedFilesAndRulesNeverCrash) {
    std::ifstream in("/usr/share/zoneinfo/Europe/Paris", std::ios::binary);
    std::stringstream bytes;
    bytes << in.rdbuf();
    const std::string paris = bytes.str();
    ASSERT_FALSE(paris.empty());
    const std::string alphabet = "<>+-0123456789,.:/JMCESTAZ";
    std::mt19937 random(8536);
    for (int i = 0; i < 3000; ++i) {
        std::string file = paris;
        for (int flips = 1 + random() % 4; flips > 0; --flips) file[random() % file.size()] = char(random());
        if (random() % 4 == 0) file.resize(random() % file.size());
        std::string text;
        for (size_t j = random() % 30; j > 0; --j) text += alphabet[random() % alphabet.size()];
        for (auto zone : {TimeZone::from_tzif("Damaged", file), TimeZone::from_posix_rule(text)}) {
            if (!zone) continue;
            sys_seconds t = at_utc(1900, 1, 1) + seconds(random() % (86400LL * 366 * 250));
            EXPECT_LT(abs(zone->utc_offset_at(t)), hours(27));
            zone->to_utc(zone->to_local(t));
        }
    }
}
