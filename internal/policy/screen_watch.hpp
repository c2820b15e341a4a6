#pragma once

#include "screen/screen.hpp"
#include "state/config.hpp"
#include "util/time.hpp"

#include <map>
#include <optional>
#include <set>
#include <string>
#include <tuple>

namespace gt::policy {

/// What the daemon knows of one agent's condition (design §16): the condition, since when, the
/// line that shows it, and what was done about it.
struct ScreenState {
    screen::Condition condition = screen::Condition::unknown;
    std::string evidence;
    std::optional<util::TimePoint> resets_at;             ///< usage_limited (or an exit on one)
    screen::Condition cause = screen::Condition::unknown; ///< exited: what it died of
    util::TimePoint since{};                              ///< when the condition began
    util::TimePoint activity{};  ///< the pane's last output when it was last looked at
    util::TimePoint looked_at{}; ///< the last capture of its screen
    long pane_pid = 0;           ///< the pane this is about (a new pane starts afresh)
    /// usage_limited: when the resume text was typed (once per limit), until a screen read
    /// after it no longer shows the limit.
    std::optional<util::TimePoint> resume_sent_at;
    /// The usage-limit line the resume text was sent for: that banner is history now, until a
    /// screen shows that it has left (design §16.4).
    std::string resumed_evidence;
    /// The typed resume text has been seen echoed below that banner: once the echo has left the
    /// screen, so has the banner above it.
    bool resume_echo_seen = false;

    /// `usage_limited`, or `exited` on a usage limit.
    bool usage_limited() const;
    /// What is kept across restarts of the daemon (design §16.6): all but the pane's last
    /// output and the time of the last capture, which a new daemon learns again at once.
    auto remembered() const {
        return std::tie(pane_pid, condition, cause, since, evidence, resets_at, resume_sent_at,
                        resumed_evidence, resume_echo_seen);
    }
};

/// A pane as the snapshot shows it, for the screen watch.
struct PaneSeen {
    long pid = 0;
    bool dead = false;
    util::TimePoint activity{};
};

/// The conditions of all agents, kept between passes, and the rule that keeps tmux calls O(1):
/// a pane with recent output is `working` without a look; a pane that went quiet, died, or
/// changed since it was last read gets one capture (design §16). Pure: time passed in.
class ScreenWatch {
public:
    /// Whether this pass must capture `id`'s screen.
    bool needs_capture(const std::string& id, const PaneSeen& pane, util::TimePoint now,
                       const state::ScreenConfig& cfg) const;

    /// What one observation changed.
    struct Change {
        bool condition_changed = false;
        /// The agent left a usage limit after the resume text was sent: it was delivered.
        bool resumed = false;
    };
    /// Records this pass's look at `id`'s pane: `screen` is its capture when needs_capture()
    /// asked for one (nullopt when none was taken or the capture failed).
    Change observe(const std::string& id, const PaneSeen& pane,
                   const std::optional<std::string>& screen, const screen::Matcher& matcher,
                   screen::AgentKind kind, const screen::ReadContext& ctx,
                   const state::ScreenConfig& cfg);

    /// The resume text was typed into `id` at `now`.
    void resume_sent(const std::string& id, util::TimePoint now);
    /// The wall clock was set by `by` (design §17): the times the watch took move with it
    /// (not a pane's activity, which is tmux's, nor a reset time, which the screen states).
    void shift(util::Millis by);
    /// Forgets every agent not in `keep` (its session is gone).
    void keep_only(const std::set<std::string>& keep);

    const ScreenState* find(const std::string& id) const;
    /// Every agent's state (what the daemon keeps across its restarts).
    const std::map<std::string, ScreenState>& states() const { return m_states; }
    /// Takes `state` as what is known of `id` (read back after a restart of the daemon).
    void restore(const std::string& id, ScreenState state);
    /// Whether what is remembered of any agent changed since mark_saved().
    bool changed() const { return m_changed; }
    void mark_saved() { m_changed = false; }

private:
    std::map<std::string, ScreenState> m_states;
    bool m_changed = false;
};

} // namespace gt::policy
