#include "agent_table.hpp"

#include "util/time.hpp"

namespace gt::executor {

using nlohmann::json;
using policy::Gate;

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
        rows.push_back(std::move(j));
    }
    return rows;
}

} // namespace gt::executor
