#include "recovery.hpp"

#include "proc/process.hpp"
#include "proc/process_table.hpp"
#include "state/agent_state.hpp"
#include "state/town.hpp"
#include "util/file.hpp"

#include <algorithm>
#include <cerrno>
#include <climits>
#include <optional>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

namespace gt::executor {

using state::AgentStatus;
using state::Identity;
using state::Role;

namespace {

constexpr const char* k_health_check =
    "HEALTH_CHECK: heartbeat stale, respond to confirm responsiveness";

/// This binary, for the pane-died hook (resolved once: a rebuilt binary replaces the file).
std::string self_exe() {
    char buf[PATH_MAX];
    ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
    return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : "gt";
}

} // namespace

void mark_liveness(tmux::Snapshot& snap, const std::vector<std::string>& process_names) {
    std::optional<proc::ProcessTable> table;
    for (auto& [name, pane] : snap.sessions) {
        pane.process_gone = !pane.dead && proc::process_gone(static_cast<pid_t>(pane.pid));
        if (pane.dead || pane.process_gone) {
            // tmux can be slow to notice a death: a vanished pane process is dead too.
            pane.agent_alive = false;
        } else if (!tmux::is_shell(pane.command)) {
            pane.agent_alive = true;
        } else {
            if (!table) {
                table = proc::ProcessTable::read(); // only when a shell must be looked into
            }
            pane.agent_alive = table->tree_has(static_cast<pid_t>(pane.pid), process_names);
        }
    }
}

std::vector<std::pair<std::string, std::string>> session_env(const std::string& root,
                                                             const Identity& id) {
    std::vector<std::pair<std::string, std::string>> env{{"GT_ROLE", state::role_name(id.role)}};
    if (!id.rig.empty()) {
        env.emplace_back("GT_RIG", id.rig);
    }
    if (id.role == Role::polecat) {
        env.emplace_back("GT_POLECAT", id.name);
    } else if (id.role == Role::crew) {
        env.emplace_back("GT_CREW", id.name);
    }
    env.emplace_back("BD_ACTOR", id.str());
    env.emplace_back("GIT_AUTHOR_NAME", id.str());
    env.emplace_back("GT_TOWN_ROOT", root);
    return env;
}

Recovery::Recovery(std::string town_root, proc::ProcessRunner& runner, EventLog& events,
                   std::string tmux_socket)
    : m_root(std::move(town_root)), m_runner(runner), m_events(events),
      m_env_socket(std::move(tmux_socket)), m_tracker(state::RestartConfig{}),
      m_restart_file(state::TownPaths(m_root)), m_gt_binary(self_exe()) {
    reload_restart_state();
}

void Recovery::reload_restart_state() {
    auto records = m_restart_file.load();
    if (!records) {
        warn_once("restart_state", records.error() + " (starting with an empty restart history)");
        return;
    }
    if (m_tracker.records().empty()) {
        m_tracker.replace(std::move(*records));
        return;
    }
    for (const auto& id : m_tracker.merge_clears(*records)) {
        spdlog::info("{}: backoff cleared", id);
        m_events.record("backoff_cleared", id, "", "gt daemon clear-backoff");
    }
}

void Recovery::warn_once(const std::string& key, const std::string& message) {
    auto& last = m_logged[key];
    if (last != message) {
        spdlog::warn("{}", message);
        last = message;
    }
}

HeartbeatSummary Recovery::run(const state::TownConfig& config,
                               const std::vector<std::string>& rigs, bool rigs_loaded) {
    m_tracker.set_config(config.daemon.restart);
    m_tmux_timeout = config.daemon.tmux_timeout;
    m_tmux_socket = m_env_socket.empty() ? config.tmux_socket : m_env_socket;
    if (m_reload_requested.exchange(false)) {
        reload_restart_state(); // not every pass: saving merges clears from the file anyway
    }
    HeartbeatSummary out;
    apply_posted();
    if (rigs_loaded) {
        process_lifecycle(config, rigs, out);
    } else {
        warn_once("lifecycle_rigs", "rigs.json has not been read yet: lifecycle requests wait");
    }
    TickInput in = gather(config, rigs, out);
    Decision decision = decide(in);

    out.degraded = !in.snapshot;
    for (const auto& id : supervised(in)) {
        ++out.supervised;
        if (in.snapshot && in.snapshot->has(id.session()) &&
            in.snapshot->sessions.at(id.session()).agent_alive) {
            ++out.healthy;
        }
    }
    m_conditions = decision.conditions;
    for (const auto& a : decision.actions) {
        if (m_stop_requested) {
            spdlog::info("stopping: {} remaining actions of this heartbeat abandoned",
                         decision.actions.size() -
                             static_cast<std::size_t>(&a - &decision.actions[0]));
            break;
        }
        execute(a, config, out);
    }
    collect_pane_pids(in, out);
    if (m_was_degraded && !out.degraded) {
        spdlog::info("tmux is usable again: supervision resumes");
    }
    m_was_degraded = out.degraded;
    // A failed start stays a condition until the agent is healthy again.
    std::erase_if(m_start_failed, [&](const std::string& id) {
        auto parsed = state::parse_identity(id);
        return !parsed || (in.snapshot && in.snapshot->has(parsed->session()) &&
                           in.snapshot->sessions.at(parsed->session()).agent_alive);
    });
    return out;
}

TickInput Recovery::gather(const state::TownConfig& config, const std::vector<std::string>& rigs,
                           HeartbeatSummary& out) {
    TickInput in;
    in.config = &config;
    in.rigs = rigs;
    in.tracker = &m_tracker;
    in.active_conditions = m_conditions;
    in.start_failed = m_start_failed;
    in.started = m_started;
    read_agents(in, out);
    take_snapshot(in, config);
    state::TownPaths paths(m_root);
    if (auto hb = state::read_deacon_heartbeat(m_root)) {
        in.deacon_heartbeat = hb->timestamp;
    } else if (hb.error_code() != ENOENT) {
        ++out.counters.bad_files;
        warn_once("deacon_heartbeat", hb.error());
    }
    in.now = util::now();
    return in;
}

void Recovery::read_agents(TickInput& in, HeartbeatSummary& out) {
    std::vector<std::string> skipped;
    for (auto& file : state::list_agent_files(m_root, &skipped)) {
        AgentFacts f;
        f.id = file.id;
        auto report = state::read_agent_state(file.path);
        if (report) {
            f.report = std::move(*report);
            if (f.report->status == AgentStatus::unknown) {
                warn_once(file.path, file.path + ": unknown state '" + f.report->raw_state +
                                         "': falling back to what tmux shows");
            } else {
                m_logged.erase(file.path);
            }
            if (f.report->started_by_daemon_at) {
                auto& started = in.started[f.id.str()];
                started = std::max(started, *f.report->started_by_daemon_at);
            }
        } else {
            ++out.counters.bad_files;
            warn_once(file.path, "untrusted agent state: " + report.error());
        }
        in.agents[f.id.str()] = std::move(f);
    }
    for (const auto& s : skipped) {
        warn_once("skip:" + s, "skipping " + s + ": not an agent identity");
    }
    for (const auto& id : supervised(in)) {
        in.agents.try_emplace(id.str(), AgentFacts{id, std::nullopt, true});
    }
    for (auto& [key, f] : in.agents) {
        f.workdir_exists = util::is_dir(state::workdir_for(m_root, f.id));
    }
}

static void learn_exit_from_zombie(tmux::Pane& pane) {
    // tmux has not reaped the pane's process: the kernel still knows how it ended.
    auto status = proc::zombie_wait_status(static_cast<pid_t>(pane.pid));
    if (!status) {
        return;
    }
    pane.dead = true;
    pane.process_gone = false;
    if (WIFSIGNALED(*status)) {
        pane.dead_signal = WTERMSIG(*status);
        pane.dead_status = -1;
    } else {
        pane.dead_status = WEXITSTATUS(*status);
        pane.dead_signal = 0;
    }
}

void Recovery::take_snapshot(TickInput& in, const state::TownConfig& config) {
    tmux::TmuxClient tmux = client();
    auto snap = tmux.snapshot();
    if (!snap) {
        in.degraded_reason = snap.error();
        return;
    }
    if (!snap->tmux_available) {
        in.degraded_reason = "tmux is not installed (not found on PATH)";
        return;
    }
    mark_liveness(*snap, config.process_names);
    // A pane process that ended while tmux has not reaped it yet (the pane still shows alive, or
    // dead without a status): waiting a moment (at most 5 s) lets tmux report how it ended.
    std::map<long, util::TimePoint> gone;
    auto now = util::now();
    for (auto& [name, pane] : snap->sessions) {
        if ((pane.process_gone || (pane.dead && pane.dead_status < 0 && pane.dead_signal == 0))) {
            learn_exit_from_zombie(pane);
        }
        // tmux may also close a dead pane before it has reaped the process (status unknown).
        bool status_unknown = pane.dead && pane.dead_status < 0 && pane.dead_signal == 0;
        if (pane.process_gone || status_unknown) {
            auto it = m_gone_since.find(pane.pid);
            auto since = it == m_gone_since.end() ? now : it->second;
            gone[pane.pid] = since;
            if (now - since < util::Millis(5000)) {
                in.settling.insert(pane.pid);
            }
        }
    }
    m_gone_since = std::move(gone);
    in.snapshot = std::move(*snap);
}

void Recovery::execute(const Action& a, const state::TownConfig& config, HeartbeatSummary& out) {
    const std::string id = a.id.str();
    switch (a.kind) {
    case ActionKind::start:
    case ActionKind::restart:
        start(a, config, out);
        break;
    case ActionKind::blocked: {
        auto until = m_tracker.blocked_until(id, util::now());
        if (until && a.gate == Gate::backoff && (!out.wake_at || *until < *out.wake_at)) {
            out.wake_at = until;
        }
        std::string when = until ? util::format_time(*until) : "now";
        std::string key = "blocked:" + id;
        if (m_logged[key] != when) {
            m_logged[key] = when;
            spdlog::warn("{}: not restarted ({}): {} until {}", id, a.reason, gate_name(a.gate),
                         when);
            m_events.record(gate_name(a.gate), id, a.id.session(), a.reason + "; until " + when);
        }
        break;
    }
    case ActionKind::leave:
        if (m_logged["leave:" + id] != a.reason) {
            m_logged["leave:" + id] = a.reason;
            spdlog::info("{}: left alone: {}", id, a.reason);
        }
        break;
    case ActionKind::unstartable:
        if (m_logged["unstartable:" + id] != a.reason) {
            m_logged["unstartable:" + id] = a.reason;
            spdlog::error("{}: cannot start: {} ({})", id, a.reason,
                          state::workdir_for(m_root, a.id));
            m_events.record("start_failed", id, a.id.session(), a.reason);
        }
        break;
    case ActionKind::nudge: {
        tmux::TmuxClient tmux = client();
        auto r = tmux.send_line(a.id.session(), k_health_check);
        if (r.ok()) {
            spdlog::info("{}: nudged: {}", id, a.reason);
            m_events.record("nudged", id, a.id.session(), a.reason);
        } else {
            spdlog::warn("{}: nudge failed: {}", id, r.message);
        }
        break;
    }
    case ActionKind::mark_dead:
        mark_dead(a, out);
        break;
    case ActionKind::notify:
        notify(a.id, a.to, a.subject, a.condition, out);
        break;
    case ActionKind::settle: {
        auto soon = util::now() + util::Millis(250);
        if (!out.wake_at || soon < *out.wake_at) {
            out.wake_at = soon;
        }
        spdlog::info("{}: {}", id, a.reason);
        break;
    }
    case ActionKind::degraded:
        spdlog::warn("degraded mode: {}: nothing is started or killed", a.reason);
        if (!m_was_degraded) {
            m_events.record("degraded", "", "", a.reason);
        }
        break;
    }
}

bool Recovery::start(const Action& a, const state::TownConfig& config, HeartbeatSummary& out) {
    const std::string id = a.id.str();
    const std::string session = a.id.session();
    tmux::TmuxClient tmux = client();
    if (a.exit_status && first_exit_report(a.pane_pid)) {
        m_tracker.record_exit(id, *a.exit_status, a.exit_signal);
        std::string how = a.exit_signal > 0 ? "signal " + std::to_string(a.exit_signal)
                                            : "exit " + std::to_string(*a.exit_status);
        spdlog::info("{}: agent ended ({})", id, how);
        m_events.record("exited", id, session, how);
    }
    if (a.kind == ActionKind::restart || a.kill_first) {
        auto killed = tmux.kill_session(session);
        if (!killed.ok()) {
            if (!m_stop_requested) {
                spdlog::error("{}: kill-session {} failed: {}", id, session, killed.message);
            }
            return false;
        }
        ++out.counters.kills;
        m_events.record("killed", id, session, a.reason);
    }
    if (!util::is_dir(state::workdir_for(m_root, a.id))) {
        spdlog::error("{}: cannot start: working directory {} is missing", id,
                      state::workdir_for(m_root, a.id));
        m_events.record("start_failed", id, session, "working directory missing");
        m_start_failed.insert(id);
        return false;
    }
    // "starting" goes in before the session exists, so the agent's first report lands after it.
    auto now = util::now();
    std::optional<state::AgentState> before;
    write_starting(a.id, now, before);
    tmux::SessionSpec spec{session, state::workdir_for(m_root, a.id), session_env(m_root, a.id),
                           config.command_for(state::role_name(a.id.role)), pane_died_hook(id)};
    auto created = tmux.new_session(spec);
    if (created.error == tmux::ErrorKind::duplicate_session &&
        (a.kind == ActionKind::restart || a.kill_first)) {
        // Someone created it between our kill and our start (a slow tmux call of a daemon
        // that died): we were asked for a fresh one, so replace it once more.
        tmux.kill_session(session);
        created = tmux.new_session(spec);
    }
    if (!created.ok() && m_stop_requested) {
        // Our own shutdown killed the call: not a failed start, nothing to report. The next
        // daemon finds the agent as it is and acts on that.
        restore_report(a.id, now, before);
        return false;
    }
    if (!created.ok()) {
        restore_report(a.id, now, before);
        spdlog::error("{}: starting session {} failed: {}", id, session, created.message);
        m_events.record("start_failed", id, session, created.message);
        m_start_failed.insert(id);
        if (a.id.role == Role::polecat) {
            std::string condition = "CRASHED_POLECAT:" + id;
            m_conditions.insert(condition);
            notify(a.id, policy::notify_address(a.id),
                   "CRASHED_POLECAT: " + a.id.rig + "/" + a.id.name + " restart failed", condition,
                   out);
        }
        return false;
    }
    m_started[id] = now;
    m_start_failed.erase(id);
    ++out.counters.restarts;
    if (a.requested) {
        // Asked for, not a crash: no backoff, not counted towards the crash loop (§6).
        spdlog::info("{}: restarted session {} ({})", id, session, a.reason);
        m_events.record("restarted", id, session, a.reason);
        return true;
    }
    auto recorded = m_tracker.record_start(id, now);
    const char* kind = a.kind == ActionKind::restart || a.kill_first ? "restarted" : "started";
    if (recorded.restart) {
        spdlog::info("{}: {} session {} ({}); next restart allowed after {}", id, kind, session,
                     a.reason, util::format_duration(recorded.backoff));
    } else {
        spdlog::info("{}: {} session {} ({}); its first start, not counted as a restart", id, kind,
                     session, a.reason);
    }
    m_events.record(kind, id, session, a.reason);
    if (recorded.entered_crash_loop) {
        spdlog::error("{}: crash loop: {} restarts within {}; no more restarts until {}", id,
                      config.daemon.restart.crash_loop_count,
                      util::format_duration(config.daemon.restart.crash_loop_window),
                      util::format_time(now + config.daemon.restart.crash_loop_expiry));
        m_events.record("crash_loop", id, session, a.reason);
        notify(a.id, policy::notify_address(a.id),
               "CRASH_LOOP: " + id + " keeps dying; restarts paused", "CRASH_LOOP:" + id, out);
    }
    save_restart_state();
    return true;
}

void Recovery::write_starting(const Identity& id, util::TimePoint now,
                              std::optional<state::AgentState>& before) {
    auto written = state::update_agent_state(
        m_root, id,
        [&](const std::optional<state::AgentState>& current) {
            before = current;
            state::AgentState s = current.value_or(state::AgentState{});
            s.identity = id.str();
            if (s.status != AgentStatus::starting) {
                s.previous_state = s.raw_state;
            }
            s.status = AgentStatus::starting;
            s.raw_state = "starting";
            s.updated_at = now;
            s.started_by_daemon_at = now;
            return std::optional<state::AgentState>(std::move(s));
        },
        k_lock_wait);
    if (!written) {
        spdlog::warn("{}: could not record the start: {}", id.str(), written.error());
    }
}

void Recovery::restore_report(const Identity& id, util::TimePoint now,
                              const std::optional<state::AgentState>& before) {
    if (!before) {
        return;
    }
    auto written = state::update_agent_state(
        m_root, id,
        [&](const std::optional<state::AgentState>& current) {
            // Only our own "starting" is undone; a report that landed since is kept.
            if (!current || current->status != AgentStatus::starting ||
                current->started_by_daemon_at != now) {
                return std::optional<state::AgentState>();
            }
            return before;
        },
        k_lock_wait);
    if (!written) {
        spdlog::warn("{}: could not restore the agent state: {}", id.str(), written.error());
    }
}

void Recovery::mark_dead(const Action& a, HeartbeatSummary& out) {
    const std::string id = a.id.str();
    bool marked = false;
    auto written = state::update_agent_state(
        m_root, a.id,
        [&](const std::optional<state::AgentState>& current) {
            // A report that landed since the decision wins: nothing is overwritten.
            if (!current || current->updated_at != a.seen_updated_at ||
                (current->status != AgentStatus::running &&
                 current->status != AgentStatus::working)) {
                return std::optional<state::AgentState>();
            }
            state::AgentState s = *current;
            s.previous_state = s.raw_state;
            s.status = AgentStatus::dead;
            s.raw_state = "dead";
            s.marked_dead_at = util::now();
            marked = true;
            return std::optional<state::AgentState>(std::move(s));
        },
        k_lock_wait);
    if (!written) {
        spdlog::warn("{}: could not mark dead: {}", id, written.error());
        return;
    }
    if (!marked) {
        spdlog::info("{}: reported since the heartbeat read it; not marked dead", id);
        return;
    }
    ++out.counters.marked_dead;
    spdlog::warn("{}: marked dead: {}", id, a.reason);
    m_events.record("marked_dead", id, a.id.session(), a.reason);
}

void Recovery::notify(const Identity& id, const std::string& to, const std::string& subject,
                      const std::string& condition, HeartbeatSummary& out) {
    auto address = state::parse_identity(to);
    if (!address) {
        spdlog::error("cannot notify '{}': {}", to, address.error());
        return;
    }
    state::Mail mail;
    mail.to = address->str();
    mail.subject = subject;
    mail.kind = condition.substr(0, condition.find(':'));
    mail.body = subject + "\n\nSent by the gt daemon of " + m_root + ".";
    auto sent = state::send_mail(m_root, std::move(mail));
    if (!sent) {
        spdlog::error("{}: notification to {} failed: {}", id.str(), to, sent.error());
        m_conditions.erase(condition); // try again next heartbeat
        return;
    }
    m_conditions.insert(condition);
    ++out.counters.notifications;
    spdlog::info("notified {}: {}", to, subject);
    m_events.record("notified", id.str(), id.session(), to + ": " + subject);
}

void Recovery::save_restart_state() {
    const std::string path = state::TownPaths(m_root).restart_state_file();
    std::vector<std::string> cleared;
    auto saved = m_restart_file.update(
        [&](const state::RestartRecords& on_disk) {
            cleared = m_tracker.merge_clears(on_disk);
            return m_tracker.records();
        },
        util::Millis(500));
    if (!saved) {
        // Every start saves: a disk that stays full or a path that stays wrong would otherwise
        // log this on every pass. Each message names a fresh temporary file, so what is
        // compared is the reason at its end. The history is still kept in memory.
        const std::string& message = saved.error();
        auto colon = message.rfind(": ");
        std::string reason = colon == std::string::npos ? message : message.substr(colon + 2);
        auto& last = m_logged["restart_state_save"];
        if (last != reason) {
            spdlog::error("cannot save {}: {} (the restart history is kept in memory only)", path,
                          message);
            last = reason;
        }
        return;
    }
    if (m_logged.erase("restart_state_save") > 0) {
        spdlog::info("{} saved again", path);
    }
    for (const auto& id : cleared) {
        spdlog::info("{}: backoff cleared", id);
        m_events.record("backoff_cleared", id, "", "gt daemon clear-backoff");
    }
}

} // namespace gt::executor
