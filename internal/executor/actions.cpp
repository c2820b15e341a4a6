// Carrying out the policy's actions: each one done as asked, its outcome handed back to the
// policy (policy::follow_up), and what follows carried out in turn. No decision is taken here.
#include "recovery.hpp"

#include "state/agent_state.hpp"
#include "state/town.hpp"
#include "util/file.hpp"

#include <algorithm>
#include <spdlog/spdlog.h>
#include <unistd.h>

namespace gt::executor {

using policy::FollowUp;
using state::AgentStatus;
using state::Identity;
using Failure = Outcome::Failure;

void Recovery::carry_out(const Action& a, const state::TownConfig& config, HeartbeatSummary& out) {
    Outcome outcome = execute(a, config, out);
    if (a.request) {
        auto it = m_request_attempts.find(a.request->file);
        outcome.earlier_attempts = it == m_request_attempts.end() ? 0 : it->second;
    }
    FollowUp f = policy::follow_up(a, outcome, m_tracker, m_conditions, wall());
    if (outcome.done && (a.kind == ActionKind::start || a.kind == ActionKind::restart)) {
        log_start(a, f, config);
        out.counters.crash_loops += f.recorded.entered_crash_loop ? 1 : 0;
    }
    apply(a, f, out);
}

Outcome Recovery::execute(const Action& a, const state::TownConfig& config, HeartbeatSummary& out) {
    const std::string id = a.id.str();
    switch (a.kind) {
    case ActionKind::start:
    case ActionKind::restart:
        return start(a, config, out);
    case ActionKind::shutdown:
        return shutdown(a, out);
    case ActionKind::collapse:
        m_events.record("collapsed", id, a.id.session(),
                        std::string(state::lifecycle_action_name(a.request->action)) + " request " +
                            a.request->id + ": superseded by the later " + a.superseded_by);
        m_request_attempts.erase(a.request->file);
        state::LifecycleInbox::finish(*a.request);
        return {true};
    case ActionKind::refuse:
        spdlog::warn("{}: {}", id, a.reason);
        m_events.record("lifecycle_refused", id, a.id.session(), a.reason);
        m_request_attempts.erase(a.request->file);
        state::LifecycleInbox::finish(*a.request);
        return {true};
    case ActionKind::blocked:
        log_blocked(a);
        break;
    case ActionKind::leave:
        if (changed("leave:" + id, a.reason)) {
            spdlog::info("{}: left alone: {}", id, a.reason);
        }
        break;
    case ActionKind::unstartable:
        if (changed("unstartable:" + id, a.reason)) {
            spdlog::error("{}: cannot start: {} ({})", id, a.reason,
                          state::workdir_for(m_root, a.id));
            m_events.record("start_failed", id, a.id.session(), a.reason);
        }
        break;
    case ActionKind::nudge:
        break; // typed before the other actions, with the resume text (type_keys())
    case ActionKind::mark_dead:
        mark_dead(a, out);
        break;
    case ActionKind::notify:
        notify(a, out);
        break;
    case ActionKind::settle:
        spdlog::info("{}: {}", id, a.reason);
        break;
    case ActionKind::hold:
        if (changed("hold:" + id, a.reason)) {
            std::string until = util::format_time(*a.until);
            spdlog::info("{}: not restarted until {}: {}", id, until, a.reason);
            m_events.record("held", id, a.id.session(), a.reason + "; until " + until);
        }
        break;
    case ActionKind::warn:
        if (a.town) {
            spdlog::warn("{}", a.reason);
            m_events.record(a.event, "", "", a.reason);
        } else {
            spdlog::warn("{}: {}", id, a.reason);
            m_events.record(a.event, id, a.id.session(), a.reason);
        }
        break;
    case ActionKind::resume:
        break; // typed into all such agents at once, before the other actions (type_keys())
    case ActionKind::degraded:
        spdlog::warn("degraded mode: {}: nothing is started or killed", a.reason);
        if (!m_was_degraded) {
            m_events.record("degraded", "", "", a.reason);
        }
        break;
    }
    return {true};
}

void Recovery::log_blocked(const Action& a) {
    const std::string id = a.id.str();
    std::string when = a.until ? util::format_time(*a.until) : "now";
    record_exit(a); // how it ended is known now, whatever holds its start back (once per pane)
    if (a.gate == policy::Gate::budget) {
        // Spreading a storm's starts is routine: logged, not an event per agent and pass.
        if (changed("budget:" + id, when)) {
            spdlog::info("{}: {} ({})", id, a.reason, when);
        }
        return;
    }
    if (changed("blocked:" + id, when)) {
        spdlog::warn("{}: not restarted ({}): {} until {}", id, a.reason, policy::gate_name(a.gate),
                     when);
        m_events.record(policy::gate_name(a.gate), id, a.id.session(),
                        a.reason + "; until " + when);
    }
}

Outcome Recovery::start(const Action& a, const state::TownConfig& config, HeartbeatSummary& out) {
    const std::string id = a.id.str();
    const std::string session = a.id.session();
    const std::string workdir = state::workdir_for(m_root, a.id);
    tmux::TmuxClient tmux = client();
    record_exit(a);
    if (a.kind == ActionKind::restart || a.kill_first) {
        auto killed = kill_session(session);
        if (!killed.ok()) {
            if (!m_stop_requested) {
                spdlog::error("{}: kill-session {} failed: {}", id, session, killed.message);
            }
            return {false, m_stop_requested, Failure::kill};
        }
        ++out.counters.kills;
        m_events.record("killed", id, session, a.reason);
    }
    if (!util::is_dir(workdir)) {
        spdlog::error("{}: cannot start: working directory {} is missing", id, workdir);
        m_events.record("start_failed", id, session, "working directory missing");
        return {false, false, Failure::workdir};
    }
    // "starting" goes in before the session exists, so the agent's first report lands after it.
    auto now = wall();
    std::optional<state::AgentState> before;
    write_starting(a.id, now, before);
    tmux::SessionSpec spec{session,
                           workdir,
                           session_env(m_root, a.id),
                           config.command_for(state::role_name(a.id.role)),
                           pane_died_hook(id),
                           m_mark};
    auto created = tmux.new_session(spec, launcher(config));
    if (!created.launcher_error.empty() && changed("tmux_scope", created.launcher_error)) {
        std::string why = "could not give the tmux server a systemd scope of its own (" +
                          created.launcher_error +
                          "); it runs in the daemon's cgroup, and stopping the daemon's unit "
                          "would stop the agents";
        spdlog::warn("{}", why);
        m_events.record("tmux_unscoped", "", "", why);
    }
    if (created.error == tmux::ErrorKind::duplicate_session &&
        (a.kind == ActionKind::restart || a.kill_first)) {
        // Someone created it between our kill and our start (a slow tmux call of a daemon
        // that died): we were asked for a fresh one, so replace it once more, if it is ours.
        auto owner = tmux.mark_of(session);
        if (owner && *owner == spec.mark) {
            kill_session(session);
            created = tmux.new_session(spec, launcher(config));
        } else {
            created.message += owner ? " (another town's: left alone)" : " (" + owner.error() + ")";
        }
    }
    if (!created.ok()) {
        restore_report(a.id, now, before);
        if (m_stop_requested) {
            // Our own shutdown killed the call: not a failed start, nothing to report.
            return {false, true, Failure::create};
        }
        spdlog::error("{}: starting session {} failed: {}", id, session, created.message);
        m_events.record("start_failed", id, session, created.message);
        return {false, false, Failure::create};
    }
    m_server_up = true;
    m_started[id] = now;
    if (!a.request) {
        m_storms.starts.push_back(now); // a requested restart does not draw on the budget
        save_storms();                  // at once: a daemon killed now must not start again
    }
    ++out.counters.restarts;
    return {true};
}

tmux::Reply Recovery::kill_session(const std::string& session) {
    auto killed = client().kill_session(session);
    if (killed.ok()) {
        m_server_up = false; // tmux exits with its last session: the next start may start it
    }
    return killed;
}

std::vector<std::string> Recovery::launcher(const state::TownConfig& config) {
    using state::TmuxScope;
    bool scope = config.tmux_scope == TmuxScope::systemd ||
                 (config.tmux_scope == TmuxScope::automatic && m_under_systemd);
    if (!scope || m_server_up) {
        return {};
    }
    // Unique even for two daemons (two towns on one server) in the same second.
    return tmux::systemd_scope(m_tmux_socket, m_root, wall(),
                               std::to_string(::getpid()) + "-" + std::to_string(++m_scopes));
}

Outcome Recovery::shutdown(const Action& a, HeartbeatSummary& out) {
    const std::string id = a.id.str();
    auto written = state::update_agent_state(
        m_root, a.id,
        [&](const std::optional<state::AgentState>& current) {
            state::AgentState s = current.value_or(state::AgentState{});
            if (s.status != AgentStatus::stopped) {
                s.previous_state = s.raw_state;
            }
            s.status = AgentStatus::stopped;
            s.raw_state = "stopped";
            s.updated_at = wall();
            s.note = "shut down on request " + a.request->id;
            return std::optional<state::AgentState>(std::move(s));
        },
        k_lock_wait);
    if (!written) {
        spdlog::error("{}: cannot record the shutdown: {}", id, written.error());
        return {false, false, Failure::other};
    }
    auto killed = kill_session(a.id.session());
    if (!killed.ok()) {
        spdlog::error("{}: kill-session failed: {}", id, killed.message);
        return {false, m_stop_requested, Failure::other};
    }
    ++out.counters.kills;
    m_events.record("killed", id, a.id.session(), a.reason);
    return {true};
}

void Recovery::apply(const Action& a, const FollowUp& f, HeartbeatSummary& out) {
    if (f.start_failed) {
        m_start_failed.insert(a.id.str());
    }
    for (const auto& follow : f.actions) {
        notify(follow, out);
    }
    if (f.counted) {
        save_restart_state();
    }
    finish_request(a, f, out);
    if (f.wake_at && (!out.wake_at || *f.wake_at < *out.wake_at)) {
        out.wake_at = f.wake_at;
    }
}

void Recovery::log_start(const Action& a, const FollowUp& f, const state::TownConfig& config) {
    const std::string id = a.id.str();
    const std::string session = a.id.session();
    if (a.request) {
        spdlog::info("{}: restarted session {} ({})", id, session, a.reason);
        m_events.record("restarted", id, session, a.reason);
        return;
    }
    const char* kind = a.kind == ActionKind::restart || a.kill_first ? "restarted" : "started";
    if (a.not_a_crash) {
        spdlog::info("{}: {} session {} ({}); not a crash, not counted as a restart", id, kind,
                     session, a.reason);
    } else if (f.recorded.restart) {
        spdlog::info("{}: {} session {} ({}); next restart allowed after {}", id, kind, session,
                     a.reason, util::format_duration(f.recorded.backoff));
    } else {
        spdlog::info("{}: {} session {} ({}); its first start, not counted as a restart", id, kind,
                     session, a.reason);
    }
    m_events.record(kind, id, session, a.reason);
    if (f.recorded.entered_crash_loop) {
        const auto& restart = config.daemon.restart;
        spdlog::error("{}: crash loop: {} restarts within {}; no more restarts until {}", id,
                      restart.crash_loop_count, util::format_duration(restart.crash_loop_window),
                      util::format_time(wall() + restart.crash_loop_expiry));
        m_events.record("crash_loop", id, session, a.reason);
    }
}

void Recovery::finish_request(const Action& a, const FollowUp& f, HeartbeatSummary& out) {
    if (!a.request) {
        return;
    }
    const state::LifecycleRequest& r = *a.request;
    switch (f.request) {
    case FollowUp::Request::none:
        return;
    case FollowUp::Request::retry:
        ++m_request_attempts[r.file];
        return;
    case FollowUp::Request::give_up:
        m_events.record("lifecycle_failed", r.from.str(), r.from.session(),
                        std::string(state::lifecycle_action_name(r.action)) + " request " + r.id +
                            ": failed " + std::to_string(policy::k_request_attempts) + " times");
        break;
    case FollowUp::Request::finish:
        break;
    }
    if (f.lifecycle_done) {
        ++out.counters.lifecycle_done;
        spdlog::info("{}: lifecycle {} done", r.from.str(), a.reason);
        m_events.record("lifecycle", r.from.str(), r.from.session(), a.reason);
    }
    m_request_attempts.erase(r.file);
    state::LifecycleInbox::finish(r);
}

void Recovery::record_exit(const Action& a) {
    if (!a.exit_status) {
        return;
    }
    if (!first_exit_report(a.pane_pid)) {
        return; // the pane-died hook told of it first (the reason: when the screen was read)
    }
    m_tracker.record_exit(a.id.str(), *a.exit_status, a.exit_signal);
    std::string how = a.exit_signal > 0 ? "signal " + std::to_string(a.exit_signal)
                                        : "exit " + std::to_string(*a.exit_status);
    if (!a.exit_reason.empty()) {
        how += ": " + a.exit_reason;
    }
    spdlog::info("{}: agent ended ({})", a.id.str(), how);
    m_events.record("exited", a.id.str(), a.id.session(), how);
}

} // namespace gt::executor
