#include "support/tmux_town.hpp"

#include "state/json_file.hpp"

#include <atomic>
#include <csignal>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <unistd.h>

namespace gt::test {

using nlohmann::json;

namespace {

std::string unique_socket() {
    static std::atomic<int> n{0};
    return "gt-test-" + std::to_string(::getpid()) + "-" + std::to_string(n++);
}

} // namespace

TmuxTown::TmuxTown(bool demo, const std::string& dir_name, const std::string& parent)
    : m_dir("gt-tmux-town"), m_socket(unique_socket()) {
    m_root = (parent.empty() ? m_dir.path() : parent) + "/" + dir_name;
    std::vector<std::string> init{"init", m_root, "--name", "tmuxtown"};
    if (demo) {
        init.push_back("--demo");
    }
    auto r = run_gt(init);
    if (!r.success()) {
        throw std::runtime_error("gt init failed: " + r.err);
    }
    if (!demo && !gt({"rig", "add", "r1"}).success()) {
        throw std::runtime_error("gt rig add failed");
    }
}

TmuxTown::~TmuxTown() {
    gt({"daemon", "stop", "--timeout", "2s"});
    for (pid_t pid : daemon_pids(m_root)) {
        ::kill(pid, SIGKILL);
    }
    tmux({"kill-server"});
    for (const auto& socket : m_used) {
        proc::RealProcessRunner runner;
        proc::RunOptions o;
        o.argv = {"tmux", "-L", socket, "kill-server"};
        (void)runner.run(o);
    }
}

proc::RunResult TmuxTown::gt(std::vector<std::string> args,
                             const std::vector<std::string>& env) const {
    args.insert(args.begin(), {"--town", m_root});
    std::vector<std::string> full{"GT_TMUX_SOCKET=" + m_socket};
    full.insert(full.end(), env.begin(), env.end());
    return run_gt(args, full);
}

proc::RunResult TmuxTown::tmux(std::vector<std::string> args) const {
    proc::RealProcessRunner runner;
    proc::RunOptions o;
    o.argv = {"tmux", "-L", m_socket};
    o.argv.insert(o.argv.end(), args.begin(), args.end());
    o.env = proc::make_env({"TMUX", "TMUX_PANE"});
    auto r = runner.run(o);
    if (!r) {
        throw std::runtime_error("cannot run tmux: " + r.error());
    }
    return *r;
}

void TmuxTown::configure(const json& patch) const {
    std::string path = m_root + "/mayor/town.json";
    auto doc = json::parse(slurp(path));
    doc.merge_patch(patch);
    if (!state::write_json(path, doc)) {
        throw std::runtime_error("cannot write " + path);
    }
}

void TmuxTown::set_all_commands(const std::vector<std::string>& argv) const {
    json roles = json::object();
    for (const char* role : {"deacon", "mayor", "witness", "refinery", "polecat"}) {
        roles[role] = {{"command", argv}};
    }
    configure({{"roles", roles}, {"agent", {{"command", argv}}}});
}

std::optional<long> TmuxTown::pane_pid(const std::string& session) const {
    auto r = tmux({"list-panes", "-a", "-F", "#{session_name}\t#{pane_pid}\t#{pane_dead}"});
    std::istringstream in(r.out);
    std::string line;
    while (std::getline(in, line)) {
        std::istringstream fields(line);
        std::string name, pid, dead;
        std::getline(fields, name, '\t');
        std::getline(fields, pid, '\t');
        std::getline(fields, dead, '\t');
        if (name == session) {
            return dead == "1" ? std::nullopt : std::optional<long>(std::stol(pid));
        }
    }
    return std::nullopt;
}

std::vector<std::string> TmuxTown::sessions() const {
    auto r = tmux({"list-sessions", "-F", "#{session_name}"});
    std::vector<std::string> out;
    std::istringstream in(r.out);
    std::string line;
    while (std::getline(in, line)) {
        out.push_back(line);
    }
    return out;
}

std::string TmuxTown::capture(const std::string& session) const {
    return tmux({"capture-pane", "-p", "-t", "=" + session + ":"}).out;
}

json TmuxTown::state() const {
    auto doc = json::parse(slurp(m_root + "/daemon/state.json"), nullptr, false);
    return doc.is_discarded() ? json::object() : doc;
}

long TmuxTown::heartbeats() const {
    auto s = state();
    return s.contains("heartbeat_count") ? s["heartbeat_count"].get<long>() : 0;
}

pid_t TmuxTown::pid_from_state() const {
    auto s = state();
    return s.contains("pid") && s["pid"].is_number() ? s["pid"].get<pid_t>() : 0;
}

bool TmuxTown::wait_heartbeats(long n, std::chrono::milliseconds timeout) const {
    long target = heartbeats() + n;
    return eventually([&] { return heartbeats() >= target; }, timeout);
}

std::vector<json> TmuxTown::events() const {
    std::vector<json> out;
    std::istringstream in(slurp(m_root + "/daemon/events.jsonl"));
    std::string line;
    while (std::getline(in, line)) {
        auto j = json::parse(line, nullptr, false);
        if (!j.is_discarded()) {
            out.push_back(std::move(j));
        }
    }
    return out;
}

std::vector<json> TmuxTown::events(const std::string& kind, const std::string& identity) const {
    std::vector<json> out;
    for (auto& e : events()) {
        if (e.value("kind", "") == kind &&
            (identity.empty() || e.value("identity", "") == identity)) {
            out.push_back(e);
        }
    }
    return out;
}

std::string TmuxTown::log() const {
    return slurp(m_root + "/daemon/daemon.log");
}

void TmuxTown::write_file(const std::string& relative, const std::string& content) const {
    std::string path = m_root + "/" + relative;
    std::string tmp = path + ".test-tmp";
    {
        std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
        out << content;
    }
    if (::rename(tmp.c_str(), path.c_str()) != 0) {
        throw std::runtime_error("cannot write " + path);
    }
}

std::size_t TmuxTown::alive_sessions() const {
    std::size_t n = 0;
    for (const auto& s : sessions()) {
        n += pane_pid(s).has_value();
    }
    return n;
}

void TmuxTown::add_polecats(int n) const {
    for (int i = 0; i < n; ++i) {
        auto r = gt({"polecat", "add", "r1", "p" + std::to_string(i), "--hook", "gt-1"});
        if (!r.success()) {
            throw std::runtime_error("gt polecat add failed: " + r.err);
        }
    }
}

} // namespace gt::test
