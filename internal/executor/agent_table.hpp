#pragma once

#include "policy/decide.hpp"
#include "policy/restart_tracker.hpp"
#include "tmux/tmux.hpp"

#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <vector>

namespace gt::executor {

/// One agent as `gt agent list` and `gt daemon status` show it: plain values, turned into text
/// only when someone asks (agent_table_json()), so that a heartbeat over a thousand agents does
/// not format a thousand rows nobody reads.
struct AgentRow {
    state::Identity id;
    bool supervised = false;
    std::optional<bool> session_exists; ///< nullopt: tmux unknown
    std::optional<bool> alive;          ///< nullopt: tmux unknown
    /// A session with its name is there but not this town's (design §19.1): the root of the
    /// town whose mark it carries, "" for none.
    std::optional<std::string> conflict_town;
    // The agent's report, or why it could not be read.
    bool reported = false;
    std::string state; ///< as written
    util::TimePoint updated_at{};
    util::Millis age{0};
    std::string report_error;
    std::string hook;
    // The restart history.
    int restarts = 0;
    policy::Gate gate = policy::Gate::allowed;
    std::optional<util::TimePoint> blocked_until;
    std::optional<int> last_exit_status;
    std::string last_exit_reason;
    // What its screen shows (design §16); unknown without a screen read of the current pane.
    screen::Condition condition = screen::Condition::unknown;
    std::optional<util::TimePoint> condition_since;
    std::string evidence;
    std::optional<util::TimePoint> resets_at;
    screen::Condition cause = screen::Condition::unknown; ///< of an exit
    std::optional<int> exit_status;                       ///< of an exit
    int exit_signal = 0;                                  ///< of an exit
    /// Why the daemon did not type what it meant to into it (design §19.3); "" when nothing
    /// waits.
    std::string typing_held;
};

/// The agent table, one row per agent of `in.agents` (`supervised`, what
/// policy::supervised(in) returned, included); `snap` nullptr when tmux is unknown; `in.now` is
/// the time ages are measured at.
std::vector<AgentRow> agent_rows(const policy::TickInput& in,
                                 const std::vector<state::Identity>& supervised,
                                 const tmux::Snapshot* snap, const policy::RestartTracker& tracker);

/// The rows as `gt agent list --json` prints them and `gt daemon status --json` carries them:
/// identity, role, rig, session, supervised, session_exists and alive (null when tmux is
/// unknown), conflict_town (only when another town's session has its name), state, updated_at and
/// age_ms of the report (or report_error), hook, restarts, gate, blocked_until, last_exit_status,
/// last_exit_reason, and the condition its screen shows (condition, condition_since, evidence,
/// resets_at; cause, exit_status, exit_signal of an exit; design §16), and typing_held when
/// the daemon waits to type into it (design §19.3).
nlohmann::json agent_table_json(const std::vector<AgentRow>& rows);

} // namespace gt::executor
