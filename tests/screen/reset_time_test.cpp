#include "screen/screen.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>

using namespace gt;
using namespace gt::screen;
using namespace std::chrono_literals;

namespace {

util::TimePoint utc_at(int y, int mo, int d, int h = 0, int mi = 0, int s = 0) {
    return util::TimePoint{
        std::chrono::seconds{util::days_from_civil(y, mo, d) * 86400L + h * 3600L + mi * 60L + s}};
}

// Monday 2026-11-23, 20:00 UTC; times without a zone are UTC unless a test says otherwise.
ReadContext ctx_at(util::TimePoint now = utc_at(2026, 11, 23, 20, 0)) {
    ReadContext ctx;
    ctx.now = now;
    return ctx;
}

std::optional<util::TimePoint> reset(std::string_view text, const ReadContext& ctx = ctx_at()) {
    return parse_reset_time(text, ctx);
}

ZoneLookup system_zones() {
    return [](std::string_view name) -> std::optional<util::TimeZone> {
        auto z = util::TimeZone::load(name);
        return z.ok() ? std::optional(*z) : std::nullopt;
    };
}

bool have_zone(const char* name) {
    return std::filesystem::is_regular_file(std::string("/usr/share/zoneinfo/") + name);
}

TEST(ResetTime, TheCapturedBanners) {
    EXPECT_EQ(reset("You've hit your session limit · resets 9:57pm (UTC)"),
              utc_at(2026, 11, 23, 21, 57));
    EXPECT_EQ(reset("usage to purchase more credits or try again at 10:04 PM."),
              utc_at(2026, 11, 23, 22, 4));
}

TEST(ResetTime, TimeOfDayIsItsNextOccurrence) {
    EXPECT_EQ(reset("resets 3pm"), utc_at(2026, 11, 24, 15, 0)); // 15:00 has passed today
    EXPECT_EQ(reset("resets 9pm"), utc_at(2026, 11, 23, 21, 0));
    EXPECT_EQ(reset("resets 8pm"), utc_at(2026, 11, 24, 20, 0)); // strictly after now
    EXPECT_EQ(reset("resets 14:30"), utc_at(2026, 11, 24, 14, 30));
    EXPECT_EQ(reset("resets at 22:04"), utc_at(2026, 11, 23, 22, 4));
    EXPECT_EQ(reset("resets 00:15"), utc_at(2026, 11, 24, 0, 15));
    EXPECT_EQ(reset("resets at 23:59:30"), utc_at(2026, 11, 23, 23, 59, 30));
}

TEST(ResetTime, TwelveHourSpellings) {
    EXPECT_EQ(reset("try again at 6:44 PM"), utc_at(2026, 11, 24, 18, 44));
    EXPECT_EQ(reset("try again at 9:44 p.m."), utc_at(2026, 11, 23, 21, 44));
    EXPECT_EQ(reset("try again at 9:44pm."), utc_at(2026, 11, 23, 21, 44));
    EXPECT_EQ(reset("resets 10 PM"), utc_at(2026, 11, 23, 22, 0));
    EXPECT_EQ(reset("resets 12am"), utc_at(2026, 11, 24, 0, 0));
    EXPECT_EQ(reset("resets 12pm"), utc_at(2026, 11, 24, 12, 0));
    EXPECT_EQ(reset("(resets 11:05 a.m.)"), utc_at(2026, 11, 24, 11, 5));
    EXPECT_EQ(reset("Your limit will reset at 10pm."), utc_at(2026, 11, 23, 22, 0));
}

TEST(ResetTime, Tomorrow) {
    EXPECT_EQ(reset("resets tomorrow at 9am"), utc_at(2026, 11, 24, 9, 0));
    EXPECT_EQ(reset("resets tomorrow 9:00"), utc_at(2026, 11, 24, 9, 0));
    EXPECT_EQ(reset("tomorrow at 9am"), utc_at(2026, 11, 24, 9, 0));
    // Later today would be sooner, but the screen said tomorrow.
    EXPECT_EQ(reset("resets tomorrow at 10pm"), utc_at(2026, 11, 24, 22, 0));
}

TEST(ResetTime, CalendarDates) {
    EXPECT_EQ(reset("resets Nov 26, 7:58pm (UTC)"), utc_at(2026, 11, 26, 19, 58));
    EXPECT_EQ(reset("resets November 26th at 7:58 PM"), utc_at(2026, 11, 26, 19, 58));
    EXPECT_EQ(reset("resets 26 Nov, 19:58"), utc_at(2026, 11, 26, 19, 58));
    EXPECT_EQ(reset("resets Dec 1"), utc_at(2026, 12, 1, 0, 0));
    EXPECT_EQ(reset("resets Nov 20, 1pm"), utc_at(2026, 11, 20, 13, 0)); // days ago: this year
    EXPECT_EQ(reset("resets Nov 26, 2026, 7:58pm"), utc_at(2026, 11, 26, 19, 58));
    EXPECT_EQ(reset("resets Jan 3, 10am", ctx_at(utc_at(2026, 12, 30, 20, 0))),
              utc_at(2027, 1, 3, 10, 0)); // long ago: next year
    EXPECT_EQ(reset("resets at 2026-11-26T19:58:00Z"), utc_at(2026, 11, 26, 19, 58));
}

TEST(ResetTime, Weekdays) {
    EXPECT_EQ(reset("resets Wednesday 9am"), utc_at(2026, 11, 25, 9, 0));
    EXPECT_EQ(reset("resets Mon 9am"), utc_at(2026, 11, 30, 9, 0)); // today's has passed
    EXPECT_EQ(reset("resets Monday 11pm"), utc_at(2026, 11, 23, 23, 0));
}

TEST(ResetTime, RelativeTimes) {
    const util::TimePoint now = ctx_at().now;
    EXPECT_EQ(reset("try again in 2 days 17 hours"), now + 65h);
    EXPECT_EQ(reset("Try again in 5 minutes."), now + 5min);
    EXPECT_EQ(reset("resets in 4h 12m"), now + 4h + 12min);
    EXPECT_EQ(reset("retry in 30s"), now + 30s);
    EXPECT_EQ(reset("Please retry in 1m30s."), now + 90s);
    EXPECT_EQ(reset("Please try again in 56.5s"), now + 56500ms);
    EXPECT_EQ(reset("Please try again in 20ms."), now + 20ms);
    EXPECT_EQ(reset("try again in an hour and 5 minutes"), now + 65min);
    EXPECT_EQ(reset("retry after 45 seconds"), now + 45s);
}

TEST(ResetTime, UtcAndOffsets) {
    EXPECT_EQ(reset("resets 9pm GMT"), utc_at(2026, 11, 23, 21, 0));
    EXPECT_EQ(reset("resets at 21:30 Z"), utc_at(2026, 11, 23, 21, 30));
    EXPECT_EQ(reset("resets 23:30 +02:00"), utc_at(2026, 11, 23, 21, 30));
    EXPECT_EQ(reset("resets 5pm (UTC+2)"), utc_at(2026, 11, 24, 15, 0)); // 22:00 there now
    EXPECT_EQ(reset("resets 3pm UTC-5"), utc_at(2026, 11, 24, 20, 0));
    EXPECT_EQ(reset("resets 4pm (GMT-05:30)"), utc_at(2026, 11, 23, 21, 30));
    EXPECT_EQ(reset("resets 4pm -0530"), utc_at(2026, 11, 23, 21, 30));
    EXPECT_EQ(reset("resets 9am (UTC+14)"), utc_at(2026, 11, 24, 19, 0));
}

TEST(ResetTime, LocalZoneWhenNoneIsNamed) {
    ReadContext ctx = ctx_at();
    ctx.local = util::TimeZone::fixed(-5h, "EST"); // 15:00 there
    EXPECT_EQ(reset("resets 5pm", ctx), utc_at(2026, 11, 23, 22, 0));
    EXPECT_EQ(reset("resets 2pm", ctx), utc_at(2026, 11, 24, 19, 0));
    EXPECT_EQ(reset("resets tomorrow at 9am", ctx), utc_at(2026, 11, 24, 14, 0));
    EXPECT_EQ(reset("resets 2pm (UTC)", ctx), utc_at(2026, 11, 24, 14, 0));
}

TEST(ResetTime, DateAfterTheTime) {
    ReadContext ctx = ctx_at(utc_at(2026, 11, 23, 10, 0)); // Monday
    EXPECT_EQ(reset("resets 3pm tomorrow", ctx), utc_at(2026, 11, 24, 15, 0));
    EXPECT_EQ(reset("try again at 14:00 tomorrow", ctx), utc_at(2026, 11, 24, 14, 0));
    EXPECT_EQ(reset("resets at 9am on Nov 27", ctx), utc_at(2026, 11, 27, 9, 0));
    EXPECT_EQ(reset("try again after 14:00 tomorrow", ctx), utc_at(2026, 11, 24, 14, 0));
    EXPECT_EQ(reset("resets 7:58pm Nov 26", ctx), utc_at(2026, 11, 26, 19, 58));
    EXPECT_EQ(reset("resets 7:58pm, 26 Nov 2026.", ctx), utc_at(2026, 11, 26, 19, 58));
    EXPECT_EQ(reset("resets 9am Monday", ctx), utc_at(2026, 11, 30, 9, 0)); // today's has passed
    EXPECT_EQ(reset("resets 11am Monday", ctx), utc_at(2026, 11, 23, 11, 0));
    EXPECT_EQ(reset("resets 9am on Monday (UTC)", ctx), utc_at(2026, 11, 30, 9, 0));
    EXPECT_EQ(reset("resets 11pm tonight", ctx), utc_at(2026, 11, 23, 23, 0));
    // Before the time, as ever.
    EXPECT_EQ(reset("resets today at 3pm", ctx), utc_at(2026, 11, 23, 15, 0));
    EXPECT_EQ(reset("resets tomorrow at 3pm", ctx), utc_at(2026, 11, 24, 15, 0));
}

TEST(ResetTime, ZoneAroundADateAfterTheTime) {
    ReadContext ctx = ctx_at(utc_at(2026, 11, 23, 10, 0));
    ctx.local = util::TimeZone::fixed(-5h, "EST"); // 05:00 there
    EXPECT_EQ(reset("resets 3pm tomorrow", ctx), utc_at(2026, 11, 24, 20, 0));
    EXPECT_EQ(reset("resets 3pm tomorrow (UTC)", ctx), utc_at(2026, 11, 24, 15, 0));
    EXPECT_EQ(reset("resets 3pm (UTC+2) tomorrow", ctx), utc_at(2026, 11, 24, 13, 0));
    EXPECT_EQ(reset("resets 3pm tomorrow CET", ctx), utc_at(2026, 11, 24, 14, 0));
    if (!have_zone("America/Los_Angeles")) {
        GTEST_SKIP() << "no zoneinfo for America/Los_Angeles";
    }
    ctx.zones = system_zones(); // 02:00 there
    EXPECT_EQ(reset("resets 3pm (America/Los_Angeles) tomorrow", ctx), utc_at(2026, 11, 24, 23, 0));
    EXPECT_EQ(reset("resets 3pm tomorrow America/Los_Angeles", ctx), utc_at(2026, 11, 24, 23, 0));
}

TEST(ResetTime, ZoneAbbreviations) {
    struct Case {
        const char* name;
        int hours;
    };
    for (Case z : std::initializer_list<Case>{
             {"UTC", 0},   {"GMT", 0},   {"Z", 0},     {"PST", -8}, {"PDT", -7}, {"MST", -7},
             {"MDT", -6},  {"CST", -6},  {"CDT", -5},  {"EST", -5}, {"EDT", -4}, {"AKST", -9},
             {"AKDT", -8}, {"HST", -10}, {"CET", 1},   {"CEST", 2}, {"EET", 2},  {"EEST", 3},
             {"WET", 0},   {"WEST", 1},  {"BST", 1},   {"JST", 9},  {"KST", 9},  {"AEST", 10},
             {"AEDT", 11}, {"NZST", 12}, {"NZDT", 13},
         }) {
        const util::TimePoint noon = utc_at(2026, 11, 25, 12, 0) - std::chrono::hours{z.hours};
        EXPECT_EQ(reset(std::string("resets Nov 25, 12:00 ") + z.name), noon) << z.name;
        EXPECT_EQ(reset(std::string("resets Nov 25, 12:00 (") + z.name + ")"), noon) << z.name;
    }
    EXPECT_EQ(reset("resets 5pm PST"), utc_at(2026, 11, 24, 1, 0)); // noon there
    EXPECT_EQ(reset("resets 11pm (cet)"), utc_at(2026, 11, 23, 22, 0));
    // Bare and in lower case, a word like any other: the local zone.
    EXPECT_EQ(reset("resets 5pm pst"), utc_at(2026, 11, 24, 17, 0));
}

TEST(ResetTime, UnknownZoneMakesTheTimeUnknown) {
    ReadContext ctx = ctx_at();
    ctx.local = util::TimeZone::fixed(1h, "CET");
    ctx.zones = system_zones();
    for (const char* text : {
             "resets 10pm (Europe/Nowhere)",
             "resets 10pm Europe/Nowhere",
             "resets 10pm (Mars/Olympus_Mons)",
             "resets 10pm (IST)",
             "resets 10pm IST",
             "resets 10pm (AST)",
             "resets 10pm PT",
             "resets 10pm (Pacific Time)",
             "resets 10pm UTC+99",
             "resets 10pm (UTC+99)",
             "resets 10pm UTC+123",
             "resets 10pm (GMT+14:30)",
             "resets 10pm +15:00",
             "resets 10pm -05:75",
             "resets 10pm tomorrow (Europe/Nowhere)",
             "resets 10pm (Europe/Nowhere) tomorrow",
             "resets Nov 26 (Europe/Nowhere)",
             // The first stated time has an unknown zone: not the later one either.
             "Resets 10pm (IST), or retry in 5 minutes.",
         }) {
        EXPECT_EQ(reset(text, ctx), std::nullopt) << text;
    }
    ctx.zones = nullptr; // no way to look an IANA name up
    EXPECT_EQ(reset("resets 10pm (America/Los_Angeles)", ctx), std::nullopt);
}

TEST(ResetTime, WordsAfterTheTimeAreNoZone) {
    ReadContext ctx = ctx_at(utc_at(2026, 11, 23, 10, 0));
    ctx.zones = system_zones();
    for (const char* text : {
             "resets 3pm for you",
             "resets 3pm on your plan",
             "resets 3pm and/or when you upgrade",
             "resets 3pm NEXT: /upgrade",
             "resets 3pm · /upgrade to Max",
             "resets 3pm, 26 requests left",
             "resets 3pm. Try again then.",
         }) {
        EXPECT_EQ(reset(text, ctx), utc_at(2026, 11, 23, 15, 0)) << text;
    }
}

TEST(ResetTime, NoMoreThanEightDaysAhead) {
    const util::TimePoint now = ctx_at().now;
    EXPECT_EQ(reset("try again in 8 days"), now + 192h);
    EXPECT_EQ(reset("try again in 8 days 1 second"), std::nullopt);
    EXPECT_EQ(reset("try again in 400 days"), std::nullopt);
    EXPECT_EQ(reset("try again in 3 weeks"), std::nullopt);
    EXPECT_EQ(reset("resets Dec 1, 8pm"), utc_at(2026, 12, 1, 20, 0));
    EXPECT_EQ(reset("resets Dec 1, 8:01pm"), std::nullopt);
    EXPECT_EQ(reset("resets Jan 3, 10am"), std::nullopt); // next year's
    EXPECT_EQ(reset("resets Nov 26, 9999, 7:58pm"), std::nullopt);
    EXPECT_EQ(reset("resets at 9999-11-26T19:58:00Z"), std::nullopt);
    EXPECT_EQ(reset("resets 7:58pm Nov 26, 2027"), std::nullopt);
    // In the past, as before: the limit has reset.
    EXPECT_EQ(reset("resets Nov 26, 2025, 7:58pm"), utc_at(2025, 11, 26, 19, 58));
}

TEST(ResetTime, NamedZoneAcrossDaylightSaving) {
    if (!have_zone("America/Los_Angeles")) {
        GTEST_SKIP() << "no zoneinfo for America/Los_Angeles";
    }
    ReadContext ctx = ctx_at();
    ctx.zones = system_zones();
    // November: PST, UTC-8; noon there.
    EXPECT_EQ(reset("resets 5pm (America/Los_Angeles)", ctx), utc_at(2026, 11, 24, 1, 0));
    EXPECT_EQ(reset("resets 11am (America/Los_Angeles)", ctx), utc_at(2026, 11, 24, 19, 0));
    // July: PDT, UTC-7; 13:00 there.
    ctx.now = utc_at(2026, 7, 1, 20, 0);
    EXPECT_EQ(reset("resets 5pm (America/Los_Angeles)", ctx), utc_at(2026, 7, 2, 0, 0));
    // The day after the clocks go back (2026-11-01): 17:00 PST, not PDT.
    ctx.now = utc_at(2026, 10, 31, 20, 0);
    EXPECT_EQ(reset("resets tomorrow at 5pm (America/Los_Angeles)", ctx),
              utc_at(2026, 11, 2, 1, 0));
    // A local zone given by name, not by the screen.
    ctx.now = utc_at(2026, 11, 23, 20, 0);
    ctx.local = *util::TimeZone::load("America/Los_Angeles");
    EXPECT_EQ(reset("try again at 10:04 PM.", ctx), utc_at(2026, 11, 24, 6, 4));
}

TEST(ResetTime, NoTimeStated) {
    for (const char* text : {
             "",
             "resets",
             "try again later",
             "resets 25:99pm",
             "resets 13pm",
             "resets 0am",
             "resets 9:5pm",
             "resets Feb 30, 1pm",
             "retry in a moment",
             "API error · Retrying in 27s · attempt 1/10",
             "⚠ 5h limit: only <1% left",
             "the preset at 5pm",
             "resets 3",
             "try again in 99999 days",
         }) {
        EXPECT_EQ(reset(text), std::nullopt) << text;
    }
}

// Found by fuzz/screen_fuzz.cpp: a tenth digit was added up before the number was found too
// long, and overflowed an int.
TEST(ResetTime, NumbersTooLongForAnAmountAreNoTime) {
    EXPECT_EQ(reset("try again in 5555555555555 days"), std::nullopt);
    EXPECT_EQ(reset("try again in 2147483648 seconds"), std::nullopt);
    EXPECT_EQ(reset("try again in 000000090 seconds"), ctx_at().now + 90s);
}

TEST(ResetTime, FirstStatedTimeWins) {
    EXPECT_EQ(reset("Limit reached. Try again later. Resets at 21:15, or retry in 5 minutes."),
              utc_at(2026, 11, 23, 21, 15));
}

} // namespace
