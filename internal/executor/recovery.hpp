#pragma once

#include "event_log.hpp"
#include "policy/decide.hpp"
#include "policy/restart_tracker.hpp"
#include "state/config.hpp"
#include "state/daemon_state.hpp"
#include "state/lifecycle_request.hpp"
#include "tmux/tmux.hpp"

#include <atomic>
#include <deque>
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
using policy::AgentFacts;
using policy::Decision;
using policy::Gate;
using policy::RestartTracker;
using policy::TickInput;
using state::RestartStateFile;

/// Sets `agent_alive` on every pane (§5.5): not dead, and not an idle shell unless one of
/// `process_names` runs in the pane's process tree.
void mark_liveness(tmux::Snapshot& snap, const std::vector<std::string>& process_names);

/// The environment of an agent's session (§5.4).
std::vector<std::pair<std::string, std::string>> session_env(const std::string& town_root,
                                                             const state::Identity& id);

/// What one heartbeat did, for state.json.
struct HeartbeatSummary {
    state::Counters counters; ///< increments during this heartbeat
    std::size_t supervised = 0;
    std::size_t healthy = 0;
    bool degraded = false;
    std::string agents_json; ///< the agent table (a JSON array) for `status`
    /// The earliest end of a backoff that held a restart back: a pass then restarts it without
    /// waiting for the next heartbeat (crash loops are not woken for).
    std::optional<util::TimePoint> wake_at;
    /// Pane processes of the healthy supervised agents after this pass: the daemon watches
    /// them so a death triggers a pass at once, whatever tmux's hook does.
    std::vector<long> pane_pids;
};

/// The recovery heartbeat's blocking half (§5.3): gathers the facts (one tmux snapshot, the agent
/// state files), asks decide() what to do, and carries the actions out through tmux and files.
/// It owns the restart tracker and the once-per-condition memory. Not thread-safe: the daemon runs
/// it from one heartbeat at a time (the heartbeat never overlaps itself).
class Recovery {
public:
    /// `env_socket` ($GT_TMUX_SOCKET) wins over `tmux.socket` of town.json when not empty.
    Recovery(std::string town_root, proc::ProcessRunner& runner, EventLog& events,
             std::string env_socket);

    /// One heartbeat with `config` and the rigs of rigs.json.
    /// `rigs_loaded`: rigs.json has been read successfully at least once (until then lifecycle
    /// requests wait: their identities cannot be checked).
    HeartbeatSummary run(const state::TownConfig& config, const std::vector<std::string>& rigs,
                         bool rigs_loaded = true);

    /// Asks the next pass to re-read restart_state.json (SIGUSR2: a `gt daemon clear-backoff`
    /// that could not reach the socket edited it). Thread-safe.
    void request_reload() { m_reload_requested = true; }

    /// `gt daemon notify` (the pane-died hook, §5.6): records how `id`'s pane ended; the next
    /// pass (triggered at once) restarts it. Thread-safe.
    void post_exit(const std::string& id, std::optional<int> exit_code, int signal, long pane_pid);
    /// `gt daemon clear-backoff` through the socket: applied at the start of the next pass.
    /// Thread-safe.
    void post_clear(const std::string& id);

    /// Asks a running heartbeat to abandon its remaining actions (SIGTERM, §5.2): the action in
    /// progress finishes (bounded by tmux_timeout), the rest are dropped. Thread-safe.
    void request_stop() { m_stop_requested = true; }

private:
    /// How long the heartbeat waits for an agent file's lock before skipping that write.
    static constexpr util::Millis k_lock_wait{500};

    TickInput gather(const state::TownConfig& config, const std::vector<std::string>& rigs,
                     HeartbeatSummary& out);
    void read_agents(TickInput& in, HeartbeatSummary& out);
    void take_snapshot(TickInput& in, const state::TownConfig& config);
    void execute(const Action& a, const state::TownConfig& config, HeartbeatSummary& out);
    /// Creates (or replaces) the agent's session; false when it could not.
    bool start(const Action& a, const state::TownConfig& config, HeartbeatSummary& out);
    void mark_dead(const Action& a, HeartbeatSummary& out);
    /// Records `starting` (and started_by_daemon_at) in the agent's state file; `before` gets
    /// what it replaced.
    void write_starting(const state::Identity& id, util::TimePoint now,
                        std::optional<state::AgentState>& before);
    /// Undoes write_starting() after a failed start, unless the agent reported since.
    void restore_report(const state::Identity& id, util::TimePoint now,
                        const std::optional<state::AgentState>& before);
    void notify(const state::Identity& id, const std::string& to, const std::string& subject,
                const std::string& condition, HeartbeatSummary& out);
    void save_restart_state();
    /// The tmux client of this heartbeat (socket and timeout from the current config).
    tmux::TmuxClient client() const {
        return tmux::TmuxClient(m_runner, m_tmux_socket, m_tmux_timeout);
    }
    /// §6: claims the lifecycle requests and carries them out (before the snapshot, so the
    /// heartbeat sees their effect).
    void process_lifecycle(const state::TownConfig& config, const std::vector<std::string>& rigs,
                           HeartbeatSummary& out);
    /// Executes one request (cycle/restart: kill and start fresh; shutdown: kill, state stopped).
    bool execute_request(const state::LifecycleRequest& r, const state::TownConfig& config,
                         HeartbeatSummary& out);
    /// Logs `message` at warning level once per distinct (key, message).
    void warn_once(const std::string& key, const std::string& message);

    std::string m_root;
    proc::ProcessRunner& m_runner;
    EventLog& m_events;
    std::string m_env_socket;
    std::string m_tmux_socket; ///< this heartbeat's choice
    util::Millis m_tmux_timeout{5000};
    RestartTracker m_tracker;
    RestartStateFile m_restart_file;
    std::string m_gt_binary; ///< for the pane-died hook
    std::string pane_died_hook(const std::string& id) const;
    std::map<std::string, util::TimePoint> m_started;
    std::set<std::string> m_conditions;
    std::set<std::string> m_start_failed;
    std::deque<long> m_exits_recorded; ///< pane processes whose end is recorded (the hook and
                                       ///< the heartbeat may both see it)
    bool first_exit_report(long pane_pid);
    std::map<long, util::TimePoint> m_gone_since;
    std::map<std::string, int> m_request_attempts; ///< claimed requests that failed, by file ///<
                                                   ///< pane processes gone, tmux not caught up
    std::map<std::string, std::string> m_logged;   ///< warn_once memory
    bool m_was_degraded = false;
    std::atomic<bool> m_stop_requested{false};
    std::atomic<bool> m_reload_requested{false};
    /// Re-reads restart_state.json and applies clears made by `gt daemon clear-backoff`.
    void reload_restart_state();
    /// Work posted from the loop (notify, clear-backoff), taken at the start of a pass.
    struct Posted {
        std::vector<std::tuple<std::string, std::optional<int>, int, long>> exits;
        std::vector<std::string> clears;
    };
    std::mutex m_posted_mutex;
    Posted m_posted;
    void apply_posted();
    void collect_pane_pids(const TickInput& in, HeartbeatSummary& out);
    /// The agent table, with sessions as `snap` shows them (nullptr: unknown).
    std::string agents_json(const TickInput& in, const tmux::Snapshot* snap) const;
};

} // namespace gt::executor
