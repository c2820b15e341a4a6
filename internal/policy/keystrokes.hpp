#pragma once

// The one rule for every keystroke the daemon sends (design §19.3): a quiet pane, the agent in
// the foreground, no client attached, an empty input line. Pure: the facts are gathered by the
// executor just before it would type.

#include "tmux/tmux.hpp"
#include "util/time.hpp"

#include <string>

namespace gt::policy {

/// What is typed into a deacon whose heartbeat is stale.
inline constexpr const char* k_health_check =
    "HEALTH_CHECK: heartbeat stale, respond to confirm responsiveness";

/// What the pane shows and runs just before the daemon would type into it.
struct KeystrokeFacts {
    util::Millis quiet_for{0}; ///< since the pane last printed
    /// What has the terminal instead of the agent ("vim (pid 12) has the terminal"); "" when the
    /// agent has it (proc::ProcessTable::not_the_agent_in_front()).
    std::string in_front;
    tmux::InputState input;
};

struct KeystrokeRules {
    util::Millis quiet_after{20000};
    bool type_when_attached = false;
};

/// The text in the agent's input line as the screen shows it: the cursor's line (and, inside an
/// input box drawn between two rules, the lines above it up to the box's top), a prompt mark
/// (`❯`, `>`, `›`, `│`) taken off, placeholder text that agents show in an empty box taken as
/// empty. "" when the line is empty.
std::string typed_text(const tmux::InputState& input);

/// True when the cursor is on an option of a numbered menu (`❯ 1. Stop and wait for limit to
/// reset`): Escape closes it before anything is typed. Escape is sent for nothing else: a
/// program that reads lines would take it as text.
bool menu_open(const tmux::InputState& input);

/// Why the daemon must not type into the pane now ("a client is attached", "vim (pid 12) has the
/// terminal", "someone's text is in its input line: …"), or "" when it may. `check_input`:
/// whether the input line must be empty (not before an Escape that closes a menu: it is
/// checked again after it).
std::string keystroke_block(const KeystrokeFacts& f, const KeystrokeRules& r,
                            bool check_input = true);

} // namespace gt::policy
