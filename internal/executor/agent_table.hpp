#pragma once

#include "policy/decide.hpp"
#include "policy/restart_tracker.hpp"
#include "tmux/tmux.hpp"

#include <nlohmann/json.hpp>

namespace gt::executor {

/// The agent table, one JSON object per agent of `in.agents` (`supervised`, what
/// policy::supervised(in) returned, included), as
/// `gt agent list --json` prints it and `gt daemon status --json` carries it: identity, role,
/// rig, session, supervised, session_exists and alive (null when `snap` is nullptr: tmux
/// unknown), state, updated_at and age_ms of the report (or report_error), hook, restarts, gate,
/// blocked_until, last_exit_status, last_exit_reason, and the condition its screen shows
/// (condition, condition_since, evidence, resets_at; cause, exit_status, exit_signal of an
/// exit; design §16). `in.now` is the time ages are measured at.
nlohmann::json agent_table(const policy::TickInput& in,
                           const std::vector<state::Identity>& supervised,
                           const tmux::Snapshot* snap, const policy::RestartTracker& tracker);

} // namespace gt::executor
