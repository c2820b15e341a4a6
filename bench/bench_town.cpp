#include "bench_town.hpp"

#include "proc/process.hpp"
#include "state/agent_state.hpp"
#include "state/json_file.hpp"
#include "state/town.hpp"
#include "support/harness.hpp"
#include "util/file.hpp"
#include "util/text.hpp"
#include "util/time.hpp"

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <iostream>
#include <sstream>
#include <stdexcept>
#include <sys/stat.h>
#include <unistd.h>

namespace gt::bench {

using nlohmann::json;

double ms_since(Clock::time_point start) {
    return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

void progress(const std::string& line) {
    std::time_t t = std::time(nullptr);
    char stamp[16];
    std::strftime(stamp, sizeof stamp, "%H:%M:%S", std::localtime(&t));
    std::cerr << "[" << stamp << "] " << line << std::endl;
}

std::vector<std::string> add_agents(const test::TmuxTown& town, int n) {
    if (n < 3) {
        throw std::invalid_argument("a town has at least 3 agents here");
    }
    const bool mayor = n % 2 == 0;
    const int rigs = (n - 1 - (mayor ? 1 : 0)) / 2;
    std::vector<std::string> sessions{"gt-deacon"};
    if (mayor) {
        sessions.push_back("gt-mayor");
        town.configure({{"roles", {{"mayor", {{"enabled", true}}}}}});
    }
    json doc = {{"version", 1}, {"rigs", json::object()}};
    const std::string added = util::format_time(util::now());
    for (int i = 1; i <= rigs; ++i) {
        const std::string rig = "r" + std::to_string(i);
        const std::string base = town.root() + "/" + rig;
        for (const auto& dir :
             {base + "/witness", base + "/refinery/rig", base + "/crew", base + "/polecats"}) {
            if (!util::make_dirs(dir, 0755)) {
                throw std::runtime_error("cannot create " + dir);
            }
        }
        doc["rigs"][rig] = {{"git_url", ""}, {"added_at", added}};
        sessions.push_back("gt-" + rig + "-witness");
        sessions.push_back("gt-" + rig + "-refinery");
    }
    if (!state::write_json(town.root() + "/mayor/rigs.json", doc)) {
        throw std::runtime_error("cannot write rigs.json");
    }
    return sessions;
}

namespace {

/// The identity whose session is `session` (`gt-deacon`, `gt-mayor`, `gt-<rig>-witness`,
/// `gt-<rig>-refinery`: the sessions add_agents() makes).
state::Identity identity_of(const std::string& session) {
    std::string rest = session.substr(3);
    if (rest == "deacon" || rest == "mayor") {
        return *state::parse_identity(rest);
    }
    auto dash = rest.rfind('-');
    return *state::parse_identity(rest.substr(0, dash) + "/" + rest.substr(dash + 1));
}

} // namespace

void start_agents_in_bulk(const test::TmuxTown& town, const std::vector<std::string>& sessions) {
    const state::TownPaths paths(town.root());
    for (const auto& session : sessions) {
        state::Identity id = identity_of(session);
        state::AgentState report;
        report.identity = id.str();
        report.status = state::AgentStatus::running;
        report.raw_state = "running";
        report.updated_at = util::now();
        const std::string path = paths.agent_file(id);
        (void)util::make_dirs(path.substr(0, path.rfind('/')), 0755);
        std::ofstream(path, std::ios::trunc) << state::agent_state_json(report);
    }
    auto workdir = [&](const std::string& session) {
        return state::workdir_for(town.root(), identity_of(session));
    };
    // source-file needs a running server: the first session starts it.
    auto r = town.tmux({"new-session", "-d", "-s", sessions.at(0), "-c", workdir(sessions[0]),
                        "sleep", "1000000"});
    test::TempDir dir("gt-bench-sessions");
    const std::string file = dir.path() + "/batch.tmux";
    const std::size_t batch = 500;
    for (std::size_t first = 1; r.success() && first < sessions.size(); first += batch) {
        std::ofstream out(file, std::ios::trunc);
        for (std::size_t i = first; i < std::min(first + batch, sessions.size()); ++i) {
            out << "new-session -d -s " << sessions[i] << " -c "
                << util::shell_word(workdir(sessions[i])) << " sleep 1000000\n";
        }
        out.close();
        // 500 new sessions take the server seconds once it holds thousands: no 5 s limit here.
        proc::RealProcessRunner runner;
        proc::RunOptions o;
        o.argv = {"tmux", "-L", town.socket(), "source-file", file};
        o.env = proc::make_env({"TMUX", "TMUX_PANE"});
        o.timeout = std::chrono::minutes(10);
        auto run = runner.run(o);
        if (!run) {
            throw std::runtime_error("cannot run tmux: " + run.error());
        }
        r = *run;
    }
    if (!r.success()) {
        throw std::runtime_error("tmux source-file: " + r.describe() + ": " + r.err.substr(0, 300));
    }
}

long free_ptys() {
    auto number = [](const char* path) {
        std::string text = test::slurp(path);
        return text.empty() ? -1L : std::strtol(text.c_str(), nullptr, 10);
    };
    long max = number("/proc/sys/kernel/pty/max");
    long used = number("/proc/sys/kernel/pty/nr");
    return max < 0 || used < 0 ? -1 : max - used;
}

void configure_sleepers(const test::TmuxTown& town, const std::string& heartbeat_interval) {
    town.set_all_commands({"sleep", "1000000"});
    json daemon = {{"start_grace", "0s"}};
    if (!heartbeat_interval.empty()) {
        daemon["heartbeat_interval"] = heartbeat_interval;
    }
    town.configure({{"daemon", daemon}});
}

double timed_run(const std::vector<std::string>& argv) {
    proc::RealProcessRunner runner;
    proc::RunOptions o;
    o.argv = argv;
    o.timeout = std::chrono::minutes(2);
    o.env = proc::make_env({"TMUX", "TMUX_PANE"});
    auto start = Clock::now();
    auto r = runner.run(o);
    double ms = ms_since(start);
    return r && r->success() ? ms : -1;
}

json trigger_heartbeat(const test::TmuxTown& town, std::chrono::milliseconds timeout) {
    long before = town.heartbeats();
    pid_t pid = town.pid_from_state();
    if (pid <= 0 || ::kill(pid, SIGUSR1) != 0) {
        return nullptr;
    }
    if (!test::eventually([&] { return town.heartbeats() > before; }, timeout)) {
        return nullptr;
    }
    return town.state();
}

std::map<std::string, long> live_panes(const test::TmuxTown& town) {
    auto r = town.tmux({"list-panes", "-a", "-F", "#{session_name}\t#{pane_pid}\t#{pane_dead}"});
    std::map<std::string, long> out;
    std::istringstream in(r.out);
    std::string line;
    while (std::getline(in, line)) {
        auto a = line.find('\t');
        auto b = line.find('\t', a + 1);
        if (a == std::string::npos || b == std::string::npos || line.substr(b + 1) == "1") {
            continue;
        }
        out.emplace(line.substr(0, a), std::strtol(line.c_str() + a + 1, nullptr, 10));
    }
    return out;
}

namespace {

std::string find_on_path(const std::string& name) {
    const char* path = std::getenv("PATH");
    std::istringstream dirs(path ? path : "/usr/bin:/bin");
    std::string dir;
    while (std::getline(dirs, dir, ':')) {
        std::string candidate = dir + "/" + name;
        if (::access(candidate.c_str(), X_OK) == 0) {
            return candidate;
        }
    }
    throw std::runtime_error(name + " is not on PATH");
}

} // namespace

CountingTmux::CountingTmux() : m_dir("gt-bench-tmux"), m_log(m_dir.path() + "/tmux.log") {
    const std::string script = m_dir.path() + "/tmux";
    std::ofstream out(script);
    // One line per invocation, written before the exec: what the daemon asked for, not what
    // tmux did with it.
    out << "#!/bin/sh\necho \"$*\" >> '" << m_log << "'\nexec '" << find_on_path("tmux")
        << "' \"$@\"\n";
    out.close();
    ::chmod(script.c_str(), 0755);
}

std::string CountingTmux::path_env() const {
    const char* path = std::getenv("PATH");
    return "PATH=" + m_dir.path() + ":" + (path ? path : "/usr/bin:/bin");
}

long CountingTmux::calls() const {
    std::string text = test::slurp(m_log);
    return static_cast<long>(std::count(text.begin(), text.end(), '\n'));
}

std::vector<std::string> CountingTmux::last(long n) const {
    std::vector<std::string> lines;
    std::istringstream in(test::slurp(m_log));
    std::string line;
    while (std::getline(in, line)) {
        lines.push_back(line.substr(0, 160));
    }
    if (static_cast<long>(lines.size()) > n) {
        lines.erase(lines.begin(), lines.end() - n);
    }
    return lines;
}

} // namespace gt::bench
