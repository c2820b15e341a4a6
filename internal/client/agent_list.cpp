#include "agent_list.hpp"

#include "executor/agent_table.hpp"
#include "executor/recovery.hpp"
#include "policy/decide.hpp"
#include "policy/restart_tracker.hpp"
#include "proc/process.hpp"
#include "state/agent_state.hpp"
#include "state/config.hpp"
#include "state/town.hpp"

#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>
#include <optional>

namespace gt::client {

using nlohmann::json;

using policy::RestartTracker;

namespace {

std::string age_text(long long age_ms) {
    if (age_ms < 1000) {
        return "0s";
    }
    return util::format_duration(
        std::chrono::duration_cast<std::chrono::seconds>(util::Millis(age_ms)));
}

/// The human form of the agent table (executor::agent_table()).
void print_table(const json& rows) {
    std::printf("%-28s %-9s %-24s %-7s %-9s %-8s %-14s %-8s %s\n", "IDENTITY", "ROLE", "SESSION",
                "ALIVE", "STATE", "AGE", "HOOK", "RESTARTS", "BACKOFF");
    for (const auto& r : rows) {
        std::string alive = r["alive"].is_null()              ? "?"
                            : r["alive"].get<bool>()          ? "yes"
                            : r["session_exists"].get<bool>() ? "zombie"
                                                              : "no";
        bool reported = r["state"].is_string();
        std::string st = reported ? r["state"].get<std::string>() : "-";
        std::string age = reported ? age_text(r["age_ms"].get<long long>()) : "-";
        std::string hook = r["hook"].get<std::string>();
        std::string gate = r["gate"] == "allowed" ? "-" : r["gate"].get<std::string>();
        if (r.contains("blocked_until")) {
            gate += " until " + r["blocked_until"].get<std::string>();
        }
        std::printf("%-28s %-9s %-24s %-7s %-9s %-8s %-14s %-8d %s\n",
                    r["identity"].get<std::string>().c_str(), r["role"].get<std::string>().c_str(),
                    r["session"].get<std::string>().c_str(), alive.c_str(), st.c_str(), age.c_str(),
                    hook.empty() ? "-" : hook.c_str(), r["restarts"].get<int>(), gate.c_str());
    }
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
    for (const auto& f : state::list_agent_files(town)) {
        policy::AgentFacts& facts = in.agents[f.id.str()];
        facts.id = f.id;
        if (auto report = state::read_agent_state(f.path)) {
            facts.report = *report;
        } else {
            facts.report_error = report.error();
        }
    }
    const auto supervised = policy::supervised(in);
    for (const auto& id : supervised) {
        in.agents.try_emplace(id.str(), policy::AgentFacts{id, std::nullopt, true});
    }

    proc::RealProcessRunner runner;
    tmux::TmuxClient tmux(runner, state::choose_tmux_socket(*config, *env_socket),
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
    in.now = util::now();
    json rows = executor::agent_table(in, supervised, tmux_known ? &*snap : nullptr, tracker);
    if (as_json) {
        std::cout << rows.dump(2) << "\n";
    } else {
        print_table(rows);
    }
    return 0;
}

} // namespace gt::client
