#pragma once

// Private to gt_screen: screen lines made safe to match, the built-in patterns, and the pieces
// of a reset time.

#include "screen.hpp"

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace re2 {
class RE2;
}

namespace gt::screen::detail {

constexpr std::size_t k_max_lines = 200;
constexpr std::size_t k_max_line_bytes = 1024;
constexpr std::size_t k_max_evidence_bytes = 200;

/// One screen line made safe: valid UTF-8 without control characters, typographic quotes and
/// odd spaces made plain (`text`), and its ASCII-lowercased twin (`lower`, same byte offsets).
struct Line {
    std::string text;
    std::string lower;
};

/// `raw` cut to `max_bytes` (on a character boundary) and cleaned (see Line).
Line make_line(std::string_view raw, std::size_t max_bytes = k_max_line_bytes);

/// The last k_max_lines lines of `screen` (trailing blank lines dropped), cleaned.
std::vector<Line> tail_lines(std::string_view screen);

/// `text` without leading glyphs and blanks, without trailing borders and blanks, runs of blanks
/// made one space, cut to k_max_evidence_bytes on a character boundary. Empty when nothing but
/// glyphs is left.
std::string trim_evidence(std::string_view text);

/// trim_evidence(), or the line with only its blanks trimmed when that leaves nothing (a bare
/// prompt line).
std::string evidence_of(const Line& line);

/// tmux's "Pane is dead (status 1, …)" line.
bool is_pane_dead_line(const Line& line);

/// A bit per agent kind; generic has every bit.
unsigned kind_bits(AgentKind kind);

/// A built-in pattern: applies to agents of `kinds`; matches a lowered line that contains
/// `literal`, none of `unless`, and, when set, also matches `regex` (RE2: linear in the line)
/// or passes `test`.
struct Builtin {
    unsigned kinds = 0;
    Condition condition = Condition::unknown;
    std::string_view literal;
    std::vector<std::string_view> unless;
    std::shared_ptr<const re2::RE2> regex;
    bool (*test)(std::string_view lower) = nullptr;
};

/// `pattern` compiled for matching per line: RE2 (time linear in the line), no captures, no
/// logging, at most 1 MiB of compiled program. The caller checks ok().
std::shared_ptr<const re2::RE2> compile_regex(const std::string& pattern, bool ignore_case);

/// The built-in patterns (compiled once).
const std::vector<Builtin>& builtins();

/// Whether `b` matches the lowered line `lower`.
bool matches(const Builtin& b, std::string_view lower);

// --- reset times (reset_time.cpp, reset_parts.cpp, reset_zone.cpp) ---

inline bool is_digit(char c) {
    return c >= '0' && c <= '9';
}
inline bool is_alpha(char c) {
    return c >= 'a' && c <= 'z';
}
inline bool is_alnum(char c) {
    return is_digit(c) || is_alpha(c);
}

/// A position in a lowered text; `orig` has the same offsets in the original case (zone names).
struct Cursor {
    std::string_view lower;
    std::string_view orig;
    std::size_t pos = 0;

    char peek(std::size_t k = 0) const { return pos + k < lower.size() ? lower[pos + k] : '\0'; }
    void skip_spaces() {
        while (peek() == ' ') {
            ++pos;
        }
    }
    /// `w` here as a whole word (not followed by a letter or digit).
    bool word(std::string_view w) {
        if (!lower.substr(pos).starts_with(w) || is_alnum(peek(w.size()))) {
            return false;
        }
        pos += w.size();
        return true;
    }
    std::string_view letters() {
        std::size_t start = pos;
        while (is_alpha(peek())) {
            ++pos;
        }
        return lower.substr(start, pos - start);
    }
    /// Exactly min..max digits (not followed by another digit).
    std::optional<int> digits(std::size_t min, std::size_t max) {
        std::size_t n = 0;
        int v = 0;
        while (is_digit(peek(n)) && n <= max) {
            if (n < max) { // a digit past `max` only tells that the number is too long
                v = v * 10 + (peek(n) - '0');
            }
            ++n;
        }
        if (n < min || n > max) {
            return std::nullopt;
        }
        pos += n;
        return v;
    }
};

struct Clock {
    int hour = 0;
    int minute = 0;
    int second = 0;
};

struct DateSpec {
    int day_offset = 0;
    std::optional<int> year;
    int month = 0; ///< 0: no calendar date
    int day = 0;
    std::optional<int> weekday; ///< 0 = Sunday
};

/// "9:57pm", "6:44 p.m.", "14:30", "23:59:30"; nullopt (cursor unmoved) for anything else.
std::optional<Clock> parse_clock(Cursor& c);
/// "tomorrow", "monday", "nov 26", "26th november, 2026", "2026-11-26" and what separates them
/// from a time; false when none is there.
bool parse_date(Cursor& c, DateSpec& d);
/// A date after a time ("3pm tomorrow", "9am on Nov 27", "7:58pm, Nov 26"), as parse_date();
/// false (cursor unmoved) when none is there.
bool parse_date_after(Cursor& c, DateSpec& d);
/// A zone where a screen may name one: `named` false when nothing there is meant as a zone;
/// `zone` empty when one is named that cannot be resolved (unknown, ambiguous, out of range).
struct ZoneName {
    bool named = false;
    std::optional<util::TimeZone> zone;
};

/// A zone clearly meant as one (reset_zone.cpp): anything in parentheses ("(UTC)",
/// "(America/Los_Angeles)", "(PST)"), an IANA Area/City ("Europe/Berlin"), "UTC", "GMT", "Z",
/// "UTC+2", "+02:00", or an upper-case abbreviation ("PST", "CET"; "IST" is ambiguous, so
/// unresolved). Anything else is not named, and the cursor is left where it was.
ZoneName parse_zone(Cursor& c, const ReadContext& ctx);

} // namespace gt::screen::detail
