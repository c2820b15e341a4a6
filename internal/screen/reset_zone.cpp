#include "patterns.hpp"

#include <array>

namespace gt::screen::detail {

namespace {

using util::TimeZone;

constexpr int k_max_offset_s = 14 * 3600;
// A zone in parentheses longer than this is no zone name.
constexpr std::size_t k_max_paren_bytes = 64;

struct Abbreviation {
    std::string_view name; ///< lower case
    int hours;             ///< east of UTC
};
// The abbreviations read as fixed offsets (UTC, GMT and Z are fixed_zone's). BST and CST name
// other zones too; these are the readings an agent's CLI most likely means.
constexpr std::array<Abbreviation, 24> k_abbreviations = {{
    {"pst", -8}, {"pdt", -7}, {"mst", -7},  {"mdt", -6},  {"cst", -6},  {"cdt", -5},
    {"est", -5}, {"edt", -4}, {"akst", -9}, {"akdt", -8}, {"hst", -10}, {"cet", 1},
    {"cest", 2}, {"eet", 2},  {"eest", 3},  {"wet", 0},   {"west", 1},  {"bst", 1},
    {"jst", 9},  {"kst", 9},  {"aest", 10}, {"aedt", 11}, {"nzst", 12}, {"nzdt", 13},
}};
// Abbreviations a screen may show that name no one zone (IST: India, Israel or Ireland) or no
// one offset (PT: PST or PDT): a zone, but an unknown one.
constexpr std::array<std::string_view, 8> k_ambiguous = {"ist", "ast", "adt", "sst",
                                                         "pt",  "mt",  "ct",  "et"};
// The first part of an IANA name ("America/Los_Angeles").
constexpr std::array<std::string_view, 15> k_iana_areas = {
    "africa", "america", "antarctica", "arctic", "asia",   "atlantic", "australia", "europe",
    "indian", "pacific", "etc",        "us",     "canada", "brazil",   "mexico"};

bool zone_char(char c) {
    return is_alnum(c) || c == '/' || c == '_' || c == '-' || c == '+';
}

ZoneName unresolved() {
    return {true, std::nullopt};
}

// "+2", "+02:00", "-0530", "+5:30", as the zone named by the text from `name_start`: not named
// (cursor unmoved) unless shaped like an offset; unresolved beyond ±14:00.
ZoneName offset_zone(Cursor& c, std::size_t name_start) {
    std::size_t start = c.pos;
    char sign = c.peek();
    if (sign != '+' && sign != '-') {
        return {};
    }
    ++c.pos;
    std::size_t n = 0;
    while (is_digit(c.peek(n))) {
        ++n;
    }
    int hours = 0;
    int minutes = 0;
    if (n == 4) { // "-0530"
        hours = (c.peek() - '0') * 10 + (c.peek(1) - '0');
        minutes = (c.peek(2) - '0') * 10 + (c.peek(3) - '0');
        c.pos += 4;
    } else if (auto h = n <= 2 ? c.digits(1, 2) : std::nullopt) {
        hours = *h;
        if (c.peek() == ':' && is_digit(c.peek(1))) {
            ++c.pos;
            minutes = c.digits(2, 2).value_or(99); // "+5:3" is no offset
        }
    } else {
        c.pos = start;
        return {};
    }
    if (is_alnum(c.peek())) {
        c.pos = start;
        return {};
    }
    int total = hours * 3600 + minutes * 60;
    if (minutes > 59 || total > k_max_offset_s) {
        return unresolved();
    }
    std::chrono::seconds offset{sign == '-' ? -total : total};
    return {true,
            TimeZone::fixed(offset, std::string(c.orig.substr(name_start, c.pos - name_start)))};
}

// "Z", "UTC", "GMT", "UTC+2", "GMT-05:30", "+02:00" (any case); not named (cursor unmoved) for
// anything else.
ZoneName fixed_zone(Cursor& c) {
    std::size_t start = c.pos;
    if (c.word("z") || c.word("zulu")) {
        return {true, TimeZone::utc()};
    }
    bool named = false;
    for (std::string_view name : {"utc", "gmt"}) {
        if (c.lower.substr(c.pos).starts_with(name) && !is_alpha(c.peek(name.size()))) {
            c.pos += name.size();
            named = true;
            break;
        }
    }
    if (ZoneName offset = offset_zone(c, start); offset.named) {
        return offset;
    }
    if (named && (c.peek() == '+' || c.peek() == '-') && is_digit(c.peek(1))) {
        while (zone_char(c.peek())) {
            ++c.pos; // "UTC+123": meant as an offset, but none
        }
        return unresolved();
    }
    if (named && !is_alnum(c.peek())) {
        return {true, TimeZone::utc()};
    }
    c.pos = start;
    return {};
}

std::optional<TimeZone> abbreviation(std::string_view lower, std::string_view orig) {
    for (const Abbreviation& a : k_abbreviations) {
        if (lower == a.name) {
            return TimeZone::fixed(std::chrono::hours{a.hours}, std::string(orig));
        }
    }
    return std::nullopt;
}

bool is_ambiguous(std::string_view lower) {
    for (std::string_view name : k_ambiguous) {
        if (lower == name) {
            return true;
        }
    }
    return false;
}

// A zone the screen names in parentheses: UTC/GMT/offsets, the abbreviations, IANA names
// through ctx.zones; nullopt when none of them resolves it.
std::optional<TimeZone> zone_named(std::string_view lower, std::string_view orig,
                                   const ReadContext& ctx) {
    Cursor c{lower, orig, 0};
    ZoneName fixed = fixed_zone(c);
    if (fixed.named && c.pos == lower.size()) {
        return fixed.zone;
    }
    if (lower == "etc/utc" || lower == "universal") {
        return TimeZone::utc();
    }
    if (auto a = abbreviation(lower, orig)) {
        return a;
    }
    if (ctx.zones && !is_ambiguous(lower)) {
        return ctx.zones(orig);
    }
    return std::nullopt;
}

bool iana_shaped(std::string_view lower) {
    std::size_t slash = lower.find('/');
    if (slash == std::string_view::npos ||
        !is_alpha(slash + 1 < lower.size() ? lower[slash + 1] : '\0')) {
        return false;
    }
    for (std::string_view area : k_iana_areas) {
        if (lower.substr(0, slash) == area) {
            return true;
        }
    }
    return false;
}

bool upper_letters(std::string_view orig) {
    for (char ch : orig) {
        if (ch < 'A' || ch > 'Z') {
            return false;
        }
    }
    return !orig.empty();
}

} // namespace

ZoneName parse_zone(Cursor& c, const ReadContext& ctx) {
    std::size_t start = c.pos;
    c.skip_spaces();
    if (c.peek() == '(') {
        std::size_t close = c.lower.substr(c.pos, k_max_paren_bytes + 2).find(')');
        if (close != std::string_view::npos) {
            close += c.pos;
            std::size_t b = c.pos + 1;
            while (b < close && c.lower[b] == ' ') {
                ++b;
            }
            std::size_t e = close;
            while (e > b && c.lower[e - 1] == ' ') {
                --e;
            }
            c.pos = close + 1;
            return {true, zone_named(c.lower.substr(b, e - b), c.orig.substr(b, e - b), ctx)};
        }
    }
    if (ZoneName z = fixed_zone(c); z.named) {
        return z;
    }
    std::size_t b = c.pos;
    while (zone_char(c.peek())) {
        ++c.pos;
    }
    std::string_view lower = c.lower.substr(b, c.pos - b);
    std::string_view orig = c.orig.substr(b, c.pos - b);
    if (iana_shaped(lower)) {
        return {true, zone_named(lower, orig, ctx)};
    }
    // Upper case only: "resets 3pm est" is more likely a word than a zone.
    if (upper_letters(orig)) {
        if (auto a = abbreviation(lower, orig)) {
            return {true, a};
        }
        if (is_ambiguous(lower)) {
            return unresolved();
        }
    }
    c.pos = start;
    return {};
}

} // namespace gt::screen::detail
