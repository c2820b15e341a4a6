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

/// Why the agent's input line is not free for the daemon's text (screen::typed_text() finds
/// someone's text in it), or "" when it is empty.
std::string input_block(const tmux::InputState& input);

/// Why the daemon must not type into the pane now ("a client is attached", "vim (pid 12) has the
/// terminal", "someone's text is in its input line: …"), or "" when it may. `check_input`:
/// whether the input line must be empty (not before an Escape that closes a menu: it is
/// checked again after it).
std::string keystroke_block(const KeystrokeFacts& f, const KeystrokeRules& r,
                            bool check_input = true);

} // namespace gt::policy
