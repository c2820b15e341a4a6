// `gt daemon status` (declared in commands.hpp).
#include "commands.hpp"

#include "control_client.hpp"
#include "daemon/lock.hpp"
#include "probe.hpp"
#include "state/daemon_state.hpp"

#include <cerrno>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <sys/stat.h>
#include <thread>

namespace gt::client {

namespace {

using Clock = std::chrono::steady_clock;

std::string ago(const std::string& when) {
    auto t = util::parse_time(when);
    if (!t) {
        return "";
    }
    return util::format_duration(std::chrono::duration_cast<util::Millis>(util::now() - *t));
}

std::string in(const std::string& when) {
    auto t = util::parse_time(when);
    if (!t) {
        return "";
    }
    auto d = std::chrono::duration_cast<util::Millis>(*t - util::now());
    return d.count() <= 0 ? "due now" : "in " + util::format_duration(d);
}

/// True when the binary on disk is newer than the running process (an upgrade not yet applied).
bool binary_newer(pid_t pid, const std::string& started_at) {
    struct stat st {};
    std::string exe = "/proc/" + std::to_string(pid) + "/exe";
    if (::stat(exe.c_str(), &st) != 0) {
        return false;
    }
    auto started = util::parse_time(started_at);
    if (!started) {
        return false;
    }
    auto mtime = util::TimePoint(util::Millis(static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1000 +
                                              st.st_mtim.tv_nsec / 1'000'000));
    return mtime > *started;
}

void print_status(const nlohmann::json& s, const std::string& town,
                  const std::vector<std::string>& warnings) {
    auto str = [&](const char* k) { return s.value(k, std::string()); };
    std::cout << "Daemon running (PID " << s.value("pid", 0) << ")\n";
    std::cout << "  town:            " << town << "\n";
    std::cout << "  started:         " << str("started_at") << " (up " << ago(str("started_at"))
              << ")\n";
    if (str("last_heartbeat").empty()) {
        std::cout << "  last heartbeat:  none yet\n";
    } else {
        std::cout << "  last heartbeat:  " << str("last_heartbeat") << " ("
                  << ago(str("last_heartbeat")) << " ago, #" << s.value("heartbeat_count", 0)
                  << ", took " << s.value("last_heartbeat_ms", 0) << "ms, "
                  << s.value("last_heartbeat_tmux_calls", 0) << " tmux calls, "
                  << s.value("last_heartbeat_captures", 0) << " screens read)\n";
    }
    std::cout << "  next heartbeat:  " << str("next_heartbeat_at") << " ("
              << in(str("next_heartbeat_at")) << ", every "
              << util::format_duration(util::Millis(s.value("interval_ms", 0))) << ")\n";
    int alive = 0, dead = 0, blocked = 0;
    for (const auto& a : s.value("agents", nlohmann::json::array())) {
        // `alive` is null when the daemon could not see tmux (degraded): not counted as alive.
        bool is_alive = a.contains("alive") && a["alive"].is_boolean() && a["alive"].get<bool>();
        (is_alive ? alive : dead) += 1;
        blocked += a.value("gate", std::string("allowed")) != "allowed";
    }
    std::cout << "  agents:          " << alive << " alive, " << dead << " not alive";
    if (blocked) {
        std::cout << ", " << blocked << " in backoff or crash loop";
    }
    std::cout << (s.value("degraded", false) ? " (degraded: no tmux)" : "") << "\n";
    std::map<std::string, int> by_condition;
    for (const auto& a : s.value("agents", nlohmann::json::array())) {
        ++by_condition[a.value("condition", std::string("unknown"))];
    }
    if (!by_condition.empty()) {
        std::string line;
        for (const auto& [condition, n] : by_condition) {
            line += (line.empty() ? "" : ", ") + std::to_string(n) + " " + condition;
        }
        std::cout << "  conditions:      " << line << "\n";
    }
    std::string conflicts;
    for (const auto& a : s.value("agents", nlohmann::json::array())) {
        if (a.contains("conflict_town") && a["conflict_town"].is_string()) {
            std::string town = a["conflict_town"].get<std::string>();
            conflicts += (conflicts.empty() ? "" : ", ") + a.value("session", std::string("?")) +
                         (town.empty() ? " (no town's mark)" : " (town " + town + ")");
        }
    }
    if (!conflicts.empty()) {
        // design §19.1: another town's sessions hold these agents' names; none is touched.
        std::cout << "  conflicts:       " << conflicts
                  << ": sessions of this town's names that are not its own, left alone; give "
                     "each town a tmux server of its own (tmux.socket in mayor/town.json)\n";
    }
    if (!str("server_changed").empty()) {
        std::cout << "  tmux server:     CHANGED: " << str("server_changed") << "\n";
    } else if (s.contains("tmux_server") && s["tmux_server"].is_object() &&
               !s["tmux_server"].value("socket", std::string()).empty()) {
        long pid = s["tmux_server"].value("pid", 0L);
        std::cout << "  tmux server:     " << s["tmux_server"].value("socket", std::string())
                  << (pid > 0 ? " (server process " + std::to_string(pid) + ")" : "") << "\n";
    }
    if (!str("last_clock_jump").empty()) {
        std::cout << "  clock:           " << str("last_clock_jump") << " at "
                  << str("last_clock_jump_at") << " (" << ago(str("last_clock_jump_at"))
                  << " ago); start grace given again until " << str("clock_grace_until") << "\n";
    }
    if (!str("storm").empty()) {
        std::cout << "  storm:           " << str("storm") << ", since " << str("storm_since")
                  << "\n";
    }
    if (s.value("start_budget", 0) > 0) {
        std::cout << "  start budget:    " << s.value("start_budget_left", 0) << " of "
                  << s.value("start_budget", 0) << " starts left per "
                  << util::format_duration(util::Millis(s.value("start_budget_window_ms", 0)))
                  << "\n";
    }
    auto c = state::counters_from_json(s.value("counters", nlohmann::json::object()));
    std::cout << "  restarts:        " << c.restarts << " (kills " << c.kills << ", marked dead "
              << c.marked_dead << ", notifications " << c.notifications << ")\n";
    std::cout << "  socket:          " << str("socket") << "\n";
    for (const auto& w : warnings) {
        std::cout << "  warning: " << w << "\n";
    }
}

/// Asks the daemon `pid` for its status for at most 2 s. A daemon that holds the lock but has
/// not bound its socket yet (starting) or has closed it (stopping) is asked again within those
/// 2 s: only a daemon that does not answer for 2 s is hung.
util::Result<nlohmann::json> ask_status(const state::TownPaths& paths, const std::string& town,
                                        pid_t pid) {
    auto deadline = Clock::now() + std::chrono::milliseconds(2000);
    for (;;) {
        auto left = std::chrono::duration_cast<util::Millis>(deadline - Clock::now());
        auto reply = control_request(town, {{"cmd", "status"}}, std::max(left, util::Millis(1)));
        // Not listening yet (starting), or closing its socket (stopping): ask again.
        int e = reply ? 0 : reply.error_code();
        bool passing = e == ENOENT || e == ECONNREFUSED || e == ECONNRESET || e == EPIPE;
        if (reply || !passing || Clock::now() >= deadline) {
            return reply;
        }
        if (auto holder = daemon::lock_holder(paths.lock_file()); !holder || *holder != pid) {
            return reply; // it went away while we asked
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
}

} // namespace

int status_daemon(const std::string& town, bool as_json) {
    state::TownPaths paths(town);
    Probe p = probe(paths);
    if (!p.pid) {
        if (as_json) {
            nlohmann::json j = {{"running", false}, {"town", town}};
            if (p.stale) {
                j["stale_pid_file_removed"] = *p.stale;
            }
            std::cout << j.dump(2) << "\n";
        } else {
            report_stale(p);
            std::cout << "Daemon is not running\n";
        }
        return k_status_not_running;
    }
    auto reply = ask_status(paths, town, *p.pid);
    if (!reply && daemon::lock_holder(paths.lock_file()) != p.pid) {
        // It stopped while we asked: not running (and not hung).
        return status_daemon(town, as_json);
    }
    if (!reply) {
        std::string why = "the daemon (PID " + std::to_string(*p.pid) +
                          ") holds the lock but is not responding: " + reply.error();
        if (as_json) {
            std::cout << nlohmann::json({{"running", true},
                                         {"responding", false},
                                         {"pid", *p.pid},
                                         {"town", town},
                                         {"error", why}})
                             .dump(2)
                      << "\n";
        } else {
            std::cout << "Daemon hung: " << why << "\n  (gt daemon stop works on a hung daemon)\n";
        }
        return k_status_hung;
    }
    nlohmann::json s = std::move(*reply);
    s.erase("ok");
    std::vector<std::string> warnings;
    if (binary_newer(*p.pid, s.value("started_at", std::string()))) {
        warnings.push_back(
            "the gt binary is newer than the running daemon: run 'gt daemon restart'");
    }
    if (as_json) {
        s["running"] = true;
        s["responding"] = true;
        s["warnings"] = warnings;
        std::cout << s.dump(2) << "\n";
    } else {
        print_status(s, town, warnings);
    }
    return k_status_running;
}

} // namespace gt::client
