#include "util/timezone.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <optional>
#include <random>
#include <string>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

using namespace gt::util;
using namespace std::chrono_literals;

namespace {

TimePoint utc_at(int y, int mo, int d, int h = 0, int mi = 0, int s = 0) {
    return TimePoint{
        std::chrono::seconds{days_from_civil(y, mo, d) * 86400L + h * 3600L + mi * 60L + s}};
}

std::string zoneinfo_dir() {
    const char* dir = std::getenv("TZDIR");
    return dir != nullptr && *dir != '\0' ? dir : "/usr/share/zoneinfo";
}

bool have_zone(const std::string& name) {
    return std::filesystem::is_regular_file(zoneinfo_dir() + "/" + name);
}

#define LOAD_OR_SKIP(var, zone)                                                                    \
    if (!have_zone(zone)) {                                                                        \
        GTEST_SKIP() << "tzdata file for " << zone << " not installed";                            \
    }                                                                                              \
    auto var##_result = TimeZone::load(zone);                                                      \
    ASSERT_TRUE(var##_result.ok()) << var##_result.error();                                        \
    const TimeZone var = *var##_result

// Sets an environment variable for one scope and restores the previous value (or its absence).
class ScopedEnv {
public:
    ScopedEnv(const char* name, const std::optional<std::string>& value) : m_name(name) {
        if (const char* old = std::getenv(name)) {
            m_old = old;
        }
        set(value);
    }
    ~ScopedEnv() { set(m_old); }
    ScopedEnv(const ScopedEnv&) = delete;
    ScopedEnv& operator=(const ScopedEnv&) = delete;

private:
    void set(const std::optional<std::string>& value) {
        if (value) {
            ::setenv(m_name.c_str(), value->c_str(), 1);
        } else {
            ::unsetenv(m_name.c_str());
        }
        ::tzset();
    }
    std::string m_name;
    std::optional<std::string> m_old;
};

void put32(std::string& out, std::uint32_t v) {
    for (int shift = 24; shift >= 0; shift -= 8) {
        out.push_back(static_cast<char>(v >> shift & 0xff));
    }
}

void put64(std::string& out, std::uint64_t v) {
    put32(out, static_cast<std::uint32_t>(v >> 32));
    put32(out, static_cast<std::uint32_t>(v));
}

struct TzifType {
    std::int32_t utoff;
    bool isdst;
};

// A TZif version 2 file: transitions in both blocks, abbreviation "ZZZ" for every type.
std::string make_tzif(const std::vector<std::int64_t>& times, const std::vector<int>& index,
                      const std::vector<TzifType>& types, const std::string& footer) {
    auto header = [&](std::string& out) {
        out += "TZif2";
        out.append(15, '\0');
        for (std::size_t count : {std::size_t{0}, std::size_t{0}, std::size_t{0}, times.size(),
                                  types.size(), std::size_t{4}}) {
            put32(out, static_cast<std::uint32_t>(count));
        }
    };
    auto block = [&](std::string& out, bool wide) {
        for (auto t : times) {
            wide ? put64(out, static_cast<std::uint64_t>(t))
                 : put32(out, static_cast<std::uint32_t>(t));
        }
        for (int i : index) {
            out.push_back(static_cast<char>(i));
        }
        for (const auto& type : types) {
            put32(out, static_cast<std::uint32_t>(type.utoff));
            out.push_back(type.isdst ? 1 : 0);
            out.push_back(0);
        }
        out.append("ZZZ", 4);
    };
    std::string out;
    header(out);
    block(out, false);
    header(out);
    block(out, true);
    return out + "\n" + footer + "\n";
}

// A valid file: +1h until 2000-01-01, then +2h, then the footer (+3h) after 2010-01-01.
std::string sample_tzif() {
    const auto y2000 = days_from_civil(2000, 1, 1) * 86400L;
    const auto y2010 = days_from_civil(2010, 1, 1) * 86400L;
    return make_tzif({y2000, y2010}, {1, 2}, {{3600, false}, {7200, false}, {10800, false}},
                     "<+03>-3");
}

// Points $TZDIR at a fresh directory for the test and restores it afterwards.
class TimeZoneFiles : public ::testing::Test {
protected:
    void SetUp() override {
        std::string tmpl = (std::filesystem::temp_directory_path() / "gt-tz-XXXXXX").string();
        ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
        m_dir = tmpl;
        m_env.emplace("TZDIR", m_dir);
    }
    void TearDown() override {
        m_env.reset();
        std::filesystem::remove_all(m_dir);
    }
    void write(const std::string& name, const std::string& bytes) {
        std::filesystem::create_directories(
            std::filesystem::path(m_dir + "/" + name).parent_path());
        std::ofstream(m_dir + "/" + name, std::ios::binary) << bytes;
    }
    void expect_invalid(const std::string& name) {
        auto tz = TimeZone::load(name);
        ASSERT_FALSE(tz.ok()) << name;
        EXPECT_NE(tz.error().find(name + ": not a valid TZif file ("), std::string::npos)
            << tz.error();
    }

    std::string m_dir;
    std::optional<ScopedEnv> m_env;
};

} // namespace

TEST(CivilTime, KnownDays) {
    EXPECT_EQ(days_from_civil(1970, 1, 1), 0);
    EXPECT_EQ(days_from_civil(1969, 12, 31), -1);
    EXPECT_EQ(days_from_civil(2000, 2, 29), 11016);
    EXPECT_EQ(days_from_civil(2000, 3, 1), 11017);
    EXPECT_EQ(days_from_civil(2026, 11, 24), 20781);
    EXPECT_EQ(days_from_civil(1900, 3, 1) - days_from_civil(1900, 2, 28), 1); // not a leap year
    EXPECT_EQ(days_from_civil(2024, 3, 1) - days_from_civil(2024, 2, 28), 2);
    EXPECT_EQ((civil_from_days(11016)), (CivilTime{2000, 2, 29}));
    EXPECT_EQ((civil_from_days(20781)), (CivilTime{2026, 11, 24}));
    EXPECT_EQ((civil_from_days(0)), (CivilTime{1970, 1, 1}));
    EXPECT_EQ((civil_from_days(-719468)), (CivilTime{0, 3, 1}));
}

TEST(CivilTime, RoundTripsEveryDayOverCenturies) {
    CivilTime prev = civil_from_days(-400000 - 1);
    for (long d = -400000; d <= 400000; ++d) {
        const CivilTime c = civil_from_days(d);
        ASSERT_EQ(days_from_civil(c.year, c.month, c.day), d);
        const bool next_day = c.year == prev.year && c.month == prev.month && c.day == prev.day + 1;
        const bool next_month =
            c.day == 1 && (c.month == prev.month + 1 ||
                           (c.month == 1 && prev.month == 12 && c.year == prev.year + 1));
        ASSERT_TRUE(next_day || next_month) << c.year << "-" << c.month << "-" << c.day;
        if (c.month == 3 && c.day == 1) {
            const bool leap = c.year % 4 == 0 && (c.year % 100 != 0 || c.year % 400 == 0);
            ASSERT_EQ(prev.day, leap ? 29 : 28) << c.year;
        }
        prev = c;
    }
}

TEST(TimeZone, UtcConvertsBothWays) {
    const TimeZone tz = TimeZone::utc();
    EXPECT_EQ(tz.name(), "UTC");
    const TimePoint t{Millis(1795341600123)}; // 2026-11-22T10:00:00.123Z
    EXPECT_EQ(tz.offset_at(t), 0s);
    EXPECT_EQ(tz.to_local(t), (CivilTime{2026, 11, 22, 10, 0, 0}));
    EXPECT_EQ(tz.from_local({2026, 11, 22, 10, 0, 0}), TimePoint{Millis(1795341600000)});
    EXPECT_EQ(tz.to_local(TimePoint{Millis(-1)}), (CivilTime{1969, 12, 31, 23, 59, 59}));
}

TEST(TimeZone, FixedOffsetsConvertBothWays) {
    const TimeZone east = TimeZone::fixed(5h + 30min, "+05:30");
    EXPECT_EQ(east.name(), "+05:30");
    const TimePoint t = utc_at(2026, 11, 22, 20, 0);
    EXPECT_EQ(east.offset_at(t), 5h + 30min);
    EXPECT_EQ(east.to_local(t), (CivilTime{2026, 11, 23, 1, 30, 0}));
    EXPECT_EQ(east.from_local({2026, 11, 23, 1, 30, 0}), t);
    const TimeZone west = TimeZone::fixed(-(3h + 30min), "-03:30");
    EXPECT_EQ(west.to_local(t), (CivilTime{2026, 11, 22, 16, 30, 0}));
    EXPECT_EQ(west.from_local({2026, 11, 22, 16, 30, 0}), t);
}

TEST(TimeZone, LosAngelesSummerWinterGapAndOverlap) {
    LOAD_OR_SKIP(la, "America/Los_Angeles");
    EXPECT_EQ(la.name(), "America/Los_Angeles");
    EXPECT_EQ(la.offset_at(utc_at(2026, 7, 1, 12)), -7h);
    EXPECT_EQ(la.offset_at(utc_at(2026, 12, 1, 12)), -8h);
    EXPECT_EQ(la.to_local(utc_at(2026, 7, 1, 12)), (CivilTime{2026, 7, 1, 5, 0, 0}));
    // 02:30 does not exist on 2026-03-08: moved forward by the hour to 03:30 PDT.
    EXPECT_EQ(la.from_local({2026, 3, 8, 2, 30, 0}), utc_at(2026, 3, 8, 10, 30));
    EXPECT_EQ(la.from_local({2026, 3, 8, 1, 59, 59}), utc_at(2026, 3, 8, 9, 59, 59));
    EXPECT_EQ(la.from_local({2026, 3, 8, 3, 0, 0}), utc_at(2026, 3, 8, 10, 0));
    // 01:30 happens twice on 2026-11-01: the earlier one, in PDT.
    EXPECT_EQ(la.from_local({2026, 11, 1, 1, 30, 0}), utc_at(2026, 11, 1, 8, 30));
    EXPECT_EQ(la.from_local({2026, 11, 1, 2, 0, 0}), utc_at(2026, 11, 1, 10, 0));
}

TEST(TimeZone, LosAngelesFarFutureUsesFooterRule) {
    LOAD_OR_SKIP(la, "America/Los_Angeles");
    EXPECT_EQ(la.offset_at(utc_at(2090, 7, 1, 12)), -7h);
    EXPECT_EQ(la.offset_at(utc_at(2090, 12, 1, 12)), -8h);
    EXPECT_EQ(la.from_local({2090, 7, 1, 5, 0, 0}), utc_at(2090, 7, 1, 12));
}

TEST(TimeZone, LosAngelesRoundTripsEveryHourOf2026) {
    LOAD_OR_SKIP(la, "America/Los_Angeles");
    for (TimePoint t = utc_at(2026, 1, 1); t < utc_at(2027, 1, 1); t += 1h) {
        const TimePoint back = la.from_local(la.to_local(t));
        // Only the second 01:xx of the fall-back night maps to the earlier instant.
        if (t == utc_at(2026, 11, 1, 9)) {
            EXPECT_EQ(back, t - 1h);
        } else {
            EXPECT_EQ(back, t) << (t.time_since_epoch().count() / 1000);
        }
    }
}

TEST(TimeZone, OtherZones) {
    for (const char* zone : {"Europe/Berlin", "Asia/Kolkata", "Australia/Lord_Howe"}) {
        if (!have_zone(zone)) {
            GTEST_SKIP() << "tzdata file for " << zone << " not installed";
        }
    }
    EXPECT_EQ(TimeZone::load("Europe/Berlin")->offset_at(utc_at(2026, 7, 1, 12)), 2h);
    EXPECT_EQ(TimeZone::load("Europe/Berlin")->offset_at(utc_at(2026, 1, 1, 12)), 1h);
    EXPECT_EQ(TimeZone::load("Asia/Kolkata")->offset_at(utc_at(2026, 7, 1, 12)), 5h + 30min);
    const TimeZone lord_howe = *TimeZone::load("Australia/Lord_Howe");
    EXPECT_EQ(lord_howe.offset_at(utc_at(2026, 1, 15)), 11h);
    EXPECT_EQ(lord_howe.offset_at(utc_at(2026, 7, 15)), 10h + 30min);
    EXPECT_EQ(lord_howe.offset_at(utc_at(2090, 1, 15)), 11h);
}

TEST(TimeZone, AgreesWithLibcOverDecades) {
    for (const char* zone : {"America/Los_Angeles", "Europe/Berlin", "Australia/Lord_Howe",
                             "America/Sao_Paulo", "Asia/Tehran", "Pacific/Chatham"}) {
        if (!have_zone(zone)) {
            continue;
        }
        const TimeZone tz = *TimeZone::load(zone);
        const ScopedEnv env("TZ", std::string(":") + zone);
        for (std::time_t s = 0; s < 4102444800; s += 86400 * 3 + 3607) { // 1970-2100
            std::tm tm{};
            ASSERT_NE(::localtime_r(&s, &tm), nullptr);
            ASSERT_EQ(tz.offset_at(TimePoint{std::chrono::seconds{s}}).count(), tm.tm_gmtoff)
                << zone << " at " << s;
        }
    }
}

TEST(TimeZone, LoadsEveryInstalledZone) {
    const std::filesystem::path root = zoneinfo_dir();
    if (!std::filesystem::is_directory(root)) {
        GTEST_SKIP() << "no zoneinfo directory at " << root;
    }
    int loaded = 0;
    for (const auto& entry : std::filesystem::recursive_directory_iterator(root)) {
        const std::string name = std::filesystem::relative(entry.path(), root).string();
        std::ifstream in(entry.path(), std::ios::binary);
        std::string magic(4, '\0');
        in.read(magic.data(), 4);
        if (!entry.is_regular_file() || magic != "TZif" || name.find('.') != std::string::npos) {
            continue;
        }
        auto tz = TimeZone::load(name);
        EXPECT_TRUE(tz.ok()) << name << ": " << tz.error();
        ++loaded;
    }
    EXPECT_GT(loaded, 100);
}

TEST(TimeZone, PosixUsEastern) {
    auto tz = TimeZone::from_posix("EST5EDT,M3.2.0,M11.1.0");
    ASSERT_TRUE(tz.ok()) << tz.error();
    EXPECT_EQ(tz->name(), "EST5EDT,M3.2.0,M11.1.0");
    EXPECT_EQ(tz->offset_at(utc_at(2026, 7, 1, 12)), -4h);
    EXPECT_EQ(tz->offset_at(utc_at(2026, 12, 1, 12)), -5h);
    EXPECT_EQ(tz->offset_at(utc_at(2026, 3, 8, 6, 59, 59)), -5h);
    EXPECT_EQ(tz->offset_at(utc_at(2026, 3, 8, 7)), -4h);
    EXPECT_EQ(tz->offset_at(utc_at(2026, 11, 1, 5, 59, 59)), -4h);
    EXPECT_EQ(tz->offset_at(utc_at(2026, 11, 1, 6)), -5h);
    auto implied = TimeZone::from_posix("EST5EDT"); // default rules and DST offset
    ASSERT_TRUE(implied.ok()) << implied.error();
    EXPECT_EQ(implied->offset_at(utc_at(2026, 3, 8, 7)), -4h);
    EXPECT_EQ(implied->offset_at(utc_at(2026, 11, 1, 6)), -5h);
}

TEST(TimeZone, PosixQuotedFixedAndUtc) {
    auto tehran = TimeZone::from_posix("<+0330>-3:30");
    ASSERT_TRUE(tehran.ok()) << tehran.error();
    EXPECT_EQ(tehran->offset_at(utc_at(2026, 7, 1)), 3h + 30min);
    EXPECT_EQ(tehran->offset_at(utc_at(2026, 1, 1)), 3h + 30min);
    auto utc = TimeZone::from_posix("UTC0");
    ASSERT_TRUE(utc.ok()) << utc.error();
    EXPECT_EQ(utc->offset_at(utc_at(2026, 7, 1)), 0s);
    EXPECT_EQ(TimeZone::from_posix("<-0330>3:30")->offset_at(utc_at(2026, 7, 1)), -(3h + 30min));
    EXPECT_EQ(TimeZone::from_posix("XXX-1:02:03")->offset_at(utc_at(2026, 7, 1)), 3723s);
}

TEST(TimeZone, PosixCentralEuropeTransitionsAtOneUtc) {
    auto tz = TimeZone::from_posix("CET-1CEST,M3.5.0,M10.5.0/3");
    ASSERT_TRUE(tz.ok()) << tz.error();
    EXPECT_EQ(tz->offset_at(utc_at(2026, 3, 29, 0, 59, 59)), 1h);
    EXPECT_EQ(tz->offset_at(utc_at(2026, 3, 29, 1)), 2h);
    EXPECT_EQ(tz->offset_at(utc_at(2026, 10, 25, 0, 59, 59)), 2h);
    EXPECT_EQ(tz->offset_at(utc_at(2026, 10, 25, 1)), 1h);
    EXPECT_EQ(tz->from_local({2026, 3, 29, 2, 30, 0}), utc_at(2026, 3, 29, 1, 30));   // gap
    EXPECT_EQ(tz->from_local({2026, 10, 25, 2, 30, 0}), utc_at(2026, 10, 25, 0, 30)); // overlap
}

TEST(TimeZone, PosixSouthernJulianAndNegativeRuleTimes) {
    auto sydney = TimeZone::from_posix("AEST-10AEDT,M10.1.0,M4.1.0/3");
    ASSERT_TRUE(sydney.ok()) << sydney.error();
    EXPECT_EQ(sydney->offset_at(utc_at(2026, 1, 15)), 11h);
    EXPECT_EQ(sydney->offset_at(utc_at(2026, 7, 15)), 10h);
    // J60 is March 1 even in a leap year; 59 (zero-based) is Feb 29 in one.
    auto julian1 = TimeZone::from_posix("AAA0BBB,J60/0,J300/0");
    ASSERT_TRUE(julian1.ok()) << julian1.error();
    EXPECT_EQ(julian1->offset_at(utc_at(2024, 2, 29, 23, 59, 59)), 0s);
    EXPECT_EQ(julian1->offset_at(utc_at(2024, 3, 1)), 1h);
    auto julian0 = TimeZone::from_posix("AAA0BBB,59/0,300/0");
    ASSERT_TRUE(julian0.ok()) << julian0.error();
    EXPECT_EQ(julian0->offset_at(utc_at(2024, 2, 28, 23, 59, 59)), 0s);
    EXPECT_EQ(julian0->offset_at(utc_at(2024, 2, 29)), 1h);
    // Version 3 rule time: -1:00 on the last Sunday of March is Saturday 23:00 local.
    auto nuuk = TimeZone::from_posix("<-02>2<-01>,M3.5.0/-1,M10.5.0/0");
    ASSERT_TRUE(nuuk.ok()) << nuuk.error();
    EXPECT_EQ(nuuk->offset_at(utc_at(2026, 3, 29, 0, 59, 59)), -2h);
    EXPECT_EQ(nuuk->offset_at(utc_at(2026, 3, 29, 1)), -1h);
    auto all_year = TimeZone::from_posix("EST5EDT,0/0,J365/25");
    ASSERT_TRUE(all_year.ok()) << all_year.error();
    EXPECT_EQ(all_year->offset_at(utc_at(2026, 1, 1, 12)), -4h);
    EXPECT_EQ(all_year->offset_at(utc_at(2026, 12, 31, 23)), -4h);
}

TEST(TimeZone, PosixRejectsInvalidStrings) {
    for (const char* bad : {"",
                            "EST",
                            "ES5",
                            "5",
                            "EST5 ",
                            "EST25",
                            "EST5:60",
                            "EST-",
                            "<+03",
                            "<>3",
                            "<+0>3",
                            "EST5EDT,M3.2.0",
                            "EST5EDT,M13.2.0,M11.1.0",
                            "EST5EDT,M3.6.0,M11.1.0",
                            "EST5EDT,M3.2.7,M11.1.0",
                            "EST5EDT,J0,J365",
                            "EST5EDT,366,J365",
                            "EST5EDT,M3.2.0/168,M11.1.0",
                            "EST5EDT,M3.2.0,M11.1.0,",
                            "EST5EDT4x",
                            "EST99999999999999999999"}) {
        auto tz = TimeZone::from_posix(bad);
        ASSERT_FALSE(tz.ok()) << bad;
        EXPECT_NE(tz.error().find("not a valid POSIX TZ string"), std::string::npos) << tz.error();
    }
}

TEST(TimeZone, RejectsHostileNames) {
    const std::string long_name(300, 'a');
    for (const std::string& bad :
         {std::string("../etc/passwd"), std::string("/etc/passwd"), std::string(""),
          std::string("a//b"), std::string("America/"), std::string("./UTC"),
          std::string("Europe/../etc/passwd"), std::string("Europe/Berlin\n"), std::string("UTC "),
          long_name}) {
        auto tz = TimeZone::load(bad);
        ASSERT_FALSE(tz.ok()) << bad;
        EXPECT_NE(tz.error().find("invalid time zone name"), std::string::npos) << tz.error();
        if (!bad.empty() && bad.size() < 64 && bad.back() != '\n') {
            EXPECT_NE(tz.error().find(bad), std::string::npos) << tz.error();
        }
    }
}

TEST(TimeZone, RejectsDirectoriesAndMissingZones) {
    for (const char* bad : {"America", "No/Such_Zone"}) {
        auto tz = TimeZone::load(bad);
        ASSERT_FALSE(tz.ok()) << bad;
        EXPECT_EQ(tz.error().rfind(std::string(bad) + ": ", 0), 0u) << tz.error();
    }
}

TEST_F(TimeZoneFiles, LoadsHandBuiltFileAndFollowsSymlinks) {
    write("Test/Zone", sample_tzif());
    ASSERT_EQ(::symlink("Test/Zone", (m_dir + "/Link").c_str()), 0);
    for (const char* name : {"Test/Zone", "Link"}) {
        auto tz = TimeZone::load(name);
        ASSERT_TRUE(tz.ok()) << tz.error();
        EXPECT_EQ(tz->name(), name);
        EXPECT_EQ(tz->offset_at(utc_at(1999, 12, 31, 23, 59, 59)), 1h);
        EXPECT_EQ(tz->offset_at(utc_at(2000, 1, 1)), 2h);
        EXPECT_EQ(tz->offset_at(utc_at(2010, 1, 1)), 3h);
        EXPECT_EQ(tz->offset_at(utc_at(2090, 1, 1)), 3h);
    }
}

TEST_F(TimeZoneFiles, FooterOnlyFileUsesFooterEverywhere) {
    write("Slim", make_tzif({}, {}, {{-18000, false}}, "EST5EDT,M3.2.0,M11.1.0"));
    auto tz = TimeZone::load("Slim");
    ASSERT_TRUE(tz.ok()) << tz.error();
    EXPECT_EQ(tz->offset_at(utc_at(2026, 7, 1)), -4h);
    EXPECT_EQ(tz->offset_at(utc_at(2026, 1, 1)), -5h);
}

TEST_F(TimeZoneFiles, RejectsEveryTruncation) {
    const std::string full = sample_tzif();
    for (std::size_t n = 0; n < full.size(); ++n) {
        write("Cut", full.substr(0, n));
        expect_invalid("Cut");
    }
}

TEST_F(TimeZoneFiles, RejectsRandomBytesAndEmptyFile) {
    write("Empty", "");
    expect_invalid("Empty");
    write("Noise", std::string(4096, '\xff'));
    expect_invalid("Noise");
    std::mt19937 rng(42);
    for (int round = 0; round < 60; ++round) {
        std::string bytes(static_cast<std::size_t>(rng() % 2048), '\0');
        for (char& c : bytes) {
            c = static_cast<char>(rng());
        }
        write("Noise", (round % 2 == 0 ? "" : "TZif2") + bytes);
        auto tz = TimeZone::load("Noise");
        ASSERT_FALSE(tz.ok());
        EXPECT_EQ(tz.error().rfind("Noise: not a valid TZif file (", 0), 0u) << tz.error();
    }
}

TEST_F(TimeZoneFiles, SurvivesCorruptedValidFiles) {
    const std::string good = sample_tzif();
    std::mt19937 rng(7);
    for (int round = 0; round < 300; ++round) {
        std::string bytes = good;
        for (unsigned flips = 1 + rng() % 4; flips > 0; --flips) {
            bytes[rng() % bytes.size()] = static_cast<char>(rng());
        }
        write("Flipped", bytes);
        // Either an error naming the zone or a zone that answers; never a crash.
        auto tz = TimeZone::load("Flipped");
        if (tz.ok()) {
            const auto offset = tz->offset_at(utc_at(2026, 7, 1));
            EXPECT_LE(std::chrono::abs(offset), 26h);
            tz->from_local({2026, 7, 1, 12, 0, 0});
        } else {
            EXPECT_EQ(tz.error().rfind("Flipped: not a valid TZif file (", 0), 0u) << tz.error();
        }
    }
}

TEST_F(TimeZoneFiles, RejectsHugeCountsAndBadFields) {
    std::string huge = "TZif2";
    huge.append(15, '\0');
    for (std::uint32_t count : {0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu, 1u, 4u}) {
        put32(huge, count);
    }
    write("Huge", huge + std::string(64, '\0'));
    expect_invalid("Huge");
    write("BadIndex", make_tzif({0}, {5}, {{0, false}}, "UTC0"));
    expect_invalid("BadIndex");
    write("Unordered", make_tzif({100, 50}, {0, 0}, {{0, false}}, "UTC0"));
    expect_invalid("Unordered");
    write("BadFooter", make_tzif({0}, {0}, {{0, false}}, "nonsense"));
    expect_invalid("BadFooter");
    write("NoTypes", make_tzif({}, {}, {}, "UTC0"));
    expect_invalid("NoTypes");
    write("Big", sample_tzif() + std::string(1024 * 1024, '\0'));
    EXPECT_FALSE(TimeZone::load("Big").ok());
}

TEST_F(TimeZoneFiles, RejectsFifoWithoutBlocking) {
    ASSERT_EQ(::mkfifo((m_dir + "/Fifo").c_str(), 0600), 0);
    auto tz = TimeZone::load("Fifo");
    ASSERT_FALSE(tz.ok());
    EXPECT_EQ(tz.error().rfind("Fifo: ", 0), 0u) << tz.error();
    EXPECT_NE(tz.error().find("not a regular file"), std::string::npos) << tz.error();
}

TEST(TimeZoneLocal, NamedZoneFromTz) {
    if (!have_zone("Europe/Berlin")) {
        GTEST_SKIP() << "tzdata file for Europe/Berlin not installed";
    }
    for (const char* value : {"Europe/Berlin", ":Europe/Berlin"}) {
        const ScopedEnv env("TZ", std::string(value));
        const TimeZone tz = TimeZone::local();
        EXPECT_EQ(tz.name(), "Europe/Berlin");
        EXPECT_EQ(tz.offset_at(utc_at(2026, 7, 1)), 2h);
        EXPECT_EQ(tz.offset_at(utc_at(2026, 1, 1)), 1h);
    }
}

TEST(TimeZoneLocal, PosixStringFromTz) {
    const ScopedEnv env("TZ", std::string("EST5EDT,M3.2.0,M11.1.0"));
    const TimeZone tz = TimeZone::local();
    EXPECT_EQ(tz.offset_at(utc_at(2026, 7, 1)), -4h);
    EXPECT_EQ(tz.offset_at(utc_at(2026, 1, 1)), -5h);
}

TEST(TimeZoneLocal, GarbageTzFallsBackToUtc) {
    for (const char* value :
         {"!!garbage!!", "../../etc/passwd", "EST5EDT,M3", "/nonexistent/zone"}) {
        const ScopedEnv env("TZ", std::string(value));
        const TimeZone tz = TimeZone::local();
        EXPECT_EQ(tz.name(), "UTC") << value;
        EXPECT_EQ(tz.offset_at(utc_at(2026, 7, 1)), 0s) << value;
    }
}

TEST(TimeZoneLocal, WithoutTzReadsEtcLocaltime) {
    const ScopedEnv env("TZ", std::nullopt);
    const TimeZone tz = TimeZone::local();
    EXPECT_FALSE(tz.name().empty());
    for (std::time_t s : {std::time_t{1782907200}, std::time_t{1796212800}}) { // 2026-07-01, 12-01
        std::tm tm{};
        ASSERT_NE(::localtime_r(&s, &tm), nullptr);
        EXPECT_EQ(tz.offset_at(TimePoint{std::chrono::seconds{s}}).count(), tm.tm_gmtoff);
    }
}
