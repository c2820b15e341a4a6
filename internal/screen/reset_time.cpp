#include "screen.hpp"

#include "patterns.hpp"

#include <array>
#include <cmath>

namespace gt::screen {

namespace {

using detail::Clock;
using detail::Cursor;
using detail::DateSpec;
using detail::is_alnum;
using detail::is_alpha;
using detail::is_digit;
using detail::ZoneName;
using util::CivilTime;
using util::TimePoint;
using util::TimeZone;

constexpr std::int64_t k_day_ms = 86'400'000;
// Usage limits reset within a week: a time further ahead is a misreading, and would hold an
// agent for good.
constexpr std::int64_t k_max_ahead_ms = 8 * k_day_ms;
constexpr std::int64_t k_year_back_ms = 180 * k_day_ms;
// A limit's line and the two it may wrap onto.
constexpr std::size_t k_max_text_bytes = 3 * 3 * detail::k_max_line_bytes;

// What one phrase states: nothing (`found` false: read on), a time, or a time that cannot be
// trusted (`at` empty: its zone is unknown, or it is too far ahead), which leaves the text
// without a reset time.
struct Stated {
    bool found = false;
    std::optional<TimePoint> at;
};

Stated doubtful() {
    return {true, std::nullopt};
}

struct Unit {
    std::string_view name;
    std::int64_t ms;
};
// Longest spelling first, so "min" is not read as "m" followed by "in".
constexpr std::array<Unit, 23> k_units = {
    {{"milliseconds", 1},     {"millisecond", 1},    {"ms", 1},
     {"seconds", 1000},       {"second", 1000},      {"secs", 1000},
     {"sec", 1000},           {"s", 1000},           {"minutes", 60'000},
     {"minute", 60'000},      {"mins", 60'000},      {"min", 60'000},
     {"m", 60'000},           {"hours", 3'600'000},  {"hour", 3'600'000},
     {"hrs", 3'600'000},      {"hr", 3'600'000},     {"h", 3'600'000},
     {"days", k_day_ms},      {"day", k_day_ms},     {"d", k_day_ms},
     {"weeks", 7 * k_day_ms}, {"week", 7 * k_day_ms}}};

bool valid_date(int year, int month, int day) {
    if (month < 1 || month > 12 || day < 1 || day > 31) {
        return false;
    }
    CivilTime back = util::civil_from_days(util::days_from_civil(year, month, day));
    return back.month == month && back.day == day;
}

TimePoint at_day(const TimeZone& z, long days, const Clock& t) {
    CivilTime d = util::civil_from_days(days);
    return z.from_local({d.year, d.month, d.day, t.hour, t.minute, t.second});
}

std::optional<TimePoint> resolve(const DateSpec& d, const Clock& t, const TimeZone& z,
                                 TimePoint now) {
    CivilTime today = z.to_local(now);
    long today_days = util::days_from_civil(today.year, today.month, today.day);
    if (d.month != 0) {
        int year = d.year.value_or(today.year);
        if (!valid_date(year, d.month, d.day)) {
            return std::nullopt;
        }
        TimePoint at = z.from_local({year, d.month, d.day, t.hour, t.minute, t.second});
        if (!d.year && at < now - util::Millis{k_year_back_ms} &&
            valid_date(year + 1, d.month, d.day)) {
            at = z.from_local({year + 1, d.month, d.day, t.hour, t.minute, t.second});
        }
        return at;
    }
    long days = today_days + d.day_offset;
    if (d.weekday) {
        int today_weekday = static_cast<int>(((today_days % 7) + 11) % 7); // 1970-01-01: Thursday
        days += (*d.weekday - today_weekday + 7) % 7;
    }
    TimePoint at = at_day(z, days, t);
    if (d.day_offset == 0 && at <= now) {
        at = at_day(z, days + (d.weekday ? 7 : 1), t);
    }
    return at;
}

// [date] time [zone] [date] [zone], or a date alone: "Nov 26, 7:58pm (UTC)", "3pm tomorrow",
// "9am on Nov 27", "3pm (America/Los_Angeles) tomorrow", "Dec 1".
Stated parse_absolute(Cursor& c, const ReadContext& ctx) {
    DateSpec d;
    bool dated = detail::parse_date(c, d);
    auto clock = detail::parse_clock(c);
    if (!clock && !dated) {
        return {};
    }
    ZoneName zone = detail::parse_zone(c, ctx);
    if (clock && !dated && detail::parse_date_after(c, d) && !zone.named) {
        zone = detail::parse_zone(c, ctx);
    }
    // Read in the local zone instead, the time could be hours off: a person is better told.
    if (zone.named && !zone.zone) {
        return doubtful();
    }
    auto at = resolve(d, clock.value_or(Clock{}), zone.zone.value_or(ctx.local), ctx.now);
    return {at.has_value(), at};
}

std::optional<double> parse_amount(Cursor& c) {
    if (c.word("a") || c.word("an")) {
        return 1.0;
    }
    auto whole = c.digits(1, 9);
    if (!whole) {
        return std::nullopt;
    }
    double v = *whole;
    if (c.peek() == '.' && is_digit(c.peek(1))) {
        ++c.pos;
        for (double scale = 0.1; is_digit(c.peek()); scale /= 10) {
            v += (c.peek() - '0') * scale;
            ++c.pos;
        }
    }
    return v;
}

std::optional<std::int64_t> parse_unit(Cursor& c) {
    for (const Unit& u : k_units) {
        if (c.lower.substr(c.pos).starts_with(u.name) && !is_alpha(c.peek(u.name.size()))) {
            c.pos += u.name.size();
            return u.ms;
        }
    }
    return std::nullopt;
}

// "2 days 17 hours", "4h 12m", "1m30s", "56.8s", "an hour and 5 minutes".
Stated parse_relative(Cursor& c, TimePoint now) {
    double total = 0;
    int parts = 0;
    while (true) {
        std::size_t start = c.pos;
        c.skip_spaces();
        if (parts > 0 && (c.word("and") || c.peek() == ',')) {
            c.pos += c.peek() == ',' ? 1 : 0;
            c.skip_spaces();
        }
        auto amount = parse_amount(c);
        c.skip_spaces();
        auto unit = amount ? parse_unit(c) : std::nullopt;
        if (!unit) {
            c.pos = start;
            break;
        }
        total += *amount * static_cast<double>(*unit);
        ++parts;
    }
    if (parts == 0) {
        return {};
    }
    if (total > static_cast<double>(k_max_ahead_ms)) {
        return doubtful(); // checked here, before llround can overflow
    }
    return {true, now + util::Millis{std::llround(total)}};
}

Stated parse_after_keyword(Cursor& c, const ReadContext& ctx) {
    c.skip_spaces();
    if (c.peek() == ':') {
        ++c.pos;
        c.skip_spaces();
    }
    if (c.word("in")) {
        return parse_relative(c, ctx.now);
    }
    if (c.word("after")) { // "after 45 seconds", "after 14:00 tomorrow"
        if (Stated s = parse_relative(c, ctx.now); s.found) {
            return s;
        }
        c.skip_spaces();
    } else if (c.word("at") || c.word("on")) {
        c.skip_spaces();
    }
    return parse_absolute(c, ctx);
}

// Where a reset time may follow: the phrase, and whether the time starts at the phrase itself.
struct Keyword {
    std::string_view text;
    bool time_starts_here;
};
constexpr std::array<Keyword, 7> k_keywords = {{
    {"resets", false},
    {"reset", false},
    {"try again", false},
    {"retry", false},
    {"until", false},
    {"available again", false},
    {"tomorrow", true},
}};

} // namespace

std::optional<util::TimePoint> parse_reset_time(std::string_view text, const ReadContext& ctx) {
    detail::Line line = detail::make_line(text, k_max_text_bytes);
    Cursor c{line.lower, line.text, 0};
    for (std::size_t i = 0; i < line.lower.size(); ++i) {
        if (i > 0 && is_alnum(line.lower[i - 1])) {
            continue;
        }
        for (const Keyword& k : k_keywords) {
            c.pos = i;
            if (!c.word(k.text)) {
                continue;
            }
            c.pos = k.time_starts_here ? i : c.pos;
            Stated s = k.time_starts_here ? parse_absolute(c, ctx) : parse_after_keyword(c, ctx);
            if (!s.found) {
                continue;
            }
            if (s.at && *s.at - ctx.now > util::Millis{k_max_ahead_ms}) {
                return std::nullopt;
            }
            return s.at;
        }
    }
    return std::nullopt;
}

} // namespace gt::screen
