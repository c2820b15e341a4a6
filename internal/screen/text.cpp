#include "patterns.hpp"

#include <algorithm>

namespace gt::screen::detail {

namespace {

constexpr char32_t k_invalid = 0xFFFFFFFF;

struct Decoded {
    char32_t cp = k_invalid;
    std::size_t len = 1; ///< bytes consumed (1 for an invalid byte)
};

// One UTF-8 character at s[i]; overlong forms, surrogates and truncated sequences are invalid.
Decoded decode(std::string_view s, std::size_t i) {
    auto b = static_cast<unsigned char>(s[i]);
    if (b < 0x80) {
        return {b, 1};
    }
    std::size_t n = 0;
    char32_t cp = 0;
    if (b >= 0xC2 && b <= 0xDF) {
        n = 2;
        cp = b & 0x1F;
    } else if (b >= 0xE0 && b <= 0xEF) {
        n = 3;
        cp = b & 0x0F;
    } else if (b >= 0xF0 && b <= 0xF4) {
        n = 4;
        cp = b & 0x07;
    } else {
        return {};
    }
    if (i + n > s.size()) {
        return {};
    }
    for (std::size_t k = 1; k < n; ++k) {
        auto c = static_cast<unsigned char>(s[i + k]);
        if ((c & 0xC0) != 0x80) {
            return {};
        }
        cp = (cp << 6) | (c & 0x3F);
    }
    bool overlong = (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000);
    if (overlong || (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF) {
        return {};
    }
    return {cp, n};
}

void append_utf8(std::string& out, char32_t cp) {
    if (cp < 0x80) {
        out += static_cast<char>(cp);
    } else if (cp < 0x800) {
        out += static_cast<char>(0xC0 | (cp >> 6));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        out += static_cast<char>(0xE0 | (cp >> 12));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
        out += static_cast<char>(0xF0 | (cp >> 18));
        out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    }
}

bool is_space_like(char32_t cp) {
    return cp == 0xA0 || (cp >= 0x2000 && cp <= 0x200A) || cp == 0x202F || cp == 0x205F ||
           cp == 0x3000;
}

bool is_control(char32_t cp) {
    // C0, DEL, C1, and the bidirectional controls that could make evidence shown in a terminal
    // or a mail read other than it is (U+200E/F, U+202A–E, U+2066–9).
    return cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp <= 0x9F) || cp == 0x200E || cp == 0x200F ||
           (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069);
}

// What a cleaned line holds for `cp`: U+FFFD for a bad byte, a space for controls and odd
// spaces, plain quotes for typographic ones ("You’ve hit"), nothing for zero-width characters.
void append_clean(std::string& out, char32_t cp) {
    if (cp == k_invalid) {
        append_utf8(out, 0xFFFD);
    } else if (is_control(cp) || is_space_like(cp)) {
        out += ' ';
    } else if (cp == 0x2018 || cp == 0x2019 || cp == 0x2032) {
        out += '\'';
    } else if (cp == 0x201C || cp == 0x201D) {
        out += '"';
    } else if ((cp >= 0x200B && cp <= 0x200D) || cp == 0xFEFF) {
        return;
    } else {
        append_utf8(out, cp);
    }
}

// Bullets, spinners, box drawing, arrows, dingbats, emoji: what CLIs draw around text.
bool is_glyph(char32_t cp) {
    return cp == ' ' || cp == '>' || cp == '|' || cp == 0xB7 || cp == 0xFFFD ||
           (cp >= 0x2000 && cp <= 0x2BFF) || (cp >= 0x1F000 && cp <= 0x1FAFF);
}

bool is_border(char32_t cp) {
    return cp == ' ' || cp == '|' || (cp >= 0x2500 && cp <= 0x259F);
}

std::size_t cut_on_boundary(std::string_view s, std::size_t max) {
    if (s.size() <= max) {
        return s.size();
    }
    // A character is at most 4 bytes: back up no further (raw lines may be all continuation bytes).
    std::size_t cut = max;
    while (cut > 0 && max - cut < 3 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) {
        --cut;
    }
    return cut;
}

bool is_blank_raw(std::string_view line) {
    return std::all_of(line.begin(), line.end(), [](char c) {
        return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
    });
}

// The text after dropping leading glyphs and trailing borders (on a cleaned, valid line).
std::string_view strip_glyphs(std::string_view s) {
    std::size_t begin = 0;
    while (begin < s.size()) {
        Decoded d = decode(s, begin);
        if (!is_glyph(d.cp)) {
            break;
        }
        begin += d.len;
    }
    std::size_t end = s.size();
    while (end > begin) {
        std::size_t start = end - 1;
        while (start > begin && (static_cast<unsigned char>(s[start]) & 0xC0) == 0x80) {
            --start;
        }
        if (!is_border(decode(s, start).cp)) {
            break;
        }
        end = start;
    }
    return s.substr(begin, end - begin);
}

std::string squeeze_blanks(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (char c : s) {
        if (c == ' ' && !out.empty() && out.back() == ' ') {
            continue;
        }
        out += c;
    }
    return out;
}

std::string bounded(std::string s) {
    s.resize(cut_on_boundary(s, k_max_evidence_bytes));
    while (!s.empty() && s.back() == ' ') {
        s.pop_back();
    }
    return s;
}

} // namespace

Line make_line(std::string_view raw, std::size_t max_bytes) {
    raw = raw.substr(0, cut_on_boundary(raw, max_bytes));
    Line line;
    line.text.reserve(raw.size());
    for (std::size_t i = 0; i < raw.size();) {
        Decoded d = decode(raw, i);
        append_clean(line.text, d.cp);
        i += d.len;
    }
    line.lower = line.text;
    for (char& c : line.lower) {
        if (c >= 'A' && c <= 'Z') {
            c = static_cast<char>(c - 'A' + 'a');
        }
    }
    return line;
}

std::vector<Line> tail_lines(std::string_view screen) {
    std::vector<std::string_view> reversed;
    std::size_t end = screen.size();
    bool trailing = true;
    while (reversed.size() < k_max_lines) {
        std::size_t nl = end == 0 ? std::string_view::npos : screen.rfind('\n', end - 1);
        std::size_t begin = nl == std::string_view::npos ? 0 : nl + 1;
        std::string_view line = screen.substr(begin, end - begin);
        if (!trailing || !is_blank_raw(line)) {
            trailing = false;
            reversed.push_back(line);
        }
        if (nl == std::string_view::npos) {
            break;
        }
        end = nl;
    }
    std::vector<Line> lines;
    lines.reserve(reversed.size());
    for (auto it = reversed.rbegin(); it != reversed.rend(); ++it) {
        lines.push_back(make_line(*it));
    }
    return lines;
}

std::string trim_evidence(std::string_view text) {
    return bounded(squeeze_blanks(strip_glyphs(text)));
}

std::string evidence_of(const Line& line) {
    std::string e = trim_evidence(line.text);
    if (!e.empty()) {
        return e;
    }
    std::string_view t = line.text;
    auto first = t.find_first_not_of(' ');
    if (first == std::string_view::npos) {
        return "";
    }
    t = t.substr(first, t.find_last_not_of(' ') + 1 - first);
    return bounded(squeeze_blanks(t));
}

bool is_pane_dead_line(const Line& line) {
    std::string_view l = line.lower;
    auto first = l.find_first_not_of(' ');
    return first != std::string_view::npos && l.substr(first).starts_with("pane is dead");
}

unsigned kind_bits(AgentKind kind) {
    switch (kind) {
    case AgentKind::claude:
        return 1;
    case AgentKind::codex:
        return 2;
    case AgentKind::gemini:
        return 4;
    case AgentKind::generic:
        break;
    }
    return 7;
}

} // namespace gt::screen::detail

namespace gt::screen {

namespace {

/// What agents print in an empty input box, dimmed (a plain capture cannot tell it from text).
constexpr std::string_view k_placeholders[] = {
    "Ask Codex to do anything",           // Codex
    "Resend your message to try again",   // Claude Code after an API error
    "Type your message or @path/to/file", // Gemini CLI
};

bool placeholder(std::string_view text) {
    return std::find(std::begin(k_placeholders), std::end(k_placeholders), text) !=
               std::end(k_placeholders) ||
           (text.starts_with("Try \"") && text.ends_with('"')); // Claude Code's suggestions
}

/// `s` without its prompt mark, borders and surrounding blanks, blanks squeezed.
std::string cleaned(std::string_view s) {
    return detail::squeeze_blanks(detail::strip_glyphs(s));
}

/// The bytes of `line` that the first `cells` cells take (one cell per character).
std::size_t bytes_of_cells(std::string_view line, int cells) {
    std::size_t i = 0;
    for (int c = 0; c < cells && i < line.size(); ++c) {
        i += detail::decode(line, i).len;
    }
    return std::min(i, line.size());
}

/// `a` and `b` joined by one blank, either may be empty.
std::string joined(std::string a, const std::string& b) {
    return a.empty() ? b : b.empty() ? a : a + " " + b;
}

} // namespace

std::string typed_text(const std::vector<std::string>& lines, int x, int y) {
    if (y < 0 || static_cast<std::size_t>(y) >= lines.size()) {
        return "";
    }
    const std::string_view line = lines[static_cast<std::size_t>(y)];
    const std::size_t at = bytes_of_cells(line, x);
    std::string before = cleaned(line.substr(0, at));
    std::string after = cleaned(line.substr(at));
    if (before.empty() && placeholder(after)) {
        after.clear();
    }
    std::string text = joined(before, after);
    // Inside a box drawn between rules, what was typed may go on over the lines above.
    for (int top = y - 1; top >= 0 && top >= y - 20; --top) {
        if (lines[static_cast<std::size_t>(top)].find("───") != std::string::npos) {
            std::string above;
            for (int i = top + 1; i < y; ++i) {
                above = joined(above, cleaned(lines[static_cast<std::size_t>(i)]));
            }
            return joined(above, text);
        }
    }
    return text;
}

bool menu_open(const std::vector<std::string>& lines, int y) {
    if (y < 0 || static_cast<std::size_t>(y) >= lines.size()) {
        return false;
    }
    const std::string line = cleaned(lines[static_cast<std::size_t>(y)]);
    std::size_t digits = 0;
    while (digits < line.size() && line[digits] >= '0' && line[digits] <= '9') {
        ++digits;
    }
    return digits > 0 && digits + 1 < line.size() && line[digits] == '.' && line[digits + 1] == ' ';
}

bool holds_only(const std::string& typed, const std::string& text) {
    return typed == cleaned(text);
}

} // namespace gt::screen
