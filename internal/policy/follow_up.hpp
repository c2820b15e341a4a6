#pragma once

#include "decide.hpp"
#include "restart_tracker.hpp"
#include "util/time.hpp"

#include <optional>
#include <set>
#include <string>
#include <vector>

namespace gt::policy {

/// How carrying out one action went, as the executor reports it.
struct Outcome {
    /// Why a start or restart did not happen.
    enum class Failure {
        none,
        kill,    ///< the old session could not be killed
        workdir, ///< the working directory is missing
        create,  ///< tmux could not create the session
        other,   ///< anything else (a shutdown that could not be recorded or killed)
    };
    bool done = false;
    /// Abandoned by the daemon's own shutdown: neither done nor failed, nothing follows.
    bool cut_short = false;
    Failure failure = Failure::none;
    /// A lifecycle request's action that failed: how often it had failed before.
    int earlier_attempts = 0;
};

/// What follows from an outcome: more actions to carry out at once, and what to remember.
struct FollowUp {
    /// Notifications to send now (CRASHED_POLECAT, CRASH_LOOP).
    std::vector<Action> actions;
    /// The restart tracker recorded a start: `recorded` says what (save restart_state.json).
    bool counted = false;
    RestartTracker::Recorded recorded;
    /// The start failed: remember it until the agent is healthy (design §5.3 step 10).
    bool start_failed = false;
    /// What becomes of the lifecycle request behind the action.
    enum class Request { none, finish, retry, give_up } request = Request::none;
    bool lifecycle_done = false; ///< a request carried out
    std::optional<util::TimePoint> wake_at;
};

/// Decides what follows from carrying out `a` (design §5.4, design §6): a crash restart is recorded
/// in `tracker` (a requested one is not: no backoff, no crash loop), a crash loop is announced
/// once, a polecat that could not be started is reported to its witness once per condition
/// (`active_conditions`: the conditions already reported), a failed request is
/// tried again soon, at most k_request_attempts times in all.
FollowUp follow_up(const Action& a, const Outcome& outcome, RestartTracker& tracker,
                   const std::set<std::string>& active_conditions, util::TimePoint now);

} // namespace gt::policy
