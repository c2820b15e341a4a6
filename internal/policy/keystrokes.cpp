#include "keystrokes.hpp"

#include <algorithm>
#include <string_view>

namespace gt::policy {

namespace {

/// What agents print in an empty input box, dimmed (a plain capture cannot tell it from text).
constexpr std::string_view k_placeholders[] = {
    "Ask Codex to do anything",           // Codex
    "Resend your message to try again",   // Claude Code after an API error
    "Type your message or @path/to/file", // Gemini CLI
};

/// The bytes of `line` that the first `cells` cells take (one cell per UTF-8 character).
std::size_t bytes_of_cells(const std::string& line, int cells) {
    std::size_t i = 0;
    for (int c = 0; c < cells && i < line.size(); ++c) {
        ++i;
        while (i < line.size() && (static_cast<unsigned char>(line[i]) & 0xC0) == 0x80) {
            ++i;
        }
    }
    return i;
}

std::string trim(std::string_view s) {
    auto first = s.find_first_not_of(' ');
    if (first == std::string_view::npos) {
        return "";
    }
    auto last = s.find_last_not_of(' ');
    return std::string(s.substr(first, last - first + 1));
}

bool starts_with(std::string_view s, std::string_view p) {
    return s.substr(0, p.size()) == p;
}

/// `line` without a leading prompt mark or box border, trimmed.
std::string without_prompt(const std::string& line) {
    std::string s = trim(line);
    for (std::string_view mark : {"│", "❯", "›", ">", "$", "#", "%"}) {
        if (starts_with(s, mark)) {
            s = trim(std::string_view(s).substr(mark.size()));
        }
    }
    if (s.size() >= 3 && std::string_view(s).substr(s.size() - 3) == "│") {
        s = trim(std::string_view(s).substr(0, s.size() - 3));
    }
    return s;
}

/// A box's top or bottom rule (`────`, `╭───╮`).
bool rule_line(const std::string& line) {
    return line.find("───") != std::string::npos;
}

bool placeholder(const std::string& text) {
    return std::find(std::begin(k_placeholders), std::end(k_placeholders), text) !=
               std::end(k_placeholders) ||
           (starts_with(text, "Try \"") && text.back() == '"'); // Claude Code's suggestions
}

} // namespace

std::string typed_text(const tmux::InputState& input) {
    if (input.cursor_y < 0 || static_cast<std::size_t>(input.cursor_y) >= input.lines.size()) {
        return "";
    }
    const std::string& line = input.lines[input.cursor_y];
    const std::size_t at = bytes_of_cells(line, input.cursor_x);
    std::string before = without_prompt(line.substr(0, at));
    std::string after = trim(line.substr(at));
    if (after.size() >= 3 && std::string_view(after).substr(after.size() - 3) == "│") {
        after = trim(std::string_view(after).substr(0, after.size() - 3));
    }
    if (before.empty() && placeholder(after)) {
        after.clear();
    }
    std::string text = trim(before + (before.empty() || after.empty() ? "" : " ") + after);
    // Inside a box drawn between rules, what was typed may go on over the lines above.
    int top = -1;
    for (int y = input.cursor_y - 1; y >= 0 && y >= input.cursor_y - 20; --y) {
        if (rule_line(input.lines[y])) {
            top = y;
            break;
        }
    }
    if (top >= 0) {
        std::string above;
        for (int y = top + 1; y < input.cursor_y; ++y) {
            std::string part = without_prompt(input.lines[y]);
            above += (above.empty() || part.empty() ? "" : " ") + part;
        }
        text = trim(above + (above.empty() || text.empty() ? "" : " ") + text);
    }
    return text;
}

bool menu_open(const tmux::InputState& input) {
    if (input.cursor_y < 0 || static_cast<std::size_t>(input.cursor_y) >= input.lines.size()) {
        return false;
    }
    std::string line = without_prompt(input.lines[input.cursor_y]);
    std::size_t digits = 0;
    while (digits < line.size() && line[digits] >= '0' && line[digits] <= '9') {
        ++digits;
    }
    return digits > 0 && digits + 1 < line.size() && line[digits] == '.' && line[digits + 1] == ' ';
}

std::string keystroke_block(const KeystrokeFacts& f, const KeystrokeRules& r, bool check_input) {
    if (f.input.in_mode) {
        return "the pane is in copy mode";
    }
    if (f.input.attached > 0 && !r.type_when_attached) {
        return "a client is attached (someone may be typing; daemon.type_when_attached)";
    }
    if (!f.in_front.empty()) {
        return f.in_front;
    }
    if (f.quiet_for < r.quiet_after) {
        return "its pane printed " + util::format_duration(f.quiet_for) + " ago (quiet after " +
               util::format_duration(r.quiet_after) + ")";
    }
    if (check_input) {
        if (std::string text = typed_text(f.input); !text.empty()) {
            if (text.size() > 60) {
                text = text.substr(0, 57) + "...";
            }
            return "its input line holds text that is not the daemon's: " + text;
        }
    }
    return "";
}

} // namespace gt::policy
