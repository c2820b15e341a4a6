// Run the way a service manager runs it (design §18): the notify protocol against a socket the
// test owns, metrics.prom read by a real Prometheus parser, and a stop and start that leave
// every agent where it was.
#include "proc/process.hpp"
#include "support/tmux_town.hpp"
#include "util/fd.hpp"
#include "util/file.hpp"

#include <csignal>
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <thread>

using namespace std::chrono_literals;
using gt::test::eventually;
using gt::test::has;
using gt::test::TmuxTown;
using json = nlohmann::json;

namespace {

/// The service manager's end of the notify protocol: a datagram socket the daemon sends to.
class NotifySocket {
public:
    NotifySocket() : m_dir("gt-notify"), m_path(m_dir.path() + "/notify") {
        m_fd.reset(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
        sockaddr_un addr{};
        addr.sun_family = AF_UNIX;
        std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", m_path.c_str());
        EXPECT_EQ(::bind(m_fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    }
    const std::string& path() const { return m_path; }

    /// The next message, or "" when none came within `wait`.
    std::string next(std::chrono::milliseconds wait) {
        pollfd p{m_fd.get(), POLLIN, 0};
        if (::poll(&p, 1, static_cast<int>(wait.count())) != 1) {
            return "";
        }
        char buf[4096];
        ssize_t n = ::recv(m_fd.get(), buf, sizeof buf, 0);
        return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : "";
    }
    /// Every message that comes within `window`.
    std::vector<std::string> during(std::chrono::milliseconds window) {
        std::vector<std::string> got;
        auto end = std::chrono::steady_clock::now() + window;
        for (auto now = std::chrono::steady_clock::now(); now < end;
             now = std::chrono::steady_clock::now()) {
            if (auto m = next(std::chrono::duration_cast<std::chrono::milliseconds>(end - now));
                !m.empty()) {
                got.push_back(m);
            }
        }
        return got;
    }
    /// Waits for a message containing `needle`; returns it, or "".
    std::string wait_for(const std::string& needle, std::chrono::milliseconds timeout) {
        auto end = std::chrono::steady_clock::now() + timeout;
        while (std::chrono::steady_clock::now() < end) {
            if (auto m = next(100ms); has(m, needle)) {
                return m;
            }
        }
        return "";
    }

private:
    gt::test::TempDir m_dir;
    std::string m_path;
    gt::util::Fd m_fd;
};

std::size_t count(const std::vector<std::string>& messages, const std::string& needle) {
    return static_cast<std::size_t>(std::count_if(
        messages.begin(), messages.end(), [&](const std::string& m) { return has(m, needle); }));
}

/// `gt daemon run` in the foreground, as a service manager starts it.
pid_t run_daemon(const TmuxTown& t, const std::vector<std::string>& env) {
    gt::proc::SpawnOptions so;
    so.argv = {GT_BINARY, "--town", t.root(), "daemon", "run"};
    std::vector<std::string> add = env;
    add.push_back("GT_TMUX_SOCKET=" + t.socket());
    so.env = gt::proc::make_env({"GT_TOWN_ROOT", "TMUX", "NOTIFY_SOCKET", "WATCHDOG_USEC",
                                 "WATCHDOG_PID", "INVOCATION_ID", "MEMORY_PRESSURE_WATCH",
                                 "SYSTEMD_EXEC_PID", "JOURNAL_STREAM"},
                                add);
    auto pid = gt::proc::spawn(so);
    EXPECT_TRUE(pid.ok()) << (pid.ok() ? "" : pid.error());
    return pid.ok() ? *pid : -1;
}

int wait_exit(pid_t pid, std::chrono::milliseconds timeout) {
    int status = 0;
    if (!gt::proc::wait_for_exit(pid, timeout, status)) {
        ::kill(pid, SIGKILL);
        gt::proc::wait_for_exit(pid, 5s, status);
        return -1;
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

std::string environ_of(long pid) {
    std::string env = gt::test::slurp("/proc/" + std::to_string(pid) + "/environ");
    std::replace(env.begin(), env.end(), '\0', '\n');
    return env;
}

} // namespace

TEST(NotifyProtocol, ReadyThenWatchdogPingsThatAStoppedLoopStopsThenStoppingOnSigterm) {
    TmuxTown t;
    t.set_all_commands({"sleep", "1000"});
    t.configure({{"daemon", {{"heartbeat_interval", "300ms"}}}});
    NotifySocket manager;
    pid_t pid = run_daemon(t, {"NOTIFY_SOCKET=" + manager.path(), "WATCHDOG_USEC=200000",
                               "INVOCATION_ID=0123456789abcdef0123456789abcdef",
                               "MEMORY_PRESSURE_WATCH=/sys/fs/cgroup/gt.service/memory.pressure",
                               "SYSTEMD_EXEC_PID=1", "JOURNAL_STREAM=8:1"});
    ASSERT_GT(pid, 0);

    std::string ready = manager.wait_for("READY=1", 10s);
    ASSERT_FALSE(ready.empty()) << t.log();
    EXPECT_TRUE(has(ready, "MAINPID=" + std::to_string(pid))) << ready;
    // Sent once the lock, the PID file and the socket are in place.
    EXPECT_EQ(t.pid_from_state(), pid);
    EXPECT_TRUE(gt::util::path_exists(t.root() + "/daemon/daemon.pid"));

    ASSERT_TRUE(eventually([&] { return t.alive_sessions() == 3; }, 10s));
    auto messages = manager.during(1500ms);
    // Every 100 ms (half of 200 ms): some 15 in 1.5 s; a loose floor for a loaded machine.
    EXPECT_GE(count(messages, "WATCHDOG=1"), 5u);
    EXPECT_GE(count(messages, "STATUS=3 agents"), 1u);
    EXPECT_EQ(count(messages, "READY=1"), 0u);

    // Run as a systemd service (INVOCATION_ID), the daemon started the tmux server in a scope
    // of its own where a user manager runs, and said why not where none does (as here).
    auto server = t.tmux({"display-message", "-p", "#{pid}"});
    ASSERT_TRUE(server.success()) << server.err;
    std::string cgroup =
        gt::test::slurp("/proc/" + server.out.substr(0, server.out.find('\n')) + "/cgroup");
    EXPECT_TRUE(has(cgroup, "/gt-tmux-") ||
                has(t.log(), "could not give the tmux server a systemd scope of its own"))
        << cgroup << t.log();

    // The variables were the daemon's only: neither the tmux server nor the agents have them.
    auto agent = t.pane_pid("gt-r1-witness");
    ASSERT_TRUE(agent);
    std::string env = environ_of(*agent);
    EXPECT_FALSE(has(env, "NOTIFY_SOCKET=")) << env;
    EXPECT_FALSE(has(env, "WATCHDOG_USEC=")) << env;
    for (const char* name :
         {"INVOCATION_ID=", "MEMORY_PRESSURE_WATCH=", "SYSTEMD_EXEC_PID=", "JOURNAL_STREAM="}) {
        EXPECT_FALSE(has(env, name)) << name << " in " << env;
    }

    // A stopped daemon pings no more; a continued one pings again.
    ASSERT_EQ(::kill(pid, SIGSTOP), 0);
    manager.during(200ms); // what was sent before the stop took hold
    auto while_stopped = manager.during(800ms);
    EXPECT_EQ(count(while_stopped, "WATCHDOG=1"), 0u);
    ASSERT_EQ(::kill(pid, SIGCONT), 0);
    EXPECT_FALSE(manager.wait_for("WATCHDOG=1", 2s).empty());

    ASSERT_EQ(::kill(pid, SIGTERM), 0);
    EXPECT_FALSE(manager.wait_for("STOPPING=1", 5s).empty());
    EXPECT_EQ(wait_exit(pid, 10s), 0);
    EXPECT_EQ(t.alive_sessions(), 3u); // stopping the daemon stops no agent
}

TEST(NotifyProtocol, StartHandsTheMainPidOverToTheDaemonItForked) {
    TmuxTown t;
    t.set_all_commands({"sleep", "1000"});
    NotifySocket manager;
    auto start = t.gt({"daemon", "start"}, {"NOTIFY_SOCKET=" + manager.path()});
    ASSERT_TRUE(start.success()) << start.err;
    pid_t daemon = t.pid_from_state();
    ASSERT_GT(daemon, 0);
    std::string ready = manager.wait_for("READY=1", 5s);
    EXPECT_EQ(ready, "MAINPID=" + std::to_string(daemon) + "\nREADY=1");
    // The daemon itself does not say READY: the manager heard it from its main process.
    EXPECT_EQ(count(manager.during(500ms), "READY=1"), 0u);
    ASSERT_TRUE(t.gt({"daemon", "stop"}).success());
    EXPECT_FALSE(manager.wait_for("STOPPING=1", 5s).empty());
}

TEST(Metrics, MetricsPromParsesWithPrometheusClientAndCountsWhatHappened) {
    TmuxTown t;
    t.set_all_commands({"sleep", "1000"});
    t.configure({{"daemon", {{"heartbeat_interval", "200ms"}}}});
    ASSERT_TRUE(t.gt({"daemon", "start"}).success());
    ASSERT_TRUE(eventually([&] { return t.alive_sessions() == 3; }, 10s));
    ASSERT_TRUE(t.wait_heartbeats(3));
    // One agent killed: one restart more than the three first starts.
    ASSERT_EQ(::kill(static_cast<pid_t>(*t.pane_pid("gt-r1-witness")), SIGKILL), 0);
    ASSERT_TRUE(eventually([&] { return !t.events("restarted", "r1/witness").empty(); }, 10s));
    ASSERT_TRUE(t.wait_heartbeats(2));

    // Debian's python3-prometheus-client (scripts/deps.sh), under the system python.
    const std::string parse = R"(
import json, sys
from prometheus_client.parser import text_string_to_metric_families
out = {}
for family in text_string_to_metric_families(open(sys.argv[1]).read()):
    out[family.name] = {"type": family.type,
                        "samples": [[s.name, s.labels, s.value] for s in family.samples]}
print(json.dumps(out))
)";
    auto read = [&] {
        auto r = gt::test::run_command(
            {"/usr/bin/python3", "-c", parse, t.root() + "/daemon/metrics.prom"});
        EXPECT_TRUE(r.success()) << r.err << gt::test::slurp(t.root() + "/daemon/metrics.prom");
        return json::parse(r.out, nullptr, false);
    };
    json m = read();
    ASSERT_FALSE(m.is_discarded());
    auto value = [&](const std::string& family, const std::string& sample,
                     const json& labels = json::object()) {
        for (const auto& s : m[family]["samples"]) {
            bool match = s[0] == sample;
            for (const auto& [k, v] : labels.items()) {
                match = match && s[1].value(k, "") == v;
            }
            if (match) {
                EXPECT_EQ(s[1].value("town", ""), t.root());
                return s[2].get<double>();
            }
        }
        ADD_FAILURE() << "no sample " << sample << " in " << m[family].dump();
        return -1.0;
    };
    // prometheus_client names a counter's family without `_total`.
    EXPECT_EQ(m["gt_heartbeats"]["type"], "counter");
    EXPECT_GE(value("gt_heartbeats", "gt_heartbeats_total"), 5);
    EXPECT_EQ(m["gt_restarts"]["type"], "counter");
    EXPECT_EQ(value("gt_restarts", "gt_restarts_total"), 4);
    EXPECT_EQ(m["gt_heartbeat_duration_seconds"]["type"], "summary");
    EXPECT_EQ(value("gt_heartbeat_duration_seconds", "gt_heartbeat_duration_seconds_count"),
              value("gt_heartbeats", "gt_heartbeats_total"));
    EXPECT_EQ(m["gt_agents"]["type"], "gauge");
    EXPECT_EQ(value("gt_agents_supervised", "gt_agents_supervised"), 3);
    double by_condition = 0;
    for (const char* c : {"working", "idle", "waiting_input", "startup_blocked", "auth_failed",
                          "usage_limited", "offline", "exited", "unknown"}) {
        by_condition += value("gt_agents", "gt_agents", {{"condition", c}});
    }
    EXPECT_EQ(by_condition, 3);
    // The dead pane's session is killed before its new one starts.
    EXPECT_EQ(value("gt_kills", "gt_kills_total"), 1);
    for (const char* counter : {"gt_crash_loops", "gt_bad_files", "gt_clock_jumps",
                                "gt_marked_dead", "gt_notifications", "gt_resumes"}) {
        EXPECT_EQ(m[counter]["type"], "counter") << counter;
        EXPECT_EQ(value(counter, std::string(counter) + "_total"), 0) << counter;
    }
    EXPECT_EQ(value("gt_lifecycle_requests", "gt_lifecycle_requests_total", {{"outcome", "done"}}),
              0);
    EXPECT_EQ(value("gt_daemon_running", "gt_daemon_running"), 1);

    ASSERT_TRUE(t.gt({"daemon", "stop"}).success());
    m = read();
    EXPECT_EQ(value("gt_daemon_running", "gt_daemon_running"), 0);
}

TEST(ServiceRestart, StopLeavesEveryAgentAliveAndStartAdoptsThemWithoutARestart) {
    TmuxTown t;
    t.add_polecats(4);
    t.set_all_commands({GT_BINARY, "agent", "simulate", "--report-every", "1s"});
    t.configure({{"daemon", {{"heartbeat_interval", "300ms"}, {"start_grace", "1s"}}}});
    ASSERT_TRUE(t.gt({"daemon", "start"}).success());
    ASSERT_TRUE(eventually([&] { return t.alive_sessions() == 7; }, 20s));
    ASSERT_TRUE(t.wait_heartbeats(2));
    std::map<std::string, long> panes;
    for (const auto& s : t.sessions()) {
        panes[s] = *t.pane_pid(s);
    }
    ASSERT_EQ(panes.size(), 7u);

    ASSERT_TRUE(t.gt({"daemon", "stop"}).success());
    for (const auto& [session, pid] : panes) {
        EXPECT_EQ(t.pane_pid(session), pid) << session << " after stop";
    }
    std::this_thread::sleep_for(1500ms); // reports go on while no daemon runs
    const std::size_t events_before = t.events().size();
    ASSERT_TRUE(t.gt({"daemon", "start"}).success());
    ASSERT_TRUE(t.wait_heartbeats(5));
    for (const auto& [session, pid] : panes) {
        EXPECT_EQ(t.pane_pid(session), pid) << session << " after start";
    }
    auto events = t.events();
    for (std::size_t i = events_before; i < events.size(); ++i) {
        const std::string kind = events[i].value("kind", "");
        EXPECT_TRUE(kind != "started" && kind != "restarted" && kind != "killed" &&
                    kind != "marked_dead" && kind != "start_failed")
            << events[i].dump();
    }
}

TEST(NotifyProtocol, ASecondDaemonThatFindsTheLockHeldSaysReadyAndWhySoItIsNotRestarted) {
    TmuxTown t;
    t.set_all_commands({"sleep", "1000"});
    ASSERT_TRUE(t.gt({"daemon", "start"}).success());
    pid_t holder = t.pid_from_state();
    NotifySocket manager;
    pid_t pid = run_daemon(t, {"NOTIFY_SOCKET=" + manager.path()});
    ASSERT_GT(pid, 0);
    EXPECT_EQ(wait_exit(pid, 10s), 0);
    // Exit 0 before READY=1 is a failed start to systemd ("protocol"): it must come first.
    EXPECT_EQ(manager.next(2s), "READY=1\nSTATUS=not started: another daemon (PID " +
                                    std::to_string(holder) + ") supervises this town");
    // `start` says the same when it finds one running.
    auto start = t.gt({"daemon", "start"}, {"NOTIFY_SOCKET=" + manager.path()});
    EXPECT_TRUE(start.success());
    EXPECT_TRUE(has(manager.next(2s), "READY=1\nSTATUS=not started: another daemon"));
}
