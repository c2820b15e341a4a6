#pragma once

#include "restart_tracker.hpp"
#include "screen_watch.hpp"
#include "state/agent_state.hpp"
#include "state/config.hpp"
#include "state/lifecycle_request.hpp"
#include "state/names.hpp"
#include "storm.hpp"
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
    std::optional<state::AgentState> report; ///< nullopt: no trustworthy report (design §4)
    bool workdir_exists = true;              ///< the session's working directory is there
    std::string report_error;                ///< why there is no report, when a file was there
    /// What its screen shows (design §16); nullopt when its session is not there or unread.
    std::optional<ScreenState> screen;
    /// How old the report is, judged so that a wall clock set since it was first seen changes
    /// nothing (StampAges, design §17).
    util::Millis report_age{0};
};

/// The town's agents live on a tmux server the daemon is no longer set to use (design §19.2).
struct ServerMove {
    std::string holding;    ///< the socket path of the server that runs them
    long holding_pid = 0;   ///< its PID
    std::size_t agents = 0; ///< how many of the town's sessions it holds
    std::string configured; ///< the socket path the daemon is set to use now
};

/// Everything one heartbeat decides from (design §5.3 steps 1–2). No I/O happens in decide().
struct TickInput {
    const state::TownConfig* config = nullptr;
    std::vector<std::string> rigs;
    /// nullopt: tmux is unusable this heartbeat (degraded mode); `degraded_reason` says why.
    std::optional<tmux::Snapshot> snapshot;
    std::string degraded_reason;
    /// Sessions with an agent's name that are not this town's (design §19.1), left out of
    /// `snapshot`: by name, the root of the town whose mark they carry ("" for none).
    std::map<std::string, std::string> foreign;
    /// Set while the agents live on another server than `snapshot`'s: nothing is started or
    /// killed, one SERVER_CHANGED is told.
    std::optional<ServerMove> server_moved;
    /// Degraded passes in a row before this one: a degraded pass asks for the next one 1 s
    /// after, doubling with each to at most k_degraded_recheck_max (design §5.5).
    int degraded_passes = 0;
    std::map<std::string, AgentFacts> agents; ///< keyed by canonical identity
    /// How old `deacon/heartbeat.json` is (StampAges); nullopt when there is none.
    std::optional<util::Millis> deacon_heartbeat_age;
    const RestartTracker* tracker = nullptr;
    /// When the daemon last started each identity (memory and `started_by_daemon_at`).
    std::map<std::string, util::TimePoint> started;
    /// After the wall clock was set or the machine slept: every agent is in its start grace
    /// again until then (design §17).
    std::optional<util::TimePoint> clock_grace_until;
    /// Each agent's last pane output that was not the echo of the daemon's own typing (a nudge,
    /// a resume), by identity; an agent missing here is judged by its pane's activity.
    std::map<std::string, util::TimePoint> last_output;
    /// When the daemon last typed into each agent (a nudge, a resume), by identity: two
    /// HEALTH_CHECKs are at least `deacon_stale` apart (design §19.3).
    std::map<std::string, util::TimePoint> typed_at;
    /// Notification conditions already reported (sent once per condition, design §5.3).
    std::set<std::string> active_conditions;
    /// Pane processes that tmux still shows alive (or dead without a status) though they ended,
    /// with when a pass first saw that: tmux is about to report how they ended, so a restart
    /// waits for it, at most k_settle_window.
    std::map<long, util::TimePoint> gone_since;
    /// Identities whose last start failed (a polecat's CRASHED_POLECAT condition).
    std::set<std::string> start_failed;
    /// Deaths not yet recovered, the storm in progress, recent starts (design §17); none when
    /// nullptr.
    const StormState* storms = nullptr;
    /// Lifecycle requests claimed for this pass (design §6), not yet planned.
    std::vector<state::LifecycleRequest> requests;
    util::TimePoint now{};
};

/// How long a restart waits for tmux to report how a pane process ended (design §5.6).
inline constexpr util::Millis k_settle_window{5000};
/// How soon a settling pane is looked at again.
inline constexpr util::Millis k_settle_recheck{250};
/// The longest wait between degraded passes (the heartbeat's, when that is shorter).
inline constexpr util::Millis k_degraded_recheck_max{128'000};
/// How often a lifecycle request that failed (tmux timed out, a lock was held) is tried in all.
inline constexpr int k_request_attempts = 3;
/// How soon a failed lifecycle request is tried again.
inline constexpr util::Millis k_request_retry{1000};
/// How long after the daemon typed into a pane its output counts as the echo of that typing.
inline constexpr util::Millis k_echo_window{2000};

/// The pane's last output that shows the agent alive (design §17): `activity`, unless it lies
/// within the echo window of the daemon's typing at `typed_at` (tmux counts in whole seconds),
/// and then `before`, the last output known before it (nullopt: none known, `activity` it is).
util::TimePoint last_output(util::TimePoint activity, std::optional<util::TimePoint> typed_at,
                            std::optional<util::TimePoint> before);

/// How long after the resume text a usage-limited agent must have left its limit (design §16).
inline constexpr util::Millis k_resume_verify{15000};

enum class ActionKind {
    start,       ///< create the session (kill a zombie session first when `kill_first`)
    restart,     ///< kill the session, then start a fresh one
    shutdown,    ///< a lifecycle shutdown: record `stopped`, kill the session
    collapse,    ///< a lifecycle request superseded by a later one of the same agent: dropped
    blocked,     ///< a (re)start held back by backoff or the crash loop
    leave,       ///< a healthy session without a trusted report: left alone (logged once)
    nudge,       ///< type a health check into the session
    mark_dead,   ///< set the agent's state to `dead` unless it reported since `seen_updated_at`
    unstartable, ///< the working directory is missing: no start is attempted
    notify,      ///< mail the rig's witness (or the mayor)
    degraded,    ///< tmux unusable: nothing started or killed
    settle,      ///< the pane process just ended; check again in a moment
    hold,        ///< a restart held back until a usage limit resets (`until`)
    resume,      ///< type the resume text into an agent whose usage limit has reset
    warn,        ///< log `reason` and record it as the event `event` (once per condition)
    refuse,      ///< a lifecycle request that cannot be carried out (`reason`): dropped
};

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
    std::string event;                 ///< warn: the event recorded
    bool town = false;                 ///< notify, warn: about the town, not about `id`
    /// restart/shutdown/collapse of a lifecycle request: the request (a requested restart is
    /// not a crash: no backoff, not counted towards the crash loop).
    std::optional<state::LifecycleRequest> request;
    std::string superseded_by; ///< collapse: the request that wins (`cycle request <id>`)
    std::optional<util::TimePoint> until; ///< blocked: when the gate opens
    std::optional<int> exit_status;       ///< start/restart of a dead pane: how it ended
    int exit_signal = 0;
    long pane_pid = 0;       ///< the dead pane's process (to report its end once)
    std::string exit_reason; ///< start/restart of a dead pane: what its screen said
    /// start after an exit on a usage limit: not a crash (no backoff, not counted).
    bool not_a_crash = false;
};

/// The actions of one heartbeat (lifecycle requests first, then in the order of design §5.3),
/// the conditions that hold now, and what must be looked at again before the next heartbeat.
struct Decision {
    std::vector<Action> actions;
    std::set<std::string> conditions;
    std::set<std::string> start_failed; ///< failed starts still not healthy
    /// The earliest end of a backoff that held a restart back, or a settling pane's recheck:
    /// a pass then runs without waiting for the next heartbeat (crash loops are not woken for).
    std::optional<util::TimePoint> wake_at;
    /// The deaths, storm and starts as this pass leaves them (the starts it makes are added by
    /// the executor as they happen).
    StormState storms;
};

/// The identities the daemon keeps running this heartbeat: deacon, mayor (when enabled),
/// witness and refinery of every rig, and polecats with hooked work (design §5.3).
std::vector<state::Identity> supervised(const TickInput& in);

/// The pure decision of one heartbeat (design §5.3 steps 3–5 and 7–10, design §5.4).
Decision decide(const TickInput& in);

/// What SERVER_CHANGED says (design §19.2): where the agents run, where the daemon looks, and
/// what to run.
std::string server_moved_text(const ServerMove& m);

/// The notification address for problems of `id`: its rig's witness, else the mayor.
std::string notify_address(const state::Identity& id);

/// A `notify` action about `id`: mail to notify_address(id), the condition `<kind>:<id>`.
Action notification(const state::Identity& id, const std::string& kind, const std::string& subject);

/// `CRASHED_POLECAT: <rig>/<name> restart failed`.
std::string crashed_polecat_subject(const state::Identity& id);

} // namespace gt::policy
