#pragma once

#include "state/config.hpp"
#include "util/result.hpp"
#include "util/time.hpp"

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace gt::daemon {

/// The restart history of one identity (§5.4), as kept in daemon/restart_state.json.
struct RestartRecord {
    /// The daemon's last (re)start of it, its first start included (which is not a restart).
    std::optional<util::TimePoint> last_restart;
    int restart_count = 0; ///< restarts since the backoff last reset
    std::optional<util::TimePoint> backoff_until;
    std::optional<util::TimePoint> crash_loop_since;
    std::vector<util::TimePoint> recent; ///< restarts inside the crash-loop window
    std::optional<int> last_exit_status;
    std::optional<int> last_signal;
    std::optional<util::TimePoint> cleared_at; ///< last `gt daemon clear-backoff`
};

/// Whether a restart may happen now.
enum class Gate { allowed, backoff, crash_loop };
const char* gate_name(Gate g);

/// Per-identity backoff and crash-loop bookkeeping (§5.4). Pure: every call takes `now`;
/// the jitter source is injected so tests are exact.
class RestartTracker {
public:
    /// Returns a factor in [0.8, 1.2] (±20 % jitter).
    using Jitter = std::function<double()>;

    explicit RestartTracker(state::RestartConfig config, Jitter jitter = {});

    void set_config(const state::RestartConfig& config) { m_config = config; }

    /// May `id` be restarted at `now`? An expired crash loop no longer blocks.
    Gate check(const std::string& id, util::TimePoint now) const;
    /// The gate as people see it (`status`, `agent list`): a backoff only holds back an agent
    /// that needs a restart, so one that is `alive` shows `allowed`; a crash loop shows either way.
    Gate shown_gate(const std::string& id, util::TimePoint now, bool alive) const;
    /// When the gate opens (backoff_until or the crash loop's expiry); nullopt when allowed.
    std::optional<util::TimePoint> blocked_until(const std::string& id, util::TimePoint now) const;

    /// What recording a restart changed.
    struct Recorded {
        util::Millis backoff{0}; ///< delay before the next restart is allowed
        bool entered_crash_loop = false;
        bool restart = true; ///< false: a first start, neither counted nor backed off
    };
    /// Records a daemon-initiated (re)start at `now`: resets after a stable period, doubles the
    /// backoff, and enters the crash loop at `crash_loop_count` restarts inside the window.
    Recorded record_restart(const std::string& id, util::TimePoint now);
    /// Records a daemon-initiated start at `now` that was not asked for. The first start of an
    /// identity the daemon never started (no `last_restart`) is not a restart: it is noted, so
    /// that the next one counts, but neither counted nor backed off. Any later start is a restart
    /// (record_restart()).
    Recorded record_start(const std::string& id, util::TimePoint now);
    /// Records how the agent's pane ended (`signal` 0 when it exited).
    void record_exit(const std::string& id, int exit_status, int signal);
    /// `gt daemon clear-backoff`: forgets the backoff and crash loop (keeps the exit status).
    void clear(const std::string& id, util::TimePoint now);

    const RestartRecord* find(const std::string& id) const;
    const std::map<std::string, RestartRecord>& records() const { return m_records; }

    /// Applies clears recorded in `on_disk` that are newer than ours (another process ran
    /// clear-backoff). Returns the identities cleared.
    std::vector<std::string> merge_clears(const std::map<std::string, RestartRecord>& on_disk);

    void replace(std::map<std::string, RestartRecord> records) { m_records = std::move(records); }

private:
    state::RestartConfig m_config;
    Jitter m_jitter;
    std::map<std::string, RestartRecord> m_records;
};

/// JSON text of restart_state.json: an object keyed by identity.
std::string restart_state_json(const std::map<std::string, RestartRecord>& records);
/// Parses restart_state.json; entries of the wrong shape are skipped and named in `skipped`.
util::Result<std::map<std::string, RestartRecord>>
parse_restart_state(const std::string& text, const std::string& where,
                    std::vector<std::string>* skipped = nullptr);

/// daemon/restart_state.json guarded by daemon/restart_state.lock (flock), so the daemon and
/// `gt daemon clear-backoff` never lose each other's writes.
class RestartStateFile {
public:
    explicit RestartStateFile(std::string daemon_dir);
    /// Reads the file (missing → empty). A bad file is an error naming it and the reason.
    util::Result<std::map<std::string, RestartRecord>> load() const;
    /// Under the lock: merges clears from the file into `tracker`, then writes the tracker.
    /// Returns identities whose clear was merged.
    util::Result<std::vector<std::string>> save(RestartTracker& tracker) const;
    /// Under the lock: marks `id` cleared in the file (what `gt daemon clear-backoff` does).
    util::Status clear(const std::string& id, util::TimePoint now) const;

private:
    std::string m_path;
    std::string m_lock_path;
};

} // namespace gt::daemon
