#pragma once

#include "agent_table.hpp"
#include "event_log.hpp"
#include "policy/clock_watch.hpp"
#include "policy/decide.hpp"
#include "policy/follow_up.hpp"
#include "policy/restart_tracker.hpp"
#include "policy/screen_watch.hpp"
#include "proc/exit_watch.hpp"
#include "proc/process_table.hpp"
#include "screen/screen.hpp"
#include "state/config.hpp"
#include "state/daemon_state.hpp"
#include "state/lifecycle_request.hpp"
#include "state/restart_state.hpp"
#include "tmux/tmux.hpp"

#include <atomic>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <vector>

namespace gt::proc {
class ProcessRunner;
}

namespace gt::executor {

using policy::Action;
using policy::ActionKind;
using policy::Decision;
using policy::Outcome;
using policy::TickInput;

/// Sets `agent_alive` on every pane (design §5.5): not dead, and not an idle shell unless one of
/// `process_names` runs in the pane's process tree. Whether a pane's process has ended is asked
/// of `exits` when given (one poll for all panes), else of /proc pane by pane.
void mark_liveness(tmux::Snapshot& snap, const std::vector<std::string>& process_names,
                   proc::ExitWatch* exits = nullptr);

/// The environment of an agent's session (design §5.4).
std::vector<std::pair<std::string, std::string>> session_env(const std::string& town_root,
                                                             const state::Identity& id);

/// The last time the daemon saw its wall clock set or the machine sleep (design §17).
struct ClockNote {
    util::TimePoint at{};
    policy::TimeShift shift;
    util::TimePoint grace_until{};
};

/// What one heartbeat did, for state.json.
struct HeartbeatSummary {
    state::Counters counters; ///< increments during this heartbeat
    std::size_t supervised = 0;
    std::size_t healthy = 0;
    std::size_t screens_captured = 0; ///< screens read this pass (in at most one tmux call)
    long tmux_calls = 0;              ///< tmux processes this pass ran
    bool degraded = false;
    std::vector<AgentRow> agents; ///< the agent table for `status`
    /// Supervised agents by the condition their screen shows (screen::condition_name), for the
    /// service manager's status line and the metrics.
    std::map<std::string, std::size_t> conditions;
    /// When the daemon should run a pass before the next heartbeat (policy::Decision::wake_at
    /// and the follow-ups' retries).
    std::optional<util::TimePoint> wake_at;
    /// Pane processes of the healthy supervised agents after this pass: the daemon watches
    /// them so a death triggers a pass at once, whatever tmux's hook does.
    std::vector<long> pane_pids;
    std::optional<ClockNote> clock;     ///< the last clock jump or sleep seen, if any
    std::optional<policy::Storm> storm; ///< the storm in progress, if any
    state::TmuxServer server;           ///< where the town's agents live (design §19.2)
    std::string server_changed;         ///< SERVER_CHANGED in words while it holds, else ""
    int budget_left = 0;                ///< starts left in the town's budget after the pass
};

/// The recovery heartbeat's blocking half (design §5.3, design §15): gathers the facts (one tmux
/// snapshot, the agent state files, the claimed lifecycle requests), asks policy::decide() what
/// to do, carries the actions out through tmux and files, and asks policy::follow_up() what
/// each outcome leads to. It decides nothing itself. It owns the restart tracker and the memory
/// between passes (conditions reported, failed starts, panes seen gone). Not thread-safe: the
/// daemon runs it from one heartbeat at a time (the heartbeat never overlaps itself); the
/// members marked so may be called from any thread.
class Recovery {
public:
    /// The three clocks (util::read_clocks()); tests move them apart.
    using Clock = std::function<util::ClockReading()>;

    /// `env_socket` ($GT_TMUX_SOCKET) wins over `tmux.socket` of town.json when not empty.
    /// `clock` gives every `now` (default: util::read_clocks()); `gt_binary` is what the pane-died
    /// hook runs (default: this executable).
    Recovery(std::string town_root, proc::ProcessRunner& runner, EventLog& events,
             std::string env_socket, Clock clock = {}, std::string gt_binary = {});

    /// One heartbeat with `config` and the rigs of rigs.json.
    /// `rigs_loaded`: rigs.json has been read successfully at least once (until then lifecycle
    /// requests wait: their identities cannot be checked).
    HeartbeatSummary run(const state::TownConfig& config, const std::vector<std::string>& rigs,
                         bool rigs_loaded = true);

    /// Asks the next pass to re-read restart_state.json (SIGUSR2: a `gt daemon clear-backoff`
    /// that could not reach the socket edited it). Thread-safe.
    void request_reload() { m_reload_requested = true; }

    /// `gt daemon notify` (the pane-died hook, design §5.6): records how `id`'s pane ended; the
    /// next pass (triggered at once) restarts it. Thread-safe.
    void post_exit(const std::string& id, std::optional<int> exit_code, int signal, long pane_pid);
    /// `gt daemon clear-backoff` through the socket: applied at the start of the next pass.
    /// Thread-safe.
    void post_clear(const std::string& id);

    /// Asks a running heartbeat to abandon its remaining actions (SIGTERM, design §5.2): the
    /// action in progress finishes (bounded by tmux_timeout), the rest are dropped. Thread-safe.
    /// The daemon runs as a systemd service: a tmux server it starts gets a scope of its own
    /// unless `tmux.scope` says otherwise (design §18.1).
    void set_under_systemd(bool yes) { m_under_systemd = yes; }
    void request_stop() { m_stop_requested = true; }

    /// The server an earlier daemon recorded the agents on (state.json, design §19.2).
    void recall_server(state::TmuxServer server) { m_server = std::move(server); }

    /// How long typing waits between its keystrokes (tests shorten it).
    void set_type_pause(util::Millis pause) { m_type_pause = pause; }

    /// Agent files answered from what an earlier pass read (util::StampedCache).
    std::uint64_t reports_kept() const { return m_reports.hits(); }

    /// The restart history as this pass left it.
    const policy::RestartTracker& tracker() const { return m_tracker; }

private:
    /// How long the heartbeat waits for an agent file's lock before skipping that write.
    static constexpr util::Millis k_lock_wait{500};

    // Gathering the facts (recovery.cpp).
    TickInput gather(const state::TownConfig& config, const std::vector<std::string>& rigs,
                     bool rigs_loaded, util::TimePoint now, HeartbeatSummary& out);
    /// After the wall clock was set or the machine slept (design §17): what the daemon timed
    /// moves with the clock, the event is recorded, every agent gets its start grace again.
    void follow_clock(const policy::TimeShift& shift, util::TimePoint now,
                      const state::TownConfig& config);
    void read_agents(TickInput& in, HeartbeatSummary& out);
    /// One `list-panes -a` and whether each pane's process lives. Touches nothing of the pass
    /// but the runner and m_exits: gather() reads the files on another thread meanwhile.
    util::Result<tmux::Snapshot> look_at_tmux(const state::TownConfig& config);
    void take_snapshot(TickInput& in, util::Result<tmux::Snapshot> snap);

    // Which sessions are the town's (ownership.cpp, design §19.1).
    /// What the GT_TOWN_ROOT of an unmarked session's environment said, for its pane process.
    struct EnvCheck {
        long pid = 0;
        bool ours = false;
    };
    /// Leaves in `snap` only the sessions that carry this town's mark, marking (adopting) the
    /// unmarked ones an earlier gt started for this town; the other agent-named sessions go to
    /// `in.foreign`.
    void sort_owners(tmux::Snapshot& snap, TickInput& in);
    /// When the recorded server is not the one the daemon is set to use and still holds the
    /// town's sessions: what policy::ServerMove says of it (one list-panes of that server).
    std::optional<policy::ServerMove> server_moved(const std::string& configured);
    /// Records the server of `snap` (the pass's last look) once it holds the town's sessions.
    void note_server(const tmux::Snapshot& snap);
    /// True when the unmarked session `name` was started for this town (its environment's
    /// GT_TOWN_ROOT): asked of tmux once per pane process.
    bool older_gt_session(const std::string& name, long pane_pid,
                          std::map<std::string, EnvCheck>& checked);
    /// Each agent's last output that was not the echo of the daemon's typing (design §17).
    void note_output(TickInput& in);
    void claim_requests(TickInput& in, const state::TownConfig& config,
                        const std::vector<std::string>& rigs, HeartbeatSummary& out);
    /// What each agent's screen shows (design §16): captures the panes that need it, records
    /// condition changes as events.
    void read_screens(TickInput& in, const state::TownConfig& config, HeartbeatSummary& out);

    // Carrying the actions out (actions.cpp).
    void carry_out(const Action& a, const state::TownConfig& config, HeartbeatSummary& out);
    Outcome execute(const Action& a, const state::TownConfig& config, HeartbeatSummary& out);
    /// Creates (or replaces) the agent's session.
    Outcome start(const Action& a, const state::TownConfig& config, HeartbeatSummary& out);
    /// A lifecycle shutdown: `stopped` on disk first (else the heartbeat brings it straight
    /// back), then the session killed.
    Outcome shutdown(const Action& a, HeartbeatSummary& out);
    void mark_dead(const Action& a, HeartbeatSummary& out);

    // Typing (typing.cpp, design §19.3).
    /// Types the HEALTH_CHECK of the nudges and the resume text of the resumes (all of a kind
    /// at once: a whole town's agents share a limit and reset together), each where nothing
    /// stands in the way.
    void type_keys(const std::vector<Action>& actions, const TickInput& in,
                   const state::TownConfig& config);
    /// Types `text` into the agents `ids` where policy::keystroke_block() allows it (Escape
    /// first when `escape_first`, and the rule checked again after it), then Enter as a key of
    /// its own where the input line holds the text and nothing else; returns the agents that
    /// took it (not left in the input line after Enter). Why the others were not typed into is
    /// kept for `agent list` (m_typing_held). `table`: the process table, read at the first
    /// look and kept for the pass.
    std::vector<state::Identity> type_carefully(const std::vector<state::Identity>& ids,
                                                const std::string& text, bool escape_first,
                                                const TickInput& in,
                                                const state::TownConfig& config,
                                                std::optional<proc::ProcessTable>& table);
    void log_blocked(const Action& a);
    void apply(const Action& a, const policy::FollowUp& f, HeartbeatSummary& out);
    void log_start(const Action& a, const policy::FollowUp& f, const state::TownConfig& config);
    void finish_request(const Action& a, const policy::FollowUp& f, HeartbeatSummary& out);
    /// Records `starting` (and started_by_daemon_at) in the agent's state file; `before` gets
    /// what it replaced.
    void write_starting(const state::Identity& id, util::TimePoint now,
                        std::optional<state::AgentState>& before);
    /// Undoes write_starting() after a failed start, unless the agent reported since.
    void restore_report(const state::Identity& id, util::TimePoint now,
                        const std::optional<state::AgentState>& before);
    void notify(const Action& a, HeartbeatSummary& out);
    /// Records how a dead pane ended, once per pane process.
    void record_exit(const Action& a);

    // What the pass serves beyond its actions (posted.cpp).
    /// Applies the clears and the reports of panes' ends posted since the last pass; a report is
    /// recorded only when `snap` agrees (policy::check_exit_report()), and waits while there is
    /// no snapshot.
    void apply_posted(const std::optional<tmux::Snapshot>& snap);
    void save_restart_state();
    /// Writes daemon/screens.json when what it would say has changed.
    void save_screens();
    /// Writes daemon/storms.json when what it would say has changed.
    void save_storms();
    /// Logs a failed save of `path` (under `key`) once per reason, and the first save after.
    void report_save(const std::string& key, const std::string& path, const util::Status& saved,
                     const char* what);
    /// Re-reads restart_state.json and applies clears made by `gt daemon clear-backoff`.
    void reload_restart_state();
    void collect_pane_pids(const TickInput& in, const std::vector<state::Identity>& supervised,
                           HeartbeatSummary& out);
    /// True when the end of pane process `pane_pid` was recorded already.
    bool exit_recorded(long pane_pid) const;
    /// Notes that the end of `pane_pid` is recorded now; false when it was before.
    bool first_exit_report(long pane_pid);
    std::string pane_died_hook(const std::string& id) const;
    /// Logs `message` at warning level once per distinct (key, message).
    void warn_once(const std::string& key, const std::string& message);
    /// True once per distinct (key, value): the executor's memory of what it already logged.
    bool changed(const std::string& key, const std::string& value);
    /// What a new session runs under (design §18.1): `systemd-run --user --scope …` when the
    /// server is down and the config or the service manager asks for a scope; else nothing.
    std::vector<std::string> launcher(const state::TownConfig& config);
    /// Every kill-session of the daemon: the server may have gone with that session.
    tmux::Reply kill_session(const std::string& session);
    /// The tmux client of this heartbeat (socket and timeout from the current config).
    tmux::TmuxClient client() const {
        return tmux::TmuxClient(m_runner, m_tmux_socket, m_tmux_timeout);
    }

    /// The wall clock now.
    util::TimePoint wall() const { return m_clock().wall; }

    std::string m_root;
    const std::string m_mark;              ///< tmux::town_mark() of the root (design §19.1)
    mutable proc::CountingRunner m_runner; ///< every tmux call of the passes, counted
    EventLog& m_events;
    std::string m_env_socket;
    Clock m_clock;
    std::string m_gt_binary;        ///< for the pane-died hook
    std::string m_tmux_socket;      ///< this heartbeat's choice
    std::string m_tmux_socket_path; ///< tmux::socket_path() of it
    bool m_under_systemd = false;   ///< the daemon runs as a systemd service
    bool m_server_up = true; ///< the tmux server ran at the last look, and none was killed since
    unsigned m_scopes = 0;   ///< scopes asked for: part of their names
    util::Millis m_tmux_timeout{5000};
    policy::RestartTracker m_tracker;
    policy::ScreenWatch m_screens;
    policy::ClockWatch m_clock_watch;
    policy::StampAges m_ages; ///< of reports, the deacon's heartbeat, recorded starts
    std::optional<util::TimePoint> m_clock_grace_until;
    std::map<std::string, util::TimePoint> m_typed_at;    ///< the daemon's last typing, by id
    std::map<std::string, util::TimePoint> m_last_output; ///< policy::last_output(), by id
    std::optional<ClockNote> m_last_shift;
    policy::StormState m_storms; ///< deaths, the storm in progress, recent starts
    std::optional<policy::StormState> m_storms_saved; ///< what storms.json holds (save_storms())
    screen::ZoneLookup m_zones;
    util::TimeZone m_local_zone;
    state::RestartStateFile m_restart_file;
    std::map<std::string, util::TimePoint> m_started;
    std::set<std::string> m_conditions;
    std::set<std::string> m_start_failed;
    /// Pane processes whose end is recorded (the hook and the heartbeat may both see it).
    std::deque<long> m_exits_recorded;
    std::map<long, util::TimePoint> m_gone_since;    ///< pane processes gone, tmux not caught up
    util::StampedCache<state::AgentState> m_reports; ///< read_agents()
    state::DirListings m_listings;                   ///< read_agents()
    /// Pidfds of the live panes' processes (look_at_tmux(), then collect_pane_pids()).
    proc::ExitWatch m_exits{proc::pidfd_budget(4096)};
    std::map<std::string, int> m_request_attempts; ///< claimed requests that failed, by file
    std::map<std::string, EnvCheck> m_env_checked; ///< older_gt_session(), by session
    state::TmuxServer m_server;                    ///< where the town's agents live (design §19.2)
    std::map<std::string, std::string> m_typing_held; ///< type_carefully(), by identity
    util::Millis m_type_pause{500};                   ///< between keystrokes
    std::map<std::string, std::string> m_logged;      ///< warn_once() and changed() memory
    /// Bad files read outside a pass (restart_state.json, screens.json): counted by the next.
    std::uint64_t m_unread_files = 0;
    bool m_was_degraded = false;
    int m_degraded_passes = 0; ///< in a row (policy::TickInput::degraded_passes)
    std::atomic<bool> m_stop_requested{false};
    std::atomic<bool> m_reload_requested{false};
    /// Work posted from the loop (notify, clear-backoff), taken at the start of a pass.
    struct Posted {
        std::vector<std::tuple<std::string, std::optional<int>, int, long>> exits;
        std::vector<std::string> clears;
    };
    std::mutex m_posted_mutex;
    Posted m_posted;
};

} // namespace gt::executor
