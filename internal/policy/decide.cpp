#include "decide.hpp"

#include "clock_watch.hpp"
#include "requests.hpp"

#include <algorithm>
#include <map>
#include <set>
#include <string_view>
#include <tuple>

namespace gt::policy {

using screen::Condition;
using state::AgentStatus;
using state::Identity;
using state::Role;

std::string notify_address(const Identity& id) {
    if (id.rig.empty() || id.role == Role::witness) {
        return "mayor";
    }
    return id.witness();
}

Action notification(const Identity& id, const std::string& kind, const std::string& subject) {
    Action a{ActionKind::notify, id, kind};
    a.to = notify_address(id);
    a.subject = subject;
    a.condition = kind + ":" + id.str();
    return a;
}

util::TimePoint last_output(util::TimePoint activity, std::optional<util::TimePoint> typed_at,
                            std::optional<util::TimePoint> before) {
    bool echo = typed_at && activity >= *typed_at - util::Millis(1000) &&
                activity <= *typed_at + k_echo_window;
    return echo && before ? std::min(*before, activity) : activity;
}

std::string crashed_polecat_subject(const Identity& id) {
    return "CRASHED_POLECAT: " + id.rig + "/" + id.name + " restart failed";
}

namespace {

bool trusted_alive_state(AgentStatus s) {
    return s == AgentStatus::running || s == AgentStatus::working || s == AgentStatus::starting;
}

bool busy(AgentStatus s) {
    return s == AgentStatus::running || s == AgentStatus::working;
}

/// One heartbeat's decision in the making: the input, the output, and small queries.
class Decider {
public:
    explicit Decider(const TickInput& in) : m_in(in), m_cfg(in.config->daemon) {}

    Decision run() {
        const auto all = supervised(m_in);
        auto ids = all;
        plan_requests();
        if (!m_in.snapshot) {
            add({ActionKind::degraded, Identity{}, m_in.degraded_reason});
            // tmux may be back in a moment (a server restarting, a hung call): look again soon
            // rather than at the next heartbeat, and less often the longer it stays unusable.
            const int doublings = std::min(m_in.degraded_passes, 7);
            wake_at(m_in.now + std::min(util::Millis(1000L << doublings), k_degraded_recheck_max));
        }
        for (const auto& id : all) {
            if (conflicted(id)) {
                session_conflict(id);
            }
        }
        if (m_in.snapshot && m_in.server_moved) {
            // Starting agents here would run each of them twice, on two servers, on one set
            // of files: nothing is started, killed or judged until it is resolved.
            town_alarm("server_changed", "SERVER_CHANGED", server_moved_text(*m_in.server_moved));
            keep_conditions();
            m_out.storms = m_in.storms ? *m_in.storms : StormState{};
            return std::move(m_out);
        }
        std::erase_if(ids, [&](const Identity& id) { return requested(id) || conflicted(id); });
        for (const auto& id : ids) {
            if (id.role != Role::polecat) {
                ensure_running(id);
            }
            if (id.role == Role::deacon) {
                check_deacon_heartbeat(id);
            }
        }
        mark_stale_agents();
        notify_stuck_and_orphaned();
        act_on_screens();
        for (const auto& id : ids) {
            if (id.role == Role::polecat) {
                ensure_polecat(id);
            }
        }
        control_storms(all);
        for (const auto& c : m_in.active_conditions) {
            // Nothing about sessions was learnt, or the agent is being replaced on request
            // this pass: keep what was already reported.
            auto colon = c.find(':');
            if (!m_in.snapshot ||
                (colon != std::string::npos && m_requested.count(c.substr(colon + 1)))) {
                m_out.conditions.insert(c);
            }
        }
        for (const auto& id : m_in.start_failed) {
            // A failed start stays a condition until the agent is healthy again.
            auto parsed = state::parse_identity(id);
            if (parsed && !healthy(*parsed)) {
                m_out.start_failed.insert(id);
            }
        }
        return std::move(m_out);
    }

private:
    /// Nothing was learnt of the agents: what was reported stays reported.
    void keep_conditions() {
        m_out.conditions.insert(m_in.active_conditions.begin(), m_in.active_conditions.end());
        m_out.start_failed = m_in.start_failed;
    }
    const AgentFacts* facts(const Identity& id) const {
        auto it = m_in.agents.find(id.str());
        return it == m_in.agents.end() ? nullptr : &it->second;
    }
    const state::AgentState* report(const Identity& id) const {
        const AgentFacts* f = facts(id);
        return f && f->report ? &*f->report : nullptr;
    }
    AgentStatus status(const Identity& id) const {
        const state::AgentState* r = report(id);
        return r ? r->status : AgentStatus::unknown;
    }
    /// A session with the agent's name is there, but it is not this town's (design §19.1).
    bool conflicted(const Identity& id) const {
        return m_in.snapshot && m_in.foreign.count(id.session()) != 0;
    }
    /// What the session of a conflicted agent is, in words.
    std::string foreign_session(const Identity& id) const {
        const std::string& owner = m_in.foreign.at(id.session());
        return "session " + id.session() +
               (owner.empty() ? " carries no town's mark" : " belongs to the town at " + owner);
    }
    /// Never killed, started over, typed into or adopted: one event and one mail while it
    /// lasts.
    void session_conflict(const Identity& id) {
        agent_alarm(id, "session_conflict", "SESSION_CONFLICT",
                    foreign_session(id) + ": left alone, " + id.str() + " is not started");
    }
    bool session_exists(const Identity& id) const {
        return m_in.snapshot && m_in.snapshot->has(id.session());
    }
    bool healthy(const Identity& id) const {
        return session_exists(id) && m_in.snapshot->sessions.at(id.session()).agent_alive;
    }
    /// In its start grace: started lately, or the clock was set or the machine slept lately
    /// (design §17): no mark-dead, no circuit breaker, no deacon nudge or kill, no GUPP mail.
    bool in_grace(const Identity& id) const {
        if (m_in.clock_grace_until && m_in.now < *m_in.clock_grace_until) {
            return true;
        }
        auto it = m_in.started.find(id.str());
        if (it != m_in.started.end() && m_in.now - it->second < m_cfg.start_grace) {
            return true;
        }
        // Resumed after a usage limit: its report is as old as the limit; it gets the time a
        // started agent gets to report again.
        const ScreenState* s = screen(id);
        return s && s->resume_sent_at && m_in.now - *s->resume_sent_at < m_cfg.start_grace;
    }
    /// The second witness (design §17): the session is gone or its agent is not alive, or its
    /// pane has printed nothing for `timeout` (by tmux's activity time).
    bool pane_silent(const Identity& id, util::Millis timeout) const {
        if (!healthy(id)) {
            return true;
        }
        auto it = m_in.last_output.find(id.str());
        auto output = it != m_in.last_output.end()
                          ? it->second
                          : m_in.snapshot->sessions.at(id.session()).activity;
        return elapsed(output, m_in.now) >= timeout;
    }
    /// A stale report beside a busy pane: one event and one mail per condition, no kill.
    void stale_report(const Identity& id, const std::string& what, util::Millis age) {
        agent_alarm(id, "stale_report", "STALE_REPORT",
                    id.str() + " " + what + " for " + util::format_duration(age) +
                        ", but its pane is printing: left running");
    }
    /// A condition of one agent: while it holds, one event `event` and one mail,
    /// `<kind>: <text>`, when it begins (the twin of town_alarm()).
    void agent_alarm(const Identity& id, const char* event, const std::string& kind,
                     const std::string& text) {
        if (!m_in.active_conditions.count(kind + ":" + id.str())) {
            Action w{ActionKind::warn, id, text};
            w.event = event;
            add(std::move(w));
        }
        notify(id, kind, kind + ": " + text);
    }
    const ScreenState* screen(const Identity& id) const {
        const AgentFacts* f = facts(id);
        return f && f->screen ? &*f->screen : nullptr;
    }
    /// Why a live agent's screen says that a restart, a nudge or a mark-dead cannot help
    /// (design §16), or nullptr.
    const char* held_by_screen(const Identity& id) const {
        const ScreenState* s = screen(id);
        if (!s || !healthy(id)) {
            return nullptr;
        }
        switch (s->condition) {
        case Condition::usage_limited:
            return "at a usage limit";
        case Condition::startup_blocked:
            return "blocked at startup";
        case Condition::auth_failed:
            return "failing to authenticate";
        case Condition::waiting_input:
            return "waiting for input";
        default:
            return nullptr;
        }
    }
    /// Why the agent's screen shows it alive, whatever its report says (design §19.4): idle at
    /// its prompt, or held by its screen (held_by_screen()); nullptr otherwise. Such an agent
    /// may be nudged or told of, never marked dead or killed as dead.
    const char* alive_on_screen(const Identity& id) const {
        if (const char* why = held_by_screen(id)) {
            return why;
        }
        const ScreenState* s = screen(id);
        return s && healthy(id) && s->condition == Condition::idle ? "idle at its prompt" : nullptr;
    }
    void add(Action a) { m_out.actions.push_back(std::move(a)); }
    bool requested(const Identity& id) const { return m_requested.count(id.str()) != 0; }
    void wake_at(util::TimePoint t) {
        if (!m_out.wake_at || t < *m_out.wake_at) {
            m_out.wake_at = t;
        }
    }
    bool settling(long pid) const {
        auto it = m_in.gone_since.find(pid);
        return it != m_in.gone_since.end() && m_in.now - it->second < k_settle_window;
    }

    /// Design design §6: per agent only its last request runs; a requested restart skips the
    /// backoff. Collapsed requests are dropped at once; the others wait while tmux is unusable.
    void plan_requests() {
        auto [run, collapsed] = plan_batch(m_in.requests);
        std::map<std::string, std::string> winner;
        for (const auto& r : run) {
            winner[r.from.str()] =
                std::string(state::lifecycle_action_name(r.action)) + " request " + r.id;
        }
        for (const auto& r : collapsed) {
            Action a{ActionKind::collapse, r.from, "superseded"};
            a.request = r;
            a.superseded_by = winner.at(r.from.str());
            add(std::move(a));
        }
        if (!m_in.snapshot || m_in.server_moved) {
            return; // they wait, claimed, until tmux can be acted on
        }
        for (const auto& r : run) {
            if (conflicted(r.from)) {
                Action a{ActionKind::refuse, r.from,
                         std::string(state::lifecycle_action_name(r.action)) + " request " + r.id +
                             " refused: " + foreign_session(r.from)};
                a.request = r;
                add(std::move(a));
                continue;
            }
            bool shutdown = r.action == state::LifecycleAction::shutdown;
            Action a{shutdown ? ActionKind::shutdown : ActionKind::restart, r.from,
                     std::string(state::lifecycle_action_name(r.action)) + " requested (request " +
                         r.id + ")"};
            a.request = r;
            add(std::move(a));
            m_requested.insert(r.from.str());
        }
    }

    /// A start or restart, unless the restart tracker holds it back.
    void start(const Identity& id, ActionKind kind, std::string reason) {
        if (!m_in.snapshot) {
            return; // degraded: nothing is started or killed
        }
        const AgentFacts* f = facts(id);
        if (f && !f->workdir_exists) {
            add({ActionKind::unstartable, id, "working directory missing; " + reason});
            return;
        }
        if (session_exists(id) && settling(m_in.snapshot->sessions.at(id.session()).pid)) {
            add({ActionKind::settle, id, "pane process ended; waiting for tmux to report it"});
            wake_at(m_in.now + k_settle_recheck);
            return;
        }
        const ScreenState* sc = session_exists(id) ? screen(id) : nullptr;
        // An exit at a limit whose reset is on screen is no crash: it waits for the reset, then
        // starts without backoff. Without a stated reset, or with one already past when it
        // exited (a stale banner, a date long gone), it counts as any exit: an agent that keeps
        // dying after printing "429" must still reach the crash loop.
        bool usage_exit = sc && sc->condition == Condition::exited && sc->usage_limited() &&
                          sc->resets_at && *sc->resets_at > sc->since;
        if (usage_exit) {
            auto until = *sc->resets_at + m_cfg.screens.resume_margin;
            if (m_in.now < until) {
                Action a{ActionKind::hold, id, "exited at a usage limit: " + sc->evidence};
                a.until = until;
                wake_at(until);
                add(std::move(a));
                return;
            }
        }
        Gate gate =
            m_in.tracker && !usage_exit ? m_in.tracker->check(id.str(), m_in.now) : Gate::allowed;
        if (gate != Gate::allowed) {
            Action a{ActionKind::blocked, id, reason};
            a.gate = gate;
            a.until = m_in.tracker->blocked_until(id.str(), m_in.now);
            if (a.until && gate == Gate::backoff) {
                wake_at(*a.until);
            }
            add(std::move(a));
            return;
        }
        Action a{kind, id, std::move(reason)};
        a.not_a_crash = usage_exit;
        a.kill_first = kind == ActionKind::start && session_exists(id);
        if (session_exists(id) && m_in.snapshot->sessions.at(id.session()).dead) {
            // tmux may mark a pane dead before it has collected the exit status.
            const tmux::Pane& pane = m_in.snapshot->sessions.at(id.session());
            if (pane.dead_status >= 0 || pane.dead_signal > 0) {
                a.exit_status = pane.dead_status;
                a.exit_signal = pane.dead_signal;
                a.pane_pid = pane.pid;
                a.exit_reason = sc && sc->condition == Condition::exited ? sc->evidence : "";
            }
        }
        add(std::move(a));
        m_started_now.insert(id.str());
    }

    /// design §5.4 for one identity.
    void ensure_running(const Identity& id) {
        AgentStatus s = status(id);
        if (s == AgentStatus::dead) {
            if (const char* why = alive_on_screen(id)) {
                add({ActionKind::leave, id,
                     std::string("marked dead, but its screen shows it ") + why +
                         ": a restart cannot help"});
                return;
            }
            if (!in_grace(id)) {
                start(id, ActionKind::restart, "circuit breaker: agent marked dead");
            }
            return;
        }
        if (s == AgentStatus::stopped && !healthy(id)) {
            // Shut down on request (or it said so itself): it stays down until a cycle, a
            // restart or a new report says otherwise (design §5.4, §6).
            add({ActionKind::leave, id, "agent state stopped"});
            return;
        }
        if (healthy(id)) {
            if (!trusted_alive_state(s) && m_in.snapshot) {
                add({ActionKind::leave, id,
                     std::string("healthy session, agent state ") +
                         (report(id) ? report(id)->raw_state : "not reported")});
            }
            return;
        }
        start(id, ActionKind::start,
              session_exists(id) ? "agent not alive in its session" : "session missing");
    }

    /// design §5.3 step 3: the deacon's own heartbeat file. Replacing the deacon takes a
    /// second witness: its pane silent as long (design §17).
    void check_deacon_heartbeat(const Identity& id) {
        if (!m_in.deacon_heartbeat_age || !healthy(id) || in_grace(id) ||
            m_started_now.count(id.str()) || held_by_screen(id)) {
            return;
        }
        auto age = *m_in.deacon_heartbeat_age;
        auto age_text = util::format_duration(age);
        const char* idle = alive_on_screen(id);
        if (age > m_cfg.deacon_kill && pane_silent(id, m_cfg.deacon_kill) && !idle) {
            start(id, ActionKind::restart, "deacon heartbeat stale for " + age_text);
            return;
        }
        if (age > m_cfg.deacon_kill) {
            stale_report(id, idle ? "wrote no heartbeat, idle at its prompt" : "wrote no heartbeat",
                         age);
        }
        auto typed = m_in.typed_at.find(id.str());
        bool typed_lately = typed != m_in.typed_at.end() && typed->second <= m_in.now &&
                            m_in.now - typed->second < m_cfg.deacon_stale;
        if (age > m_cfg.deacon_stale && !typed_lately) {
            // Once per deacon_stale at most: typing on every pass filled its input with them.
            add({ActionKind::nudge, id, "deacon heartbeat stale for " + age_text});
        }
    }

    /// design §5.3 step 7, with two witnesses (design §17): a stale report marks an agent dead
    /// only beside a silent pane or a gone session; when more than half of the reporting agents
    /// are stale at once, the cause is rarely in them, and none is marked dead.
    void mark_stale_agents() {
        std::size_t reporting = 0;
        std::vector<const AgentFacts*> stale;
        for (const auto& [key, f] : m_in.agents) {
            if (!f.report || !busy(f.report->status) || in_grace(f.id) || requested(f.id) ||
                alive_on_screen(f.id) || conflicted(f.id)) {
                continue;
            }
            ++reporting;
            if (f.report_age > m_cfg.dead_agent_timeout) {
                stale.push_back(&f);
            }
        }
        auto at_least = static_cast<std::size_t>(std::max(2, m_cfg.mass_death_count));
        if (stale.size() >= at_least && stale.size() * 2 > reporting) {
            mass_stale(stale, reporting);
            return;
        }
        for (const AgentFacts* f : stale) {
            if (!pane_silent(f->id, m_cfg.dead_agent_timeout)) {
                stale_report(f->id, "has not reported", f->report_age);
                continue;
            }
            Action a{ActionKind::mark_dead, f->id,
                     "no report for " + util::format_duration(f->report_age)};
            a.seen_updated_at = f->report->updated_at;
            add(std::move(a));
        }
    }

    void mass_stale(const std::vector<const AgentFacts*>& stale, std::size_t reporting) {
        std::string names;
        for (const AgentFacts* f : stale) {
            names += (names.empty() ? "" : ", ") + f->id.str();
        }
        std::string text = std::to_string(stale.size()) + " of " + std::to_string(reporting) +
                           " reporting agents stopped reporting at once (" + names +
                           "): none is marked dead on that ground";
        town_alarm("mass_stale", "MASS_STALE", text);
    }

    /// A town-wide condition (design §17): while it holds, one event `event` and one mail to
    /// the mayor, `<condition>: <text>`, when it begins.
    void town_alarm(const char* event, const std::string& condition, const std::string& text) {
        m_out.conditions.insert(condition);
        if (m_in.active_conditions.count(condition)) {
            return;
        }
        Action w{ActionKind::warn, Identity{}, text};
        w.town = true;
        w.event = event;
        add(std::move(w));
        Action mail{ActionKind::notify, Identity{}, condition};
        mail.town = true;
        mail.to = "mayor";
        mail.subject = condition + ": " + text;
        mail.condition = condition;
        add(std::move(mail));
    }

    void notify(const Identity& id, const std::string& kind, const std::string& subject) {
        Action a = notification(id, kind, subject);
        m_out.conditions.insert(a.condition);
        if (!m_in.active_conditions.count(a.condition)) {
            add(std::move(a));
        }
    }

    /// design §5.3 steps 8 and 9.
    void notify_stuck_and_orphaned() {
        for (const auto& [key, f] : m_in.agents) {
            if (!f.report || f.report->hook.empty() || requested(f.id) || conflicted(f.id)) {
                continue;
            }
            auto age = f.report_age;
            if (f.id.role == Role::polecat && busy(f.report->status) && age > m_cfg.gupp_timeout &&
                !held_by_screen(f.id) && !in_grace(f.id)) {
                notify(f.id, "GUPP_VIOLATION",
                       "GUPP_VIOLATION: " + f.id.str() + " stuck for " +
                           util::format_duration(age));
            }
            if (f.report->status == AgentStatus::dead) {
                notify(f.id, "ORPHANED_WORK",
                       "ORPHANED_WORK: " + f.id.str() + " has hooked work but is dead");
            }
        }
    }

    /// design §16: what a person must hear of, and the resume after a usage limit.
    void act_on_screens() {
        for (const auto& [key, f] : m_in.agents) {
            if (!f.screen || !healthy(f.id) || requested(f.id)) {
                continue;
            }
            const ScreenState& s = *f.screen;
            switch (s.condition) {
            case Condition::waiting_input:
                notify(f.id, "WAITING_INPUT", "WAITING_INPUT: " + key + " asks: " + s.evidence);
                break;
            case Condition::startup_blocked:
                notify(f.id, "STARTUP_BLOCKED",
                       "STARTUP_BLOCKED: " + key + " is stuck at: " + s.evidence);
                break;
            case Condition::auth_failed:
                notify(f.id, "AUTH_FAILED", "AUTH_FAILED: " + key + ": " + s.evidence);
                break;
            case Condition::usage_limited:
                resume_after_limit(f.id, s);
                break;
            default:
                break;
            }
        }
    }

    void resume_after_limit(const Identity& id, const ScreenState& s) {
        if (s.resume_sent_at) {
            auto deadline = *s.resume_sent_at + k_resume_verify;
            if (m_in.now >= deadline) {
                notify(id, "RESUME_FAILED",
                       "RESUME_FAILED: " + id.str() +
                           " still shows its usage limit after the resume text: " + s.evidence);
            } else {
                wake_at(deadline);
            }
            return;
        }
        if (!s.resets_at) {
            // Nothing says when it ends: a person hears of it once, and the screen is looked at
            // again every usage_probe until it says more.
            notify(id, "USAGE_LIMITED",
                   "USAGE_LIMITED: " + id.str() + " shows no reset time: " + s.evidence);
            if (auto next = s.looked_at + m_cfg.screens.usage_probe; next > m_in.now) {
                wake_at(next);
            }
            return;
        }
        auto at = *s.resets_at + m_cfg.screens.resume_margin;
        if (m_in.now < at) {
            wake_at(at);
            return;
        }
        add({ActionKind::resume, id, "usage limit reset at " + util::format_time(*s.resets_at)});
    }

    /// design §17: deaths counted once each, a storm told once, starts spread under the
    /// town's budget.
    void control_storms(const std::vector<Identity>& all) {
        StormState next = m_in.storms ? *m_in.storms : StormState{};
        std::erase_if(next.starts, [&](util::TimePoint t) {
            return t <= m_in.now - m_cfg.start_budget_window || t > m_in.now;
        });
        if (!m_in.snapshot) {
            if (next.storm) {
                m_out.conditions.insert("MASS_DEATH"); // nothing learnt: kept as it was
            }
            m_out.storms = std::move(next);
            return;
        }
        // Back, or no longer supervised (a polecat's hook done): no longer dead.
        std::set<std::string> down;
        for (const auto& id : all) {
            if (!healthy(id)) {
                down.insert(id.str());
            }
        }
        std::erase_if(next.dead, [&](const auto& d) { return !down.count(d.first); });
        std::vector<std::string> found;
        for (auto& a : m_out.actions) {
            std::string id = a.id.str();
            if (!ends_a_life(a) || next.dead.count(id) || !died(a)) {
                continue;
            }
            next.dead[id] = death_of(a.id);
            found.push_back(id);
            if (!m_in.snapshot->server_running && (a.kind == ActionKind::start)) {
                a.not_a_crash = true; // the agents did not crash: their tmux server went away
            }
        }
        find_storm(next, found);
        spread_starts(next);
        m_out.storms = std::move(next);
    }

    /// An action that finds its agent not running.
    static bool ends_a_life(const Action& a) {
        switch (a.kind) {
        case ActionKind::start:
        case ActionKind::restart:
        case ActionKind::blocked:
        case ActionKind::settle:
        case ActionKind::hold:
        case ActionKind::unstartable:
            return !a.request;
        default:
            return false;
        }
    }
    /// A death, not a first start: the daemon started it before, or its session is replaced.
    bool died(const Action& a) const {
        const RestartRecord* r = m_in.tracker ? m_in.tracker->find(a.id.str()) : nullptr;
        return a.kind == ActionKind::restart || (r && r->last_restart);
    }
    Death death_of(const Identity& id) const {
        Death d;
        d.at = m_in.now;
        d.server_gone = !m_in.snapshot->server_running;
        if (session_exists(id)) {
            const tmux::Pane& p = m_in.snapshot->sessions.at(id.session());
            if (p.dead && p.dead_signal > 0) {
                d.exit = "signal " + std::to_string(p.dead_signal);
            } else if (p.dead && p.dead_status >= 0) {
                d.exit = "exit " + std::to_string(p.dead_status);
            }
            if (const ScreenState* sc = screen(id); sc && sc->condition == Condition::exited) {
                d.screen = sc->evidence;
            }
        }
        return d;
    }

    void find_storm(StormState& next, const std::vector<std::string>& found) {
        if (next.storm && next.dead.empty()) {
            next.storm.reset(); // every agent of it is back: over, and a new one is told again
        }
        if (next.storm) {
            for (const auto& id : found) {
                next.storm->agents.push_back(id);
            }
            m_out.conditions.insert("MASS_DEATH");
            return;
        }
        std::vector<std::pair<util::TimePoint, std::string>> recent;
        for (const auto& [id, d] : next.dead) {
            if (d.at > m_in.now - m_cfg.mass_death_window) {
                recent.emplace_back(d.at, id);
            }
        }
        if (recent.size() < static_cast<std::size_t>(m_cfg.mass_death_count)) {
            return;
        }
        std::sort(recent.begin(), recent.end());
        Storm storm{m_in.now, {}, ""};
        std::vector<const Death*> deaths;
        for (const auto& [at, id] : recent) {
            storm.agents.push_back(id);
            deaths.push_back(&next.dead.at(id));
        }
        storm.cause = common_cause(deaths);
        std::string names;
        for (const auto& id : storm.agents) {
            names += (names.empty() ? "" : ", ") + id;
        }
        std::string text = std::to_string(storm.agents.size()) + " agents died within " +
                           util::format_duration(m_cfg.mass_death_window) + " (" + names + ")" +
                           (storm.cause.empty() ? "" : "; " + storm.cause) + "; restarting them " +
                           std::to_string(m_cfg.start_budget) + " per " +
                           util::format_duration(m_cfg.start_budget_window);
        town_alarm("mass_death", "MASS_DEATH", text);
        next.storm = std::move(storm);
    }

    /// At most start_budget starts within start_budget_window: deacon and witnesses first,
    /// polecats last, and within a role the longest dead first; the rest wait for the budget.
    /// Only the dead wait: a first start is never held back (it counts towards the budget all
    /// the same); a requested restart neither waits nor counts (requests must not starve the
    /// recovery of crashed agents).
    void spread_starts(const StormState& next) {
        int left = next.budget_left(m_in.now, m_cfg.start_budget, m_cfg.start_budget_window);
        std::vector<Action*> starts;
        for (auto& a : m_out.actions) {
            if ((a.kind == ActionKind::start || a.kind == ActionKind::restart) && !a.request &&
                next.dead.count(a.id.str())) {
                starts.push_back(&a);
            }
        }
        if (static_cast<int>(starts.size()) <= left) {
            return;
        }
        // By role, and within a role the agent found dead first goes first: the same few must
        // not win every window while the others never start.
        auto key = [&](const Action* a) {
            return std::tuple(start_priority(state::role_name(a->id.role)),
                              next.dead.at(a->id.str()).at, a->id.str());
        };
        std::sort(starts.begin(), starts.end(),
                  [&](const Action* x, const Action* y) { return key(x) < key(y); });
        util::TimePoint oldest = m_in.now;
        for (auto t : next.starts) {
            oldest = std::min(oldest, t);
        }
        util::TimePoint until = oldest + m_cfg.start_budget_window;
        for (std::size_t i = static_cast<std::size_t>(left); i < starts.size(); ++i) {
            Action& a = *starts[i];
            a.reason += "; waits for the town's start budget";
            a.kind = ActionKind::blocked;
            a.gate = Gate::budget;
            a.until = until;
        }
        wake_at(until);
    }

    /// design §5.3 step 10: a hooked polecat's session must run; the witness hears when it cannot.
    void ensure_polecat(const Identity& id) {
        if (!m_in.snapshot) {
            return;
        }
        const AgentFacts* f = facts(id);
        bool crashed =
            !healthy(id) && ((f && !f->workdir_exists) || m_in.start_failed.count(id.str()));
        if (crashed) {
            notify(id, "CRASHED_POLECAT", crashed_polecat_subject(id));
        }
        ensure_running(id);
    }

    const TickInput& m_in;
    const state::DaemonConfig& m_cfg;
    Decision m_out;
    std::set<std::string> m_started_now;
    std::set<std::string> m_requested; ///< identities a lifecycle request replaces or stops
};

} // namespace

std::string server_moved_text(const ServerMove& m) {
    auto name = [](const std::string& path) {
        std::string label = path.substr(path.rfind('/') + 1);
        return label == "default" ? std::string("\"\" (the default server)") : "\"" + label + "\"";
    };
    std::string held = m.agents > 0 ? std::to_string(m.agents) + " of this town's sessions run"
                                    : "this town's sessions may still run (it does not answer)";
    return held + " on the tmux server " + m.holding +
           (m.holding_pid > 0 ? " (server process " + std::to_string(m.holding_pid) + ")" : "") +
           ", but the daemon is set to use " + m.configured +
           ": no agent is started there. Set tmux.socket (or GT_TMUX_SOCKET) back to " +
           name(m.holding) +
           " and run gt daemon restart; or, to move the town, end those agents "
           "first (tmux -S " +
           m.holding + " kill-server, if it runs nothing else)";
}

std::vector<Identity> supervised(const TickInput& in) {
    const state::TownConfig& cfg = *in.config;
    std::vector<Identity> out;
    if (cfg.role_enabled("deacon")) {
        out.push_back({Role::deacon, "", ""});
    }
    if (cfg.role_enabled("mayor")) {
        out.push_back({Role::mayor, "", ""});
    }
    const bool witness = cfg.role_enabled("witness"), refinery = cfg.role_enabled("refinery");
    for (const auto& rig : in.rigs) {
        if (witness) {
            out.push_back({Role::witness, rig, ""});
        }
        if (refinery) {
            out.push_back({Role::refinery, rig, ""});
        }
    }
    if (cfg.role_enabled("polecat")) {
        const std::set<std::string_view> rigs(in.rigs.begin(), in.rigs.end());
        for (const auto& [key, f] : in.agents) {
            if (f.id.role == Role::polecat && f.report && !f.report->hook.empty() &&
                rigs.count(f.id.rig) != 0) {
                out.push_back(f.id);
            }
        }
    }
    return out;
}

Decision decide(const TickInput& in) {
    return Decider(in).run();
}

} // namespace gt::policy
