#pragma once

#include "restart_tracker.hpp"
#include "state/agent_state.hpp"
#include "state/config.hpp"
#include "state/names.hpp"
#include "tmux/tmux.hpp"
#include "util/time.hpp"

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace gt::policy {

/// What the supervisor knows about one agent at the start of a heartbeat.
struct AgentFacts {
    state::Identity id;
    std::optional<state::AgentState> report; ///< nullopt: no trustworthy report (§4)
    bool workdir_exists = true;              ///< the session's working directory is there
};

/// Everything one heartbeat decides from (§5.3 steps 1–2). No I/O happens in decide().
struct TickInput {
    const state::TownConfig* config = nullptr;
    std::vector<std::string> rigs;
    /// nullopt: tmux is unusable this heartbeat (degraded mode); `degraded_reason` says why.
    std::optional<tmux::Snapshot> snapshot;
    std::string degraded_reason;
    std::map<std::string, AgentFacts> agents; ///< keyed by canonical identity
    std::optional<util::TimePoint> deacon_heartbeat;
    const RestartTracker* tracker = nullptr;
    /// When the daemon last started each identity (memory and `started_by_daemon_at`).
    std::map<std::string, util::TimePoint> started;
    /// Notification conditions already reported (sent once per condition, §5.3).
    std::set<std::string> active_conditions;
    /// Pane processes that ended moments ago while tmux still shows the pane alive: tmux is
    /// about to report how they ended, so the restart waits for it (briefly).
    std::set<long> settling;
    /// Identities whose last start failed (a polecat's CRASHED_POLECAT condition).
    std::set<std::string> start_failed;
    util::TimePoint now{};
};

enum class ActionKind {
    start,       ///< create the session (kill a zombie session first when `kill_first`)
    restart,     ///< kill the session, then start a fresh one
    blocked,     ///< a (re)start held back by backoff or the crash loop
    leave,       ///< a healthy session without a trusted report: left alone (logged once)
    nudge,       ///< type a health check into the session
    mark_dead,   ///< set the agent's state to `dead` unless it reported since `seen_updated_at`
    unstartable, ///< the working directory is missing: no start is attempted
    notify,      ///< mail the rig's witness (or the mayor)
    degraded,    ///< tmux unusable: nothing started or killed
    settle,      ///< the pane process just ended; check again in a moment
};
const char* action_name(ActionKind k);

/// One thing to do, with the reason it was decided.
struct Action {
    ActionKind kind = ActionKind::leave;
    state::Identity id;
    std::string reason;
    bool kill_first = false;           ///< start: a zombie session exists
    Gate gate = Gate::allowed;         ///< blocked: why
    util::TimePoint seen_updated_at{}; ///< mark_dead: the report the decision saw
    std::string to;                    ///< notify: address (canonical identity)
    std::string subject;               ///< notify
    std::string condition;             ///< notify: the once-per-condition key
    bool requested = false;            ///< a lifecycle request: no backoff, not a crash
    std::optional<int> exit_status;    ///< start/restart of a dead pane: how it ended
    int exit_signal = 0;
    long pane_pid = 0; ///< the dead pane's process (to report its end once)
};

/// The actions of one heartbeat, in the order of §5.3, and the conditions that hold now.
struct Decision {
    std::vector<Action> actions;
    std::set<std::string> conditions;
};

/// The identities the daemon keeps running this heartbeat: deacon, mayor (when enabled),
/// witness and refinery of every rig, and polecats with hooked work (§5.3).
std::vector<state::Identity> supervised(const TickInput& in);

/// The pure decision of one heartbeat (§5.3 steps 3–5 and 7–10, §5.4).
Decision decide(const TickInput& in);

/// The notification address for problems of `id`: its rig's witness, else the mayor.
std::string notify_address(const state::Identity& id);

} // namespace gt::policy
