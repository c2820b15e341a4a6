#include "agent_table.hpp"

#include "util/time.hpp"

#include <nlohmann/json.hpp>
#include <set>

namespace gt::executor {

using nlohmann::json;
using policy::Gate;
using screen::Condition;

namespace {

/// What the agent's screen shows, when the screen read is of the pane that runs now (one
/// replaced or killed during the pass has not been read yet).
void put_condition(AgentRow& row, const policy::AgentFacts& f, const tmux::Snapshot* snap,
                   const state::RestartRecord* record) {
    if (!f.screen || !snap) {
        return;
    }
    auto pane = snap->sessions.find(f.id.session());
    if (pane == snap->sessions.end() || pane->second.pid != f.screen->pane_pid) {
        return;
    }
    const policy::ScreenState& s = *f.screen;
    row.condition = s.condition;
    row.condition_since = s.since;
    row.evidence = s.evidence;
    row.resets_at = s.resets_at;
    if (s.condition == Condition::exited) {
        row.cause = s.cause;
        // tmux may not have collected the status yet; the daemon's record may have.
        const tmux::Pane& p = pane->second;
        bool known = p.dead_status >= 0 || p.dead_signal > 0;
        int status = known ? p.dead_status : record ? record->last_exit_status.value_or(-1) : -1;
        row.exit_status = status >= 0 ? std::optional<int>(status) : std::nullopt;
        row.exit_signal = known ? p.dead_signal : record ? record->last_signal.value_or(0) : 0;
    }
}

json time_or_null(const std::optional<util::TimePoint>& t) {
    return t ? json(util::format_time(*t)) : json(nullptr);
}

} // namespace

std::vector<AgentRow> agent_rows(const policy::TickInput& in,
                                 const std::vector<state::Identity>& supervised_ids,
                                 const tmux::Snapshot* snap,
                                 const policy::RestartTracker& tracker) {
    std::set<std::string> supervised;
    for (const auto& id : supervised_ids) {
        supervised.insert(id.str());
    }
    std::vector<AgentRow> rows;
    rows.reserve(in.agents.size());
    for (const auto& [key, f] : in.agents) {
        AgentRow& row = rows.emplace_back();
        row.id = f.id;
        row.supervised = supervised.count(key) != 0;
        if (snap) {
            auto pane = snap->sessions.find(f.id.session());
            row.session_exists = pane != snap->sessions.end();
            row.alive = pane != snap->sessions.end() && pane->second.agent_alive;
            if (auto other = in.foreign.find(f.id.session()); other != in.foreign.end()) {
                row.session_exists = true;
                row.conflict_town = other->second;
            }
        }
        if (f.report) {
            row.reported = true;
            row.state = f.report->raw_state;
            row.updated_at = f.report->updated_at;
            row.age = in.now - f.report->updated_at;
            row.hook = f.report->hook;
        } else {
            row.report_error = f.report_error;
        }
        const state::RestartRecord* r = tracker.find(key);
        row.restarts = r ? r->restart_count : 0;
        row.gate = tracker.shown_gate(key, in.now, row.alive.value_or(false));
        if (auto until = tracker.blocked_until(key, in.now); until && row.gate != Gate::allowed) {
            row.blocked_until = until;
        }
        if (r) {
            row.last_exit_status = r->last_exit_status;
            row.last_exit_reason = r->last_exit_reason;
        }
        put_condition(row, f, snap, r);
    }
    return rows;
}

json agent_table_json(const std::vector<AgentRow>& rows) {
    json table = json::array();
    for (const AgentRow& row : rows) {
        json j = {{"identity", row.id.str()},
                  {"role", state::role_name(row.id.role)},
                  {"rig", row.id.rig},
                  {"session", row.id.session()},
                  {"supervised", row.supervised}};
        j["session_exists"] = row.session_exists ? json(*row.session_exists) : json(nullptr);
        j["alive"] = row.alive ? json(*row.alive) : json(nullptr);
        if (row.conflict_town) {
            j["conflict_town"] = *row.conflict_town;
        }
        if (row.reported) {
            j["state"] = row.state;
            j["updated_at"] = util::format_time(row.updated_at);
            j["age_ms"] = row.age.count();
        } else {
            j["state"] = nullptr;
            j["report_error"] = row.report_error;
        }
        j["hook"] = row.hook;
        j["restarts"] = row.restarts;
        j["gate"] = policy::gate_name(row.gate);
        if (row.blocked_until) {
            j["blocked_until"] = util::format_time(*row.blocked_until);
        }
        if (row.last_exit_status) {
            j["last_exit_status"] = *row.last_exit_status;
        }
        if (!row.last_exit_reason.empty()) {
            j["last_exit_reason"] = row.last_exit_reason;
        }
        j["condition"] = screen::condition_name(row.condition);
        j["condition_since"] = time_or_null(row.condition_since);
        j["evidence"] = row.evidence;
        j["resets_at"] = time_or_null(row.resets_at);
        if (row.condition == Condition::exited) {
            j["cause"] = screen::condition_name(row.cause);
            j["exit_status"] = row.exit_status ? json(*row.exit_status) : json(nullptr);
            j["exit_signal"] = row.exit_signal;
        }
        if (!row.typing_held.empty()) {
            j["typing_held"] = row.typing_held;
        }
        table.push_back(std::move(j));
    }
    return table;
}

} // namespace gt::executor
