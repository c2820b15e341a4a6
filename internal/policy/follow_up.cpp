#include "follow_up.hpp"

namespace gt::policy {

using state::Role;

namespace {

void after_start(const Action& a, const Outcome& o, RestartTracker& tracker,
                 const std::set<std::string>& active, util::TimePoint now, FollowUp& f) {
    const std::string id = a.id.str();
    if (!o.done) {
        f.start_failed =
            o.failure == Outcome::Failure::workdir || o.failure == Outcome::Failure::create;
        // Once per condition (design §5.3): a polecat that keeps failing to start is reported
        // once, until it ran again.
        if (o.failure == Outcome::Failure::create && a.id.role == Role::polecat &&
            !active.count("CRASHED_POLECAT:" + id)) {
            f.actions.push_back(
                notification(a.id, "CRASHED_POLECAT", crashed_polecat_subject(a.id)));
        }
        return;
    }
    if (a.request || a.not_a_crash) {
        // Asked for, or after a usage limit reset: not a crash, so no backoff and not counted
        // towards the crash loop.
        return;
    }
    f.recorded = tracker.record_start(id, now);
    f.counted = true;
    if (f.recorded.entered_crash_loop) {
        f.actions.push_back(notification(a.id, "CRASH_LOOP",
                                         "CRASH_LOOP: " + id + " keeps dying; restarts paused"));
    }
}

} // namespace

FollowUp follow_up(const Action& a, const Outcome& o, RestartTracker& tracker,
                   const std::set<std::string>& active_conditions, util::TimePoint now) {
    FollowUp f;
    if (o.cut_short) {
        return f; // the next daemon finds things as they are and acts on that
    }
    if (a.kind == ActionKind::start || a.kind == ActionKind::restart) {
        after_start(a, o, tracker, active_conditions, now, f);
    }
    if (!a.request || a.kind == ActionKind::collapse || a.kind == ActionKind::refuse) {
        return f;
    }
    if (o.done) {
        f.lifecycle_done = true;
        f.request = FollowUp::Request::finish;
    } else if (o.earlier_attempts + 1 < k_request_attempts) {
        // A transient failure (tmux timed out, a lock was held): stays claimed, tried again soon.
        f.request = FollowUp::Request::retry;
        f.wake_at = now + k_request_retry;
    } else {
        f.request = FollowUp::Request::give_up;
    }
    return f;
}

} // namespace gt::policy
