#include "agent_list.hpp"

#include "commands.hpp"
#include "control_client.hpp"
#include "executor/agent_table.hpp"
#include "executor/recovery.hpp"
#include "executor/screen_memory.hpp"
#include "executor/screens.hpp"
#include "policy/decide.hpp"
#include "policy/ownership.hpp"
#include "policy/restart_tracker.hpp"
#include "proc/process.hpp"
#include "state/agent_state.hpp"
#include "state/config.hpp"
#include "state/town.hpp"

#include <cstdio>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>

namespace gt::client {

using nlohmann::json;

using policy::RestartTracker;

namespace {

/// A reset time on the local clock: `15:00` within a day, else `Nov 26 19:58`.
std::string local_time_text(const std::string& rfc3339) {
    auto t = util::parse_time(rfc3339);
    if (!t) {
        return rfc3339;
    }
    static const util::TimeZone zone = util::TimeZone::local();
    util::CivilTime c = zone.to_local(*t);
    static const char* months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    char buf[32];
    if (*t - util::now() < std::chrono::hours(24)) {
        std::snprintf(buf, sizeof buf, "%02d:%02d", c.hour, c.minute);
    } else {
        std::snprintf(buf, sizeof buf, "%s %d %02d:%02d", months[(c.month + 11) % 12], c.day,
                      c.hour, c.minute);
    }
    return buf;
}

/// The CONDITION column: `working`, `usage limit, resets 15:00`, `waiting: Do you want to
/// proceed?`, `blocked: Sign in with ChatGPT`, `exited 1: Unable to connect to …`.
std::string condition_text(const json& r) {
    std::string c = r.value("condition", "unknown");
    std::string evidence = r.value("evidence", "");
    auto with = [&](std::string head) { return evidence.empty() ? head : head + ": " + evidence; };
    if (c == "usage_limited") {
        std::string resets = r["resets_at"].is_string()
                                 ? ", resets " + local_time_text(r["resets_at"].get<std::string>())
                                 : "";
        return "usage limit" + resets;
    }
    if (c == "waiting_input") {
        return with("waiting");
    }
    if (c == "startup_blocked") {
        return with("blocked");
    }
    if (c == "auth_failed") {
        return with("auth failed");
    }
    if (c == "offline") {
        return with("offline");
    }
    if (c == "exited") {
        std::string head = "exited";
        if (r.contains("exit_signal") && r["exit_signal"].is_number() &&
            r["exit_signal"].get<int>() > 0) {
            head += " signal " + std::to_string(r["exit_signal"].get<int>());
        } else if (r.contains("exit_status") && r["exit_status"].is_number()) {
            head += " " + std::to_string(r["exit_status"].get<int>());
        }
        return with(head);
    }
    return c;
}

/// The CONDITION column of an agent whose session name another town's session holds.
std::string conflict_text(const json& r) {
    std::string town = r.value("conflict_town", "");
    return "conflict: the session " +
           (town.empty() ? std::string("carries no town's mark") : "is the town " + town + "'s") +
           "; left alone";
}

std::string age_text(long long age_ms) {
    if (age_ms < 1000) {
        return "0s";
    }
    return util::format_duration(
        std::chrono::duration_cast<std::chrono::seconds>(util::Millis(age_ms)));
}

/// What only the running daemon knows: why it waits to type into an agent (design §19.3).
/// Nothing when no daemon answers within a second.
void note_typing_held(const std::string& town, json& rows) {
    auto reply = control_request(town, {{"cmd", "status"}}, util::Millis(1000));
    if (!reply || !reply->value("ok", false) || !reply->contains("agents") ||
        !(*reply)["agents"].is_array()) {
        return;
    }
    std::map<std::string, std::string> held;
    for (const auto& a : (*reply)["agents"]) {
        if (a.is_object() && a.contains("typing_held") && a["typing_held"].is_string()) {
            held[a.value("identity", "")] = a["typing_held"].get<std::string>();
        }
    }
    for (auto& r : rows) {
        if (auto it = held.find(r.value("identity", "")); it != held.end()) {
            r["typing_held"] = it->second;
        }
    }
}

/// The human form of the agent table (executor::agent_table_json()).
void print_table(const json& rows) {
    std::printf("%-28s %-9s %-24s %-7s %-9s %-8s %-14s %-8s %-10s %s\n", "IDENTITY", "ROLE",
                "SESSION", "ALIVE", "STATE", "AGE", "HOOK", "RESTARTS", "BACKOFF", "CONDITION");
    for (const auto& r : rows) {
        const bool conflict = r.contains("conflict_town");
        std::string alive = r["alive"].is_null()              ? "?"
                            : r["alive"].get<bool>()          ? "yes"
                            : conflict                        ? "foreign"
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
        std::printf(
            "%-28s %-9s %-24s %-7s %-9s %-8s %-14s %-8d %-10s %s\n",
            r["identity"].get<std::string>().c_str(), r["role"].get<std::string>().c_str(),
            r["session"].get<std::string>().c_str(), alive.c_str(), st.c_str(), age.c_str(),
            hook.empty() ? "-" : hook.c_str(), r["restarts"].get<int>(), gate.c_str(),
            conflict ? conflict_text(r).c_str()
            : r.contains("typing_held")
                ? (condition_text(r) + "; waits to type: " + r["typing_held"].get<std::string>())
                      .c_str()
                : condition_text(r).c_str());
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
        return failure_exit_code(config.error_code());
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
    // Every agent is listed, whatever is wrong with one file: the bad ones are named.
    std::vector<std::string> not_files;
    for (const auto& f : state::list_agent_files(town, nullptr, &not_files)) {
        policy::AgentFacts& facts = in.agents[f.id.str()];
        facts.id = f.id;
        if (auto report = state::read_agent_state(f.path)) {
            facts.report = *report;
        } else {
            facts.report_error = report.error();
            std::cerr << "warning: " << report.error() << "\n";
        }
    }
    for (const auto& bad : not_files) {
        std::cerr << "warning: " << bad << "\n";
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
        // Only the town's own sessions are its agents' (design §19.1); an unmarked one an
        // earlier gt started for it counts as its own, as the daemon will adopt it.
        in.foreign = policy::sort_owners(*snap, tmux::town_mark(town),
                                         [&](const std::string& name, const tmux::Pane&) {
                                             auto env = tmux.environment(name, "GT_TOWN_ROOT");
                                             return env && *env == town;
                                         })
                         .foreign;
    }
    RestartTracker tracker(config->daemon.restart);
    if (auto records = state::RestartStateFile(state::TownPaths(town)).load()) {
        tracker.replace(std::move(*records));
    } else {
        std::cerr << "warning: " << records.error() << "; restarts and backoffs unknown\n";
    }
    in.now = util::now();
    if (tmux_known) {
        // What each screen shows now, read as the daemon reads it: with what it remembers
        // (since when, the resume typed after a limit, whose banner is history).
        in.snapshot = *snap;
        policy::ScreenWatch watch;
        if (auto restored = executor::restore_screens(state::TownPaths(town).screens_file(), watch);
            !restored) {
            std::cerr << "warning: " << restored.error() << "; screens read afresh\n";
        }
        auto look = executor::look_at_screens(
            in, *config, tmux, watch, {in.now, util::TimeZone::local(), executor::cached_zones()});
        if (!look.error.empty()) {
            std::cerr << "warning: screens unknown: " << look.error << "\n";
        }
    }
    json rows = executor::agent_table_json(
        executor::agent_rows(in, supervised, tmux_known ? &*snap : nullptr, tracker));
    note_typing_held(town, rows);
    if (as_json) {
        std::cout << rows.dump(2) << "\n";
    } else {
        print_table(rows);
    }
    return 0;
}

} // namespace gt::client
