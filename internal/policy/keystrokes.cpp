#include "keystrokes.hpp"

#include "screen/screen.hpp"

namespace gt::policy {

std::string input_block(const tmux::InputState& input) {
    std::string text = screen::typed_text(input.lines, input.cursor_x, input.cursor_y);
    if (text.empty()) {
        return "";
    }
    if (text.size() > 60) {
        text = text.substr(0, 57) + "...";
    }
    return "its input line holds text that is not the daemon's: " + text;
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
    return check_input ? input_block(f.input) : "";
}

} // namespace gt::policy
