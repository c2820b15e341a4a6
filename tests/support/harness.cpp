#include "support/harness.hpp"

#include "state/json_file.hpp"

#include <algorithm>
#include <csignal>
#include <dirent.h>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <unistd.h>

namespace gt::test {

proc::RunResult run_gt(const std::vector<std::string>& args, const std::vector<std::string>& env,
                       std::chrono::milliseconds timeout) {
    proc::RealProcessRunner runner;
    proc::RunOptions o;
    o.argv = {GT_BINARY};
    o.argv.insert(o.argv.end(), args.begin(), args.end());
    o.timeout = timeout;
    std::vector<std::string> set = env;
    bool has_socket = std::any_of(env.begin(), env.end(), [](const std::string& kv) {
        return kv.rfind("GT_TMUX_SOCKET=", 0) == 0;
    });
    if (!has_socket) {
        set.push_back("GT_TMUX_SOCKET=" + default_tmux_socket()); // never the user's server
    }
    o.env = proc::make_env({"GT_TOWN_ROOT", "GT_ROLE", "GT_RIG", "GT_POLECAT", "GT_CREW",
                            "BD_ACTOR", "GT_TMUX_SOCKET", "TMUX", "TMUX_PANE"},
                           set);
    auto r = runner.run(o);
    if (!r) {
        throw std::runtime_error("cannot run gt: " + r.error());
    }
    return *r;
}

proc::RunResult run_command(const std::vector<std::string>& argv,
                            const std::vector<std::string>& env) {
    proc::RealProcessRunner runner;
    proc::RunOptions o;
    o.argv = argv;
    o.timeout = std::chrono::seconds(30);
    o.env = proc::make_env({}, env);
    auto r = runner.run(o);
    if (!r) {
        throw std::runtime_error("cannot run " + argv.at(0) + ": " + r.error());
    }
    return *r;
}

std::string default_tmux_socket() {
    return "gt-test-" + std::to_string(::getpid()) + "-default";
}

void kill_default_tmux_server() {
    proc::RealProcessRunner runner;
    proc::RunOptions o;
    o.argv = {"tmux", "-L", default_tmux_socket(), "kill-server"};
    o.env = proc::make_env({"TMUX", "TMUX_PANE"});
    (void)runner.run(o);
}

bool eventually(const std::function<bool()>& pred, std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
        if (pred()) {
            return true;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return pred();
}

namespace {

pid_t parent_of(pid_t pid) {
    std::string stat = slurp("/proc/" + std::to_string(pid) + "/stat");
    auto close = stat.rfind(')');
    if (close == std::string::npos || close + 4 >= stat.size()) {
        return 0;
    }
    return static_cast<pid_t>(std::strtol(stat.c_str() + close + 4, nullptr, 10));
}

} // namespace

std::vector<pid_t> daemon_pids(const std::string& town) {
    std::vector<pid_t> out;
    std::vector<std::pair<pid_t, pid_t>> candidates; // pid, parent
    DIR* d = ::opendir("/proc");
    if (!d) {
        return out;
    }
    while (dirent* e = ::readdir(d)) {
        char* end = nullptr;
        long pid = std::strtol(e->d_name, &end, 10);
        if (*end != '\0' || pid <= 0) {
            continue;
        }
        std::string cmdline = slurp("/proc/" + std::string(e->d_name) + "/cmdline");
        std::vector<std::string> argv;
        std::stringstream ss(cmdline);
        std::string arg;
        while (std::getline(ss, arg, '\0')) {
            argv.push_back(arg);
        }
        bool is_daemon = false;
        bool our_town = false;
        for (std::size_t i = 0; i + 1 < argv.size(); ++i) {
            is_daemon = is_daemon || (argv[i] == "daemon" && argv[i + 1] == "run");
            our_town = our_town || (argv[i] == "--town" && argv[i + 1] == town);
        }
        if (is_daemon && our_town && proc::process_alive(static_cast<pid_t>(pid))) {
            candidates.emplace_back(static_cast<pid_t>(pid), parent_of(static_cast<pid_t>(pid)));
        }
    }
    ::closedir(d);
    // A child the daemon is spawning (tmux) shows the daemon's command line until it execs.
    for (auto [pid, ppid] : candidates) {
        bool child_of_daemon = std::any_of(candidates.begin(), candidates.end(),
                                           [&](const auto& c) { return c.first == ppid; });
        if (!child_of_daemon) {
            out.push_back(pid);
        }
    }
    return out;
}

std::string slurp(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

TownFixture::TownFixture() : m_dir("gt-town") {
    m_root = m_dir.path() + "/town";
    auto r = run_gt({"init", m_root, "--name", "testtown"});
    if (!r.success()) {
        throw std::runtime_error("gt init failed: " + r.err);
    }
    // The daemon supervises a deacon: let it be a harmless process on a private server.
    std::string path = m_root + "/mayor/town.json";
    auto doc = nlohmann::json::parse(slurp(path));
    doc["roles"]["deacon"]["command"] = {"sleep", "1000"};
    doc["agent"]["command"] = {"sleep", "1000"};
    if (!state::write_json(path, doc)) {
        throw std::runtime_error("cannot write " + path);
    }
}

TownFixture::~TownFixture() {
    run_gt({"--town", m_root, "daemon", "stop", "--timeout", "2s"});
    for (pid_t pid : daemon_pids(m_root)) {
        ::kill(pid, SIGKILL);
    }
    kill_default_tmux_server();
}

proc::RunResult TownFixture::gt(std::vector<std::string> args,
                                const std::vector<std::string>& env) const {
    args.insert(args.begin(), {"--town", m_root});
    return run_gt(args, env);
}

void TownFixture::set_daemon_field(const std::string& key, const std::string& json_value) const {
    std::string path = m_root + "/mayor/town.json";
    auto doc = nlohmann::json::parse(slurp(path));
    doc["daemon"][key] = nlohmann::json::parse(json_value);
    if (!state::write_json(path, doc)) {
        throw std::runtime_error("cannot write " + path);
    }
}

pid_t TownFixture::pid_from_file() const {
    std::string text = slurp(m_root + "/daemon/daemon.pid");
    return static_cast<pid_t>(std::strtol(text.c_str(), nullptr, 10));
}

} // namespace gt::test
