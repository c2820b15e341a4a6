#include "agent_list.hpp"

#include "commands.hpp"
#include "control_client.hpp"
#include "executor/recovery.hpp"
#include "policy/decide.hpp"
#include "policy/restart_tracker.hpp"
#include "proc/process.hpp"
#include "state/agent_state.hpp"
#include "state/config.hpp"
#include "state/town.hpp"
#include "util/file.hpp"

#include <algorithm>
#include <charconv>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>
#include <optional>

namespace gt::client {

using nlohmann::json;

using policy::Gate;
using policy::RestartTracker;
using state::RestartRecord;

namespace {

/// One row of the agent table.
struct Row {
    state::Identity id;
    bool supervised = false;
    std::optional<state::AgentState> report;
    std::string report_error;
    bool session = false;
    bool alive = false;
    const RestartRecord* restarts = nullptr;
};

std::string age_text(util::TimePoint now, util::TimePoint then) {
    auto age = std::chrono::duration_cast<util::Millis>(now - then);
    if (age < std::chrono::seconds(1)) {
        return "0s";
    }
    return util::format_duration(std::chrono::duration_cast<std::chrono::seconds>(age));
}

json row_json(const Row& r, util::TimePoint now, const RestartTracker& tracker, bool tmux_known) {
    json j = {{"identity", r.id.str()},
              {"role", state::role_name(r.id.role)},
              {"rig", r.id.rig},
              {"session", r.id.session()},
              {"supervised", r.supervised}};
    j["session_exists"] = tmux_known ? json(r.session) : json(nullptr);
    j["alive"] = tmux_known ? json(r.alive) : json(nullptr);
    if (r.report) {
        j["state"] = r.report->raw_state;
        j["updated_at"] = util::format_time(r.report->updated_at);
        j["age_ms"] = (now - r.report->updated_at).count();
        j["hook"] = r.report->hook;
    } else {
        j["state"] = nullptr;
        j["report_error"] = r.report_error;
    }
    j["restarts"] = r.restarts ? r.restarts->restart_count : 0;
    Gate gate = tracker.shown_gate(r.id.str(), now, r.alive);
    j["gate"] = policy::gate_name(gate);
    if (auto until = tracker.blocked_until(r.id.str(), now); until && gate != Gate::allowed) {
        j["blocked_until"] = util::format_time(*until);
    }
    if (r.restarts && r.restarts->last_exit_status) {
        j["last_exit_status"] = *r.restarts->last_exit_status;
    }
    return j;
}

void print_table(const std::vector<Row>& rows, util::TimePoint now, const RestartTracker& tracker,
                 bool tmux_known) {
    std::printf("%-28s %-9s %-24s %-7s %-9s %-8s %-14s %-8s %s\n", "IDENTITY", "ROLE", "SESSION",
                "ALIVE", "STATE", "AGE", "HOOK", "RESTARTS", "BACKOFF");
    for (const auto& r : rows) {
        std::string alive = !tmux_known ? "?" : r.alive ? "yes" : r.session ? "zombie" : "no";
        std::string st = r.report ? r.report->raw_state : "-";
        std::string age = r.report ? age_text(now, r.report->updated_at) : "-";
        std::string hook = r.report && !r.report->hook.empty() ? r.report->hook : "-";
        Gate g = tracker.shown_gate(r.id.str(), now, r.alive);
        std::string gate = g == Gate::allowed ? "-" : policy::gate_name(g);
        if (auto until = tracker.blocked_until(r.id.str(), now); until && g != Gate::allowed) {
            gate += " until " + util::format_time(*until);
        }
        std::printf("%-28s %-9s %-24s %-7s %-9s %-8s %-14s %-8d %s\n", r.id.str().c_str(),
                    state::role_name(r.id.role), r.id.session().c_str(), alive.c_str(), st.c_str(),
                    age.c_str(), hook.c_str(), r.restarts ? r.restarts->restart_count : 0,
                    gate.c_str());
    }
}

/// A number the pane-died hook passed: plain decimal digits within [min, max], or nothing
/// (nullopt: what tmux prints for what it does not know).
util::Result<std::optional<long>> hook_number(const std::string& flag, const std::string& text,
                                              long min, long max) {
    if (text.empty()) {
        return std::optional<long>();
    }
    long value = 0;
    const char* end = text.data() + text.size();
    auto parsed = std::from_chars(text.data(), end, value);
    if (text.find_first_not_of("0123456789") != std::string::npos || parsed.ec != std::errc() ||
        parsed.ptr != end || value < min || value > max) {
        return util::err(flag + ": expected an integer from " + std::to_string(min) + " to " +
                         std::to_string(max) + " (or nothing), got '" + text + "'");
    }
    return std::optional<long>(value);
}

} // namespace

int list_agents(const std::string& town, bool as_json) {
    auto env_socket = state::tmux_socket_from_env();
    if (!env_socket) {
        std::cerr << "gt agent list: " << env_socket.error() << "\n";
        return 2;
    }
    auto config = state::load_town_config(town);
    if (!config) {
        std::cerr << "gt agent list: " << config.error() << "\n";
        return 1;
    }
    policy::TickInput in;
    in.config = &*config;
    if (auto rigs = state::load_rigs(town)) {
        for (const auto& r : *rigs) {
            in.rigs.push_back(r.name);
        }
    } else {
        std::cerr << "warning: " << rigs.error() << "\n";
    }
    std::map<std::string, Row> rows;
    for (const auto& f : state::list_agent_files(town)) {
        Row& r = rows[f.id.str()];
        r.id = f.id;
        auto report = state::read_agent_state(f.path);
        if (report) {
            r.report = *report;
            in.agents[f.id.str()] = policy::AgentFacts{f.id, *report, true};
        } else {
            r.report_error = report.error();
        }
    }
    for (const auto& id : policy::supervised(in)) {
        Row& r = rows[id.str()];
        r.id = id;
        r.supervised = true;
    }

    proc::RealProcessRunner runner;
    tmux::TmuxClient tmux(runner, env_socket->empty() ? config->tmux_socket : *env_socket,
                          config->daemon.tmux_timeout);
    auto snap = tmux.snapshot();
    bool tmux_known = snap && snap->tmux_available;
    if (!tmux_known) {
        std::cerr << "warning: sessions unknown: "
                  << (snap ? std::string("tmux is not installed") : snap.error()) << "\n";
    } else {
        executor::mark_liveness(*snap, config->process_names);
    }
    RestartTracker tracker(config->daemon.restart);
    if (auto records = state::RestartStateFile(state::TownPaths(town)).load()) {
        tracker.replace(std::move(*records));
    }
    auto now = util::now();
    std::vector<Row> ordered;
    for (auto& [key, r] : rows) {
        if (tmux_known && snap->has(r.id.session())) {
            r.session = true;
            r.alive = snap->sessions.at(r.id.session()).agent_alive;
        }
        r.restarts = tracker.find(key);
        ordered.push_back(r);
    }
    if (as_json) {
        json out = json::array();
        for (const auto& r : ordered) {
            out.push_back(row_json(r, now, tracker, tmux_known));
        }
        std::cout << out.dump(2) << "\n";
    } else {
        print_table(ordered, now, tracker, tmux_known);
    }
    return 0;
}

int clear_backoff(const std::string& town, const std::string& text) {
    auto id = state::parse_identity(text);
    if (!id) {
        std::cerr << "gt daemon clear-backoff: " << id.error() << "\n";
        return 2;
    }
    // A running daemon clears it itself (and answers once the pass that acts on it is done).
    auto reply = control_request(town, {{"cmd", "clear-backoff"}, {"identity", id->str()}},
                                 util::Millis(60'000));
    if (reply && reply->value("ok", false)) {
        std::cout << "Cleared the backoff of " << id->str() << " (heartbeat #"
                  << reply->value("heartbeat_count", 0) << " acted on it)\n";
        return 0;
    }
    state::RestartStateFile file{state::TownPaths(town)};
    if (auto st = file.clear(id->str(), util::now()); !st) {
        std::cerr << "gt daemon clear-backoff: " << st.error() << "\n";
        return 1;
    }
    if (auto pid = signal_daemon(town, SIGUSR2)) {
        std::cout << "Cleared the backoff of " << id->str() << "; daemon (PID " << *pid
                  << ") signalled\n";
    } else {
        std::cout << "Cleared the backoff of " << id->str()
                  << " (no daemon running: it applies at the next start)\n";
    }
    return 0;
}

int heartbeat_now(const std::string& town) {
    auto reply = control_request(town, {{"cmd", "heartbeat"}}, util::Millis(120'000));
    if (!reply) {
        std::cerr << "gt daemon heartbeat: " << reply.error() << " (is the daemon running?)\n";
        return 1;
    }
    if (!reply->value("ok", false)) {
        std::cerr << "gt daemon heartbeat: " << reply->value("error", std::string("failed"))
                  << "\n";
        return 1;
    }
    std::cout << "Heartbeat #" << reply->value("heartbeat_count", 0) << ": "
              << reply->value("supervised", 0) << " supervised, " << reply->value("healthy", 0)
              << " healthy, " << reply->value("restarts", 0) << " started, "
              << reply->value("kills", 0) << " killed, took " << reply->value("duration_ms", 0)
              << "ms" << (reply->value("degraded", false) ? " (degraded: no tmux)" : "") << "\n";
    return 0;
}

int notify_daemon(const std::string& town, const std::string& agent, const std::string& exit_code,
                  const std::string& signal, const std::string& pane_pid) {
    auto id = state::parse_identity(agent);
    if (!id) {
        std::cerr << "gt daemon notify: --agent: " << id.error() << "\n";
        return 2;
    }
    nlohmann::json req = {{"cmd", "notify"}, {"identity", id->str()}};
    struct Number {
        const char* key;
        const char* flag;
        const std::string& text;
        long min;
        long max;
    };
    for (const Number& n : {Number{"exit_code", "--exit-code", exit_code, 0, 255},
                            Number{"signal", "--signal", signal, 0, 64},
                            Number{"pane_pid", "--pane-pid", pane_pid, 1, 2147483647L}}) {
        auto value = hook_number(n.flag, n.text, n.min, n.max);
        if (!value) {
            std::cerr << "gt daemon notify: " << value.error() << "\n";
            return 2;
        }
        if (*value) {
            req[n.key] = **value;
        }
    }
    auto config = state::load_town_config(town);
    auto rigs = state::load_rigs(town);
    if (!config || !rigs) {
        std::cerr << "gt daemon notify: " << (config ? rigs.error() : config.error()) << "\n";
        return 1;
    }
    std::vector<std::string> rig_names;
    for (const auto& r : *rigs) {
        rig_names.push_back(r.name);
    }
    if (auto why = not_of_town(town, *config, rig_names, *id); !why.empty()) {
        std::cerr << "gt daemon notify: --agent: '" << agent
                  << "' is not an agent of this town: " << why << "\n";
        return 2;
    }
    auto reply = control_request(town, req, util::Millis(5000));
    if (!reply || !reply->value("ok", false)) {
        std::cerr << "gt daemon notify: "
                  << (reply ? reply->value("error", std::string("refused")) : reply.error())
                  << "\n";
        return 1;
    }
    return 0;
}

} // namespace gt::client
