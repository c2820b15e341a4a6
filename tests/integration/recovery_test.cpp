// The recovery heartbeat against a private real tmux server, with the real gt binary.
#include "support/tmux_town.hpp"
#include "util/time.hpp"

#include <algorithm>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <gtest/gtest.h>
#include <set>
#include <sys/stat.h>
#include <unistd.h>

using namespace gt::test;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

const std::vector<std::string> k_sleeper{"sleep", "1000"};

/// Short intervals for tests; every role runs `sleep` (alive, never reports) unless changed.
void quick(const TmuxTown& t, const std::string& interval = "300ms") {
    t.configure({{"daemon",
                  {{"heartbeat_interval", interval},
                   {"start_grace", "500ms"},
                   {"tmux_timeout", "5s"},
                   {"restart", {{"initial_backoff", "100ms"}}}}}});
    t.set_all_commands(k_sleeper);
}

long long ts_ms(const json& event) {
    auto t = gt::util::parse_time(event.value("ts", ""));
    return t ? t->time_since_epoch().count() : 0;
}

std::string find_on_path(const std::string& name) {
    std::string path = std::getenv("PATH") ? std::getenv("PATH") : "/usr/bin:/bin";
    std::size_t start = 0;
    while (start <= path.size()) {
        auto colon = path.find(':', start);
        std::string dir = path.substr(start, colon == std::string::npos ? colon : colon - start);
        std::string candidate = dir + "/" + name;
        if (::access(candidate.c_str(), X_OK) == 0) {
            return candidate;
        }
        if (colon == std::string::npos) {
            break;
        }
        start = colon + 1;
    }
    return name;
}

/// A `tmux` on PATH that logs each invocation to `log` and runs `prelude` before forwarding.
std::string write_tmux_wrapper(const std::string& dir, const std::string& log,
                               const std::string& prelude = "") {
    std::string path = dir + "/tmux";
    std::ofstream out(path);
    out << "#!/bin/sh\n"
        << "echo \"$*\" >> '" << log << "'\n"
        << prelude << "exec '" << find_on_path("tmux") << "' \"$@\"\n";
    out.close();
    ::chmod(path.c_str(), 0755);
    return dir + ":" + (std::getenv("PATH") ? std::getenv("PATH") : "/usr/bin:/bin");
}

std::size_t line_count(const std::string& path) {
    std::string text = slurp(path);
    return static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n'));
}

} // namespace

TEST(Recovery, DemoTownRunsEveryAgentWithinTwoHeartbeats) {
    TmuxTown t(true);
    t.configure({{"daemon", {{"heartbeat_interval", "300ms"}}}});
    ASSERT_TRUE(t.gt({"daemon", "start"}).success());
    ASSERT_TRUE(eventually([&] { return t.heartbeats() >= 2; }));
    std::set<std::string> expected{"gt-deacon", "gt-demo-witness", "gt-demo-refinery",
                                   "gt-demo-nux", "gt-demo-slit"};
    auto sessions = t.sessions();
    for (const auto& s : expected) {
        EXPECT_NE(std::find(sessions.begin(), sessions.end(), s), sessions.end()) << s;
    }
    // The simulated agents report `running`; the list sees them alive.
    ASSERT_TRUE(eventually([&] {
        auto r = t.gt({"agent", "list", "--json"});
        auto list = json::parse(r.out, nullptr, false);
        if (!r.success() || !list.is_array()) {
            return false;
        }
        int alive_running = 0;
        for (const auto& a : list) {
            alive_running += a.value("alive", false) && a.value("state", json()) == "running";
        }
        return alive_running == 5;
    }));
    auto list = json::parse(t.gt({"agent", "list", "--json"}).out);
    for (const auto& a : list) {
        EXPECT_TRUE(a["supervised"].get<bool>()) << a.dump();
    }
}

TEST(Recovery, KilledPaneProcessIsReplacedWithinTwoHeartbeats) {
    TmuxTown t;
    quick(t);
    ASSERT_TRUE(t.gt({"daemon", "start"}).success());
    ASSERT_TRUE(eventually([&] { return t.pane_pid("gt-r1-witness").has_value(); }));
    ASSERT_TRUE(t.wait_heartbeats(1));
    long old_pid = *t.pane_pid("gt-r1-witness");
    long before = t.heartbeats();
    ASSERT_EQ(::kill(static_cast<pid_t>(old_pid), SIGKILL), 0);
    ASSERT_TRUE(eventually([&] {
        auto pid = t.pane_pid("gt-r1-witness");
        return pid && *pid != old_pid;
    }));
    // The event is written right after the session is created: wait for it.
    ASSERT_TRUE(eventually([&] { return !t.events("restarted", "r1/witness").empty(); }));
    auto restarted = t.events("restarted", "r1/witness");
    ASSERT_EQ(restarted.size(), 1u);
    EXPECT_EQ(restarted[0]["detail"], "agent not alive in its session");
    // The heartbeat that saw the dead pane replaced it: at most two heartbeats after the kill.
    EXPECT_LE(t.heartbeats(), before + 2 + 1); // +1: a heartbeat may finish while we poll
    // Known from tmux, the hook, or the unreaped process itself; recorded once.
    ASSERT_TRUE(eventually([&] { return !t.events("exited", "r1/witness").empty(); }));
    auto exited = t.events("exited", "r1/witness");
    ASSERT_EQ(exited.size(), 1u);
    EXPECT_EQ(exited[0]["detail"].get<std::string>().rfind("signal 9", 0), 0u);
}

TEST(Recovery, CircuitBreakerRestartsADeadAgentOnce) {
    TmuxTown t;
    quick(t);
    ASSERT_TRUE(t.gt({"daemon", "start"}).success());
    ASSERT_TRUE(eventually([&] { return t.pane_pid("gt-r1-refinery").has_value(); }));
    ASSERT_TRUE(t.wait_heartbeats(3)); // past the start grace
    long old_pid = *t.pane_pid("gt-r1-refinery");
    t.write_file("agents/r1/refinery.json",
                 json({{"identity", "r1/refinery"},
                       {"state", "dead"},
                       {"updated_at", gt::util::format_time(gt::util::now())}})
                     .dump());
    ASSERT_TRUE(eventually([&] {
        auto pid = t.pane_pid("gt-r1-refinery");
        return pid && *pid != old_pid;
    }));
    long new_pid = *t.pane_pid("gt-r1-refinery");
    ASSERT_TRUE(t.wait_heartbeats(4));
    EXPECT_EQ(t.pane_pid("gt-r1-refinery"), new_pid);
    auto restarted = t.events("restarted", "r1/refinery");
    ASSERT_EQ(restarted.size(), 1u);
    EXPECT_EQ(restarted[0]["detail"], "circuit breaker: agent marked dead");
    EXPECT_EQ(t.events("killed", "r1/refinery").size(), 1u);
}

TEST(Recovery, StaleRunningAgentIsMarkedDeadThenRestartedOnce) {
    TmuxTown t;
    quick(t);
    t.configure({{"daemon", {{"dead_agent_timeout", "2s"}}}});
    ASSERT_TRUE(t.gt({"daemon", "start"}).success());
    ASSERT_TRUE(eventually([&] { return t.pane_pid("gt-r1-witness").has_value(); }));
    ASSERT_TRUE(t.wait_heartbeats(3));
    long old_pid = *t.pane_pid("gt-r1-witness");
    t.write_file("agents/r1/witness.json",
                 json({{"identity", "r1/witness"},
                       {"state", "running"},
                       {"updated_at", gt::util::format_time(gt::util::now() - 10s)}})
                     .dump());
    ASSERT_TRUE(eventually([&] {
        auto pid = t.pane_pid("gt-r1-witness");
        return pid && *pid != old_pid;
    }));
    ASSERT_TRUE(t.wait_heartbeats(4));
    EXPECT_EQ(t.events("marked_dead", "r1/witness").size(), 1u);
    EXPECT_EQ(t.events("restarted", "r1/witness").size(), 1u);
    EXPECT_EQ(t.state()["counters"]["marked_dead"], 1);
}

TEST(Recovery, CrashingAgentBacksOffThenCrashLoopsUntilCleared) {
    TmuxTown t;
    quick(t, "100ms");
    t.configure({{"roles", {{"witness", {{"command", {"sh", "-c", "exit 3"}}}}}},
                 {"daemon",
                  {{"restart",
                    {{"initial_backoff", "300ms"},
                     {"multiplier", 2},
                     {"crash_loop_count", 4},
                     {"crash_loop_window", "1m"},
                     {"crash_loop_expiry", "1h"}}}}}});
    ASSERT_TRUE(t.gt({"daemon", "start"}).success());
    auto starts = [&] {
        auto a = t.events("started", "r1/witness");
        auto b = t.events("restarted", "r1/witness");
        a.insert(a.end(), b.begin(), b.end());
        std::sort(a.begin(), a.end(), [](auto& x, auto& y) { return ts_ms(x) < ts_ms(y); });
        return a;
    };
    ASSERT_TRUE(eventually([&] { return !t.events("crash_loop", "r1/witness").empty(); }, 30s));
    // The first start is no restart: four restarts after it make the crash loop.
    auto s = starts();
    ASSERT_EQ(s.size(), 5u);
    // Each gap after the first restart is at least the backoff (300 ms doubling, -20 % jitter):
    // restarts slow down.
    for (std::size_t i = 2; i < s.size(); ++i) {
        long long gap = ts_ms(s[i]) - ts_ms(s[i - 1]);
        EXPECT_GE(gap, static_cast<long long>(0.8 * 300 * (1 << (i - 2)))) << i;
    }
    EXPECT_GT(ts_ms(s[4]) - ts_ms(s[3]), ts_ms(s[2]) - ts_ms(s[1]));
    // The crash loop holds: no more starts.
    ASSERT_TRUE(t.wait_heartbeats(10));
    EXPECT_EQ(starts().size(), 5u);
    auto restart_state = json::parse(slurp(t.root() + "/daemon/restart_state.json"));
    EXPECT_EQ(restart_state["r1/witness"]["last_exit_status"], 3);
    EXPECT_TRUE(restart_state["r1/witness"].contains("crash_loop_since"));
    EXPECT_FALSE(t.events("crash_loop", "r1/witness").empty());
    auto mail = json::parse(t.gt({"mail", "list", "mayor", "--json"}).out);
    ASSERT_EQ(mail.size(), 1u);
    EXPECT_EQ(mail[0]["kind"], "CRASH_LOOP");

    auto cleared = t.gt({"daemon", "clear-backoff", "r1-witness"});
    ASSERT_TRUE(cleared.success()) << cleared.err;
    ASSERT_TRUE(eventually([&] { return starts().size() >= 6; }));
    EXPECT_EQ(t.events("backoff_cleared", "r1/witness").size(), 1u);
}

TEST(Recovery, HealthySessionWithABadStateFileIsLeftAlone) {
    TmuxTown t;
    quick(t);
    ASSERT_TRUE(t.gt({"rig", "add", "r2"}).success());
    ASSERT_TRUE(t.gt({"rig", "add", "r3"}).success());
    ASSERT_TRUE(t.gt({"daemon", "start"}).success());
    std::vector<std::string> sessions{"gt-r1-witness", "gt-r1-refinery", "gt-r2-witness",
                                      "gt-r2-refinery", "gt-r3-witness"};
    ASSERT_TRUE(eventually([&] {
        for (auto& s : sessions) {
            if (!t.pane_pid(s)) {
                return false;
            }
        }
        return true;
    }));
    ASSERT_TRUE(t.wait_heartbeats(2));
    std::map<std::string, long> pids;
    for (auto& s : sessions) {
        pids[s] = *t.pane_pid(s);
    }
    ::unlink((t.root() + "/agents/r1/witness.json").c_str());
    t.write_file("agents/r1/refinery.json", "");
    t.write_file("agents/r2/witness.json", std::string("\x00\xff\xfe binary\x01", 12));
    t.write_file("agents/r2/refinery.json", R"({"state": 7})");
    t.write_file("agents/r3/witness.json", std::string(2 * 1024 * 1024, '{'));
    ASSERT_TRUE(t.wait_heartbeats(4));
    for (auto& s : sessions) {
        EXPECT_EQ(t.pane_pid(s), pids[s]) << s;
    }
    EXPECT_EQ(daemon_pids(t.root()).size(), 1u);
    std::string log = t.log();
    EXPECT_NE(log.find("r1/witness: left alone: healthy session, agent state not reported"),
              std::string::npos);
    for (const char* file : {"agents/r1/refinery.json", "agents/r2/witness.json",
                             "agents/r2/refinery.json", "agents/r3/witness.json"}) {
        EXPECT_NE(log.find("untrusted agent state: " + t.root() + "/" + file), std::string::npos)
            << file << "\n"
            << log;
    }
    EXPECT_GE(t.state()["counters"]["bad_files"].get<int>(), 4);
}

TEST(Recovery, HeartbeatOverTwoHundredHealthyAgentsRunsTmuxAtMostTwice) {
    TmuxTown t;
    quick(t, "1h");
    TempDir bin("gt-wrapper");
    std::string log = bin.path() + "/tmux.log";
    std::string path = write_tmux_wrapper(bin.path(), log);
    for (int i = 2; i <= 100; ++i) {
        ASSERT_TRUE(t.gt({"rig", "add", "r" + std::to_string(i)}).success());
    }
    ASSERT_TRUE(t.gt({"daemon", "start"}, {"PATH=" + path}).success());
    ASSERT_TRUE(eventually([&] { return t.heartbeats() >= 1; }, 60s));
    ASSERT_EQ(t.sessions().size(), 201u);
    std::size_t before = line_count(log);
    ::kill(t.pid_from_state(), SIGUSR1);
    ASSERT_TRUE(eventually([&] { return t.heartbeats() >= 2; }, 30s));
    std::size_t calls = line_count(log) - before;
    EXPECT_GE(calls, 1u);
    EXPECT_LE(calls, 2u) << slurp(log).substr(0, 2000);
}

TEST(Recovery, StaleDeaconIsNudgedBetweenThresholdsKilledAboveAndSparedInGrace) {
    TmuxTown t;
    quick(t, "200ms");
    t.configure({{"roles", {{"deacon", {{"command", {"cat"}}}}}},
                 {"daemon",
                  {{"start_grace", "1500ms"},
                   {"deacon_stale", "5s"},
                   {"deacon_kill", "1h"},
                   {"screens", {{"quiet_after", "1s"}}}}}});
    t.write_file(
        "deacon/heartbeat.json",
        json({{"timestamp", gt::util::format_time(gt::util::now() - 10s)}, {"cycle", 1}}).dump());
    ASSERT_TRUE(t.gt({"daemon", "start"}).success());
    ASSERT_TRUE(eventually([&] { return !t.events("nudged", "deacon").empty(); }));
    auto started = t.events("started", "deacon");
    ASSERT_EQ(started.size(), 1u);
    // The grace runs from the moment the daemon recorded in the agent's file, just before it
    // created the session (the `started` event follows the creation, later under load).
    auto deacon = json::parse(slurp(t.root() + "/agents/deacon.json"));
    auto since = gt::util::parse_time(deacon.value("started_by_daemon_at", ""));
    ASSERT_TRUE(since) << deacon.dump();
    EXPECT_GE(ts_ms(t.events("nudged", "deacon")[0]) - since->time_since_epoch().count(), 1500);
    EXPECT_TRUE(eventually([&] {
        return t.capture("gt-deacon").find("HEALTH_CHECK: heartbeat stale") != std::string::npos;
    }));
    EXPECT_TRUE(t.events("restarted", "deacon").empty());

    // Replaced once its pane has printed nothing for deacon_kill too: the echo of the nudges
    // typed into it is the daemon's own doing, not a sign of life.
    long old_pid = *t.pane_pid("gt-deacon");
    t.configure({{"daemon", {{"deacon_stale", "1s"}, {"deacon_kill", "3s"}}}});
    t.write_file(
        "deacon/heartbeat.json",
        json({{"timestamp", gt::util::format_time(gt::util::now() - 2h)}, {"cycle", 2}}).dump());
    ASSERT_TRUE(eventually([&] { return !t.events("restarted", "deacon").empty(); }));
    EXPECT_NE(t.events("restarted", "deacon")[0]["detail"].get<std::string>().find(
                  "deacon heartbeat stale"),
              std::string::npos);
    ASSERT_TRUE(eventually([&] {
        auto pid = t.pane_pid("gt-deacon");
        return pid && *pid != old_pid;
    }));
}

TEST(Recovery, HookedPolecatIsRestartedAndAMissingDirectoryMailsTheWitnessOnce) {
    TmuxTown t;
    quick(t);
    ASSERT_TRUE(t.gt({"polecat", "add", "r1", "nux", "--hook", "task-1"}).success());
    ASSERT_TRUE(t.gt({"daemon", "start"}).success());
    ASSERT_TRUE(eventually([&] { return t.pane_pid("gt-r1-nux").has_value(); }));
    long old_pid = *t.pane_pid("gt-r1-nux");
    t.tmux({"kill-session", "-t", "=gt-r1-nux"});
    ASSERT_TRUE(eventually([&] {
        auto pid = t.pane_pid("gt-r1-nux");
        return pid && *pid != old_pid;
    }));

    ASSERT_EQ(std::system(("rm -rf '" + t.root() + "/r1/polecats/nux'").c_str()), 0);
    t.tmux({"kill-session", "-t", "=gt-r1-nux"});
    ASSERT_TRUE(eventually([&] { return !t.events("notified", "r1/polecats/nux").empty(); }));
    ASSERT_TRUE(t.wait_heartbeats(5));
    auto mail = json::parse(t.gt({"mail", "list", "r1/witness", "--json"}).out);
    ASSERT_EQ(mail.size(), 1u) << mail.dump();
    EXPECT_EQ(mail[0]["kind"], "CRASHED_POLECAT");
    EXPECT_EQ(mail[0]["subject"], "CRASHED_POLECAT: r1/nux restart failed");
    EXPECT_FALSE(t.pane_pid("gt-r1-nux").has_value());
}

TEST(Recovery, WithoutTmuxTheDaemonIsDegradedAndTouchesNothing) {
    TmuxTown t;
    quick(t);
    TempDir empty("gt-no-tmux");
    ASSERT_TRUE(t.gt({"daemon", "start"}, {"PATH=" + empty.path()}).success());
    ASSERT_TRUE(t.wait_heartbeats(3));
    EXPECT_EQ(daemon_pids(t.root()).size(), 1u);
    EXPECT_NE(t.log().find("degraded mode: tmux is not installed"), std::string::npos) << t.log();
    EXPECT_EQ(t.events("degraded").size(), 1u);
    EXPECT_TRUE(t.sessions().empty());
    EXPECT_TRUE(t.events("started").empty());
    EXPECT_TRUE(t.events("killed").empty());
}

TEST(Recovery, AHangingTmuxCallIsKilledAndTheOthersGoOn) {
    TmuxTown t;
    quick(t, "1h");
    t.configure({{"daemon", {{"tmux_timeout", "500ms"}}}});
    TempDir bin("gt-wrapper");
    std::string path =
        write_tmux_wrapper(bin.path(), bin.path() + "/tmux.log",
                           "case \"$*\" in *'-s gt-r1-witness '*) exec sleep 60;; esac\n");
    ASSERT_TRUE(t.gt({"daemon", "start"}, {"PATH=" + path}).success());
    ASSERT_TRUE(eventually([&] { return t.heartbeats() >= 1; }));
    EXPECT_TRUE(t.pane_pid("gt-deacon").has_value());
    EXPECT_TRUE(t.pane_pid("gt-r1-refinery").has_value());
    EXPECT_FALSE(t.pane_pid("gt-r1-witness").has_value());
    auto failed = t.events("start_failed", "r1/witness");
    ASSERT_EQ(failed.size(), 1u);
    EXPECT_EQ(failed[0]["detail"], "tmux timed out");
    EXPECT_EQ(daemon_pids(t.root()).size(), 1u);
}

TEST(Recovery, SigtermMidHeartbeatAbandonsTheRestCleanly) {
    TmuxTown t;
    quick(t, "1h");
    TempDir bin("gt-wrapper");
    // Every session creation takes 200 ms: the first heartbeat would take over 8 s.
    std::string path = write_tmux_wrapper(bin.path(), bin.path() + "/tmux.log",
                                          "case \"$*\" in *new-session*) sleep 0.2;; esac\n");
    for (int i = 2; i <= 20; ++i) {
        ASSERT_TRUE(t.gt({"rig", "add", "r" + std::to_string(i)}).success());
    }
    ASSERT_TRUE(t.gt({"daemon", "start"}, {"PATH=" + path}).success());
    ASSERT_TRUE(eventually([&] { return t.events("started").size() >= 2; }));
    pid_t pid = t.pid_from_state();
    ASSERT_GT(pid, 0);
    ASSERT_EQ(::kill(pid, SIGTERM), 0);
    ASSERT_TRUE(eventually([&] { return daemon_pids(t.root()).empty(); }));
    EXPECT_LT(t.events("started").size(), 41u);
    EXPECT_EQ(t.state()["running"], false);
    EXPECT_NE(t.log().find("remaining actions of this heartbeat abandoned"), std::string::npos);
}
