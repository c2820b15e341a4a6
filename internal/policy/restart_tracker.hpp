#pragma once

#include "state/config.hpp"
#include "state/restart_state.hpp"
#include "util/result.hpp"
#include "util/time.hpp"

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace gt::policy {

using state::RestartRecord;

/// Whether a restart may happen now (`budget`: the town's start budget is spent, design §17).
enum class Gate { allowed, backoff, crash_loop, budget };
const char* gate_name(Gate g);

/// Per-identity backoff and crash-loop bookkeeping (design §5.4). Pure: every call takes `now`;
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
    /// Records how the agent's pane ended (`signal` 0 when it exited). What it died of is
    /// recorded apart (record_exit_reason()), by whichever read its screen.
    void record_exit(const std::string& id, int exit_status, int signal);
    /// Records what the agent's last screen said it died of (the exit itself may be recorded
    /// before or after, by whichever saw it first).
    void record_exit_reason(const std::string& id, const std::string& reason) {
        m_records[id].last_exit_reason = reason;
    }
    /// `gt daemon clear-backoff`: forgets the backoff and crash loop (keeps the exit status).
    void clear(const std::string& id, util::TimePoint now);

    const RestartRecord* find(const std::string& id) const;
    const std::map<std::string, RestartRecord>& records() const { return m_records; }

    /// Applies clears recorded in `on_disk` that are newer than ours (another process ran
    /// clear-backoff). Returns the identities cleared.
    std::vector<std::string> merge_clears(const std::map<std::string, RestartRecord>& on_disk);

    void replace(std::map<std::string, RestartRecord> records) { m_records = std::move(records); }

    /// The wall clock was set by `by` (design §17): every time this tracker keeps moves with
    /// it, so that backoffs, windows and stable periods keep their length. A clear's stamp
    /// stays, as it names the clear.
    void shift(util::Millis by);
    /// Times that lie ahead of `now` by more than they could (the clock was set back while no
    /// daemon ran): a past event at most now, a backoff or crash loop at most its full length.
    /// Returns the identities corrected.
    std::vector<std::string> clamp_future(util::TimePoint now);

private:
    state::RestartConfig m_config;
    Jitter m_jitter;
    std::map<std::string, RestartRecord> m_records;
};

} // namespace gt::policy
