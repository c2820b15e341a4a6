// The keystroke rule (design §19.3) on real screens: what is in an agent's input line, and
// what keeps the daemon from typing.
#include "policy/keystrokes.hpp"
#include "screen/screen.hpp"

#include <gtest/gtest.h>

using namespace gt;
using namespace gt::policy;
using namespace std::chrono_literals;

namespace {

tmux::InputState input(std::vector<std::string> lines, int x, int y, int attached = 0) {
    tmux::InputState s;
    s.lines = std::move(lines);
    s.cursor_x = x;
    s.cursor_y = y;
    s.attached = attached;
    return s;
}

/// The input line of `s` as the daemon reads it (screen::typed_text()).
std::string typed_text(const tmux::InputState& s) {
    return screen::typed_text(s.lines, s.cursor_x, s.cursor_y);
}

bool menu_open(const tmux::InputState& s) {
    return screen::menu_open(s.lines, s.cursor_y);
}

std::string rule() {
    std::string r;
    for (int i = 0; i < 40; ++i) {
        r += "─";
    }
    return r;
}

} // namespace

TEST(Keystrokes, TheInputLineAsScreensShowIt) {
    // Claude Code 2.1.332, idle: an empty box between two rules.
    EXPECT_EQ(typed_text(input({"", rule(), "❯ ", rule(), "  ⏵⏵ auto mode on"}, 2, 2)), "");
    // The same box with lines piled up in it (text and Enter taken as one paste).
    EXPECT_EQ(typed_text(input({rule(), "❯ please also update the changelogHEALTH_CHECK: x",
                                "  confirm responsiveness", rule()},
                               26, 2)),
              "please also update the changelogHEALTH_CHECK: x confirm responsiveness");
    // Placeholder text right of the cursor is no one's text.
    EXPECT_EQ(typed_text(input({"› Ask Codex to do anything"}, 2, 0)), "");
    EXPECT_EQ(typed_text(input({rule(), "❯ Resend your message to try again", rule()}, 2, 1)), "");
    EXPECT_EQ(typed_text(input({rule(), "❯ Try \"fix lint errors\"", rule()}, 2, 1)), "");
    // Codex with a person's unsent draft: never submitted.
    EXPECT_EQ(typed_text(input({"› note to self: do not touch prod"}, 33, 0)),
              "note to self: do not touch prod");
    // Text right of a cursor moved to the line's start is someone's too.
    EXPECT_EQ(typed_text(input({"› draft"}, 2, 0)), "draft");
    // A line reader (cat) with an empty line under its output.
    EXPECT_EQ(typed_text(input({"hello", "hello", ""}, 0, 2)), "");
    EXPECT_EQ(typed_text(input({"hello", "hello", "note"}, 4, 2)), "note");
    // A cursor off the screen reads as nothing typed.
    EXPECT_EQ(typed_text(input({"x"}, 0, 5)), "");
}

TEST(Keystrokes, EveryRuleThatKeepsTheDaemonFromTyping) {
    KeystrokeRules rules{20s, false};
    KeystrokeFacts ok{30s, "", input({"❯ "}, 2, 0)};
    EXPECT_EQ(keystroke_block(ok, rules), "");

    auto f = ok;
    f.input.attached = 1;
    EXPECT_EQ(keystroke_block(f, rules),
              "a client is attached (someone may be typing; daemon.type_when_attached)");
    EXPECT_EQ(keystroke_block(f, {20s, true}), "");

    f = ok;
    f.in_front = "vim (pid 12) has the terminal";
    EXPECT_EQ(keystroke_block(f, rules), "vim (pid 12) has the terminal");

    f = ok;
    f.quiet_for = 5s;
    EXPECT_EQ(keystroke_block(f, rules), "its pane printed 5s ago (quiet after 20s)");

    f = ok;
    f.input = input({"› note to self"}, 14, 0);
    EXPECT_EQ(keystroke_block(f, rules),
              "its input line holds text that is not the daemon's: note to self");
    EXPECT_EQ(keystroke_block(f, rules, false), "") << "not checked before a menu's Escape";

    f = ok;
    f.input.in_mode = true;
    EXPECT_EQ(keystroke_block(f, rules), "the pane is in copy mode");
}

TEST(Keystrokes, OnlyANumberedMenuIsClosedWithEscape) {
    EXPECT_TRUE(menu_open(input({"❯ 1. Stop and wait for limit to reset", "  2. Upgrade"}, 0, 0)));
    EXPECT_TRUE(menu_open(input({"› 1. Switch to gpt-6-luna"}, 0, 0)));
    EXPECT_FALSE(menu_open(input({"❯ "}, 2, 0)));
    EXPECT_FALSE(menu_open(input({"› note to self"}, 14, 0)));
    EXPECT_FALSE(menu_open(input({"1.5 is the version"}, 0, 0)));
}
