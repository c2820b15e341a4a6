#include "decide.hpp"

#include "requests.hpp"

#include <algorithm>
#include <map>

namespace gt::policy {

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
        auto ids = supervised(m_in);
        plan_requests();
        if (!m_in.snapshot) {
            add({ActionKind::degraded, Identity{}, m_in.degraded_reason});
        }
        std::erase_if(ids, [&](const Identity& id) { return requested(id); });
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
        for (const auto& id : ids) {
            if (id.role == Role::polecat) {
                ensure_polecat(id);
            }
        }
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
    bool session_exists(const Identity& id) const {
        return m_in.snapshot && m_in.snapshot->has(id.session());
    }
    bool healthy(const Identity& id) const {
        return session_exists(id) && m_in.snapshot->sessions.at(id.session()).agent_alive;
    }
    bool in_grace(const Identity& id) const {
        auto it = m_in.started.find(id.str());
        return it != m_in.started.end() && m_in.now - it->second < m_cfg.start_grace;
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
        if (!m_in.snapshot) {
            return;
        }
        for (const auto& r : run) {
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
        Gate gate = m_in.tracker ? m_in.tracker->check(id.str(), m_in.now) : Gate::allowed;
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
        a.kill_first = kind == ActionKind::start && session_exists(id);
        if (session_exists(id) && m_in.snapshot->sessions.at(id.session()).dead) {
            // tmux may mark a pane dead before it has collected the exit status.
            const tmux::Pane& pane = m_in.snapshot->sessions.at(id.session());
            if (pane.dead_status >= 0 || pane.dead_signal > 0) {
                a.exit_status = pane.dead_status;
                a.exit_signal = pane.dead_signal;
                a.pane_pid = pane.pid;
            }
        }
        add(std::move(a));
        m_started_now.insert(id.str());
    }

    /// design §5.4 for one identity.
    void ensure_running(const Identity& id) {
        AgentStatus s = status(id);
        if (s == AgentStatus::dead) {
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

    /// design §5.3 step 3: the deacon's own heartbeat file.
    void check_deacon_heartbeat(const Identity& id) {
        if (!m_in.deacon_heartbeat || !healthy(id) || in_grace(id) ||
            m_started_now.count(id.str())) {
            return;
        }
        auto age = m_in.now - *m_in.deacon_heartbeat;
        auto age_text = util::format_duration(std::chrono::duration_cast<util::Millis>(age));
        if (age > m_cfg.deacon_kill) {
            start(id, ActionKind::restart, "deacon heartbeat stale for " + age_text);
        } else if (age > m_cfg.deacon_stale) {
            add({ActionKind::nudge, id, "deacon heartbeat stale for " + age_text});
        }
    }

    /// design §5.3 step 7.
    void mark_stale_agents() {
        for (const auto& [key, f] : m_in.agents) {
            if (!f.report || !busy(f.report->status) || in_grace(f.id) || requested(f.id)) {
                continue;
            }
            auto age = m_in.now - f.report->updated_at;
            if (age > m_cfg.dead_agent_timeout) {
                Action a{ActionKind::mark_dead, f.id,
                         "no report for " +
                             util::format_duration(std::chrono::duration_cast<util::Millis>(age))};
                a.seen_updated_at = f.report->updated_at;
                add(std::move(a));
            }
        }
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
            if (!f.report || f.report->hook.empty() || requested(f.id)) {
                continue;
            }
            auto age = m_in.now - f.report->updated_at;
            if (f.id.role == Role::polecat && busy(f.report->status) && age > m_cfg.gupp_timeout) {
                notify(f.id, "GUPP_VIOLATION",
                       "GUPP_VIOLATION: " + f.id.str() + " stuck for " +
                           util::format_duration(std::chrono::duration_cast<util::Millis>(age)));
            }
            if (f.report->status == AgentStatus::dead) {
                notify(f.id, "ORPHANED_WORK",
                       "ORPHANED_WORK: " + f.id.str() + " has hooked work but is dead");
            }
        }
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

std::vector<Identity> supervised(const TickInput& in) {
    const state::TownConfig& cfg = *in.config;
    std::vector<Identity> out;
    if (cfg.role_enabled("deacon")) {
        out.push_back({Role::deacon, "", ""});
    }
    if (cfg.role_enabled("mayor")) {
        out.push_back({Role::mayor, "", ""});
    }
    for (const auto& rig : in.rigs) {
        if (cfg.role_enabled("witness")) {
            out.push_back({Role::witness, rig, ""});
        }
        if (cfg.role_enabled("refinery")) {
            out.push_back({Role::refinery, rig, ""});
        }
    }
    if (cfg.role_enabled("polecat")) {
        for (const auto& [key, f] : in.agents) {
            bool known_rig = std::find(in.rigs.begin(), in.rigs.end(), f.id.rig) != in.rigs.end();
            if (f.id.role == Role::polecat && known_rig && f.report && !f.report->hook.empty()) {
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
