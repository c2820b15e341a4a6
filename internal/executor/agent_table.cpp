#include "agent_table.hpp"

#include "util/time.hpp"

namespace gt::executor {

using nlohmann::json;
using policy::Gate;
using screen::Condition;

namespace {

/// `condition`, `condition_since`, `evidence`, `resets_at`; for an exit also `cause`,
/// `exit_status`, `exit_signal` (design §16). Without a read screen: `unknown`.
void put_condition(json& j, const policy::AgentFacts& f, const tmux::Snapshot* snap,
                   const policy::RestartTracker& tracker) {
    // A pane replaced or killed during the pass has not been read yet.
    bool current = f.screen && snap && snap->has(f.id.session()) &&
                   snap->sessions.at(f.id.session()).pid == f.screen->pane_pid;
    if (current) {
        const policy::ScreenState& s = *f.screen;
        j["condition"] = screen::condition_name(s.condition);
        j["condition_since"] = util::format_time(s.since);
        j["evidence"] = s.evidence;
        j["resets_at"] = s.resets_at ? json(util::format_time(*s.resets_at)) : json(nullptr);
        if (s.condition == Condition::exited) {
            j["cause"] = screen::condition_name(s.cause);
            // tmux may not have collected the status yet; the daemon's record may have.
            const tmux::Pane& p = snap->sessions.at(f.id.session());
            const state::RestartRecord* r = tracker.find(f.id.str());
            bool known = p.dead_status >= 0 || p.dead_signal > 0;
            int status = known ? p.dead_status : r ? r->last_exit_status.value_or(-1) : -1;
            int signal = known ? p.dead_signal : r ? r->last_signal.value_or(0) : 0;
            j["exit_status"] = status >= 0 ? json(status) : json(nullptr);
            j["exit_signal"] = signal;
        }
        return;
    }
    j["condition"] = screen::condition_name(Condition::unknown);
    j["condition_since"] = nullptr;
    j["evidence"] = "";
    j["resets_at"] = nullptr;
}

} // namespace

nlohmann::json agent_table(const policy::TickInput& in,
                           const std::vector<state::Identity>& supervised_ids,
                           const tmux::Snapshot* snap, const policy::RestartTracker& tracker) {
    std::set<std::string> supervised;
    for (const auto& id : supervised_ids) {
        supervised.insert(id.str());
    }
    json rows = json::array();
    for (const auto& [key, f] : in.agents) {
        json j = {{"identity", key},
                  {"role", state::role_name(f.id.role)},
                  {"rig", f.id.rig},
                  {"session", f.id.session()},
                  {"supervised", supervised.count(key) != 0}};
        bool exists = snap && snap->has(f.id.session());
        bool alive = exists && snap->sessions.at(f.id.session()).agent_alive;
        j["session_exists"] = snap ? json(exists) : json(nullptr);
        j["alive"] = snap ? json(alive) : json(nullptr);
        if (f.report) {
            j["state"] = f.report->raw_state;
            j["updated_at"] = util::format_time(f.report->updated_at);
            j["age_ms"] = (in.now - f.report->updated_at).count();
        } else {
            j["state"] = nullptr;
            j["report_error"] = f.report_error;
        }
        j["hook"] = f.report ? f.report->hook : "";
        const state::RestartRecord* r = tracker.find(key);
        j["restarts"] = r ? r->restart_count : 0;
        Gate gate = tracker.shown_gate(key, in.now, alive);
        j["gate"] = policy::gate_name(gate);
        if (auto until = tracker.blocked_until(key, in.now); until && gate != Gate::allowed) {
            j["blocked_until"] = util::format_time(*until);
        }
        if (r && r->last_exit_status) {
            j["last_exit_status"] = *r->last_exit_status;
        }
        if (r && !r->last_exit_reason.empty()) {
            j["last_exit_reason"] = r->last_exit_reason;
        }
        put_condition(j, f, snap, tracker);
        rows.push_back(std::move(j));
    }
    return rows;
}

} // namespace gt::executor
