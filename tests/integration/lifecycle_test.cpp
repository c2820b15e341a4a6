// The daemon's process lifecycle, end to end: the real gt binary, real processes, real files.

#include "daemon/lock.hpp"
#include "proc/process.hpp"
#include "state/daemon_state.hpp"
#include "support/harness.hpp"
#include "util/file.hpp"
#include "util/time.hpp"

#include <algorithm>
#include <csignal>
#include <dirent.h>
#include <fstream>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

using namespace gt;
using namespace gt::test;
using namespace std::chrono_literals;

namespace {

std::optional<pid_t> holder(const TownFixture& t) {
    return daemon::lock_holder(t.root() + "/daemon/daemon.lock");
}

/// Starts `gt daemon run` in the foreground as our child.
pid_t spawn_foreground(const TownFixture& t) {
    proc::SpawnOptions so;
    so.argv = {GT_BINARY, "--town", t.root(), "daemon", "run"};
    so.env = proc::make_env({"GT_TOWN_ROOT", "TMUX"}, {"GT_TMUX_SOCKET=" + default_tmux_socket()});
    auto pid = proc::spawn(so);
    EXPECT_TRUE(pid.ok());
    return pid.ok() ? *pid : -1;
}

} // namespace

TEST(DaemonLifecycle, ConcurrentStartsLeaveExactlyOneDaemon) {
    TownFixture t;
    constexpr int k_rounds = 20;
    constexpr int k_callers = 8;
    for (int round = 0; round < k_rounds; ++round) {
        std::vector<proc::RunResult> results(k_callers);
        std::vector<std::thread> threads;
        for (int i = 0; i < k_callers; ++i) {
            threads.emplace_back([&, i] { results[i] = t.gt({"daemon", "start"}); });
        }
        for (auto& th : threads) {
            th.join();
        }
        int started = 0, already = 0;
        for (const auto& r : results) {
            EXPECT_EQ(r.exit_code, 0) << "round " << round << ": " << r.out << r.err;
            started += has(r.out, "Daemon started (PID ");
            already += has(r.out, "already running");
        }
        auto pids = daemon_pids(t.root());
        ASSERT_EQ(pids.size(), 1u) << "round " << round;
        EXPECT_EQ(t.pid_from_file(), pids[0]) << "round " << round;
        EXPECT_EQ(started, 1) << "round " << round;
        EXPECT_EQ(already, k_callers - 1) << "round " << round;
        auto stop = t.gt({"daemon", "stop"});
        ASSERT_EQ(stop.exit_code, 0) << stop.err;
        ASSERT_TRUE(daemon_pids(t.root()).empty());
    }
}

TEST(DaemonLifecycle, EveryDaemonDescriptorIsCloseOnExec) {
    TownFixture t;
    ASSERT_EQ(t.gt({"daemon", "start"}).exit_code, 0);
    pid_t pid = t.pid_from_file();
    ASSERT_GT(pid, 0);
    std::string dir = "/proc/" + std::to_string(pid) + "/fdinfo";
    DIR* d = ::opendir(dir.c_str());
    ASSERT_NE(d, nullptr);
    int checked = 0;
    while (dirent* e = ::readdir(d)) {
        int fd = std::atoi(e->d_name);
        if (e->d_name[0] == '.' || fd <= 2) {
            continue;
        }
        std::string info = slurp(dir + "/" + e->d_name);
        if (info.empty()) {
            continue; // closed since readdir: a transient descriptor of a heartbeat
        }
        auto pos = info.find("flags:");
        ASSERT_NE(pos, std::string::npos);
        unsigned long flags = std::strtoul(info.c_str() + pos + 6, nullptr, 8);
        EXPECT_TRUE(flags & 02000000) << "fd " << fd << " lacks O_CLOEXEC: " << info;
        ++checked;
    }
    ::closedir(d);
    EXPECT_GE(checked, 3); // at least the lock, the log and the event loop
}

TEST(DaemonLifecycle, StartAfterSigkillSucceedsAtOnce) {
    TownFixture t;
    ASSERT_EQ(t.gt({"daemon", "start"}).exit_code, 0);
    pid_t pid = t.pid_from_file();
    ASSERT_GT(pid, 0);
    ASSERT_EQ(::kill(pid, SIGKILL), 0);
    ASSERT_TRUE(eventually([&] { return !proc::process_alive(pid); }));
    EXPECT_TRUE(has(slurp(t.root() + "/daemon/state.json"), "\"running\": true"));
    auto r = t.gt({"daemon", "start"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_TRUE(has(r.out, "Daemon started")) << r.out;
    EXPECT_TRUE(has(r.err, "stale PID file")) << r.err;
    pid_t fresh = t.pid_from_file();
    EXPECT_NE(fresh, pid);
    EXPECT_EQ(holder(t).value_or(-1), fresh);
}

TEST(DaemonLifecycle, StalePidFileNamingAnUnrelatedLiveProcessIsNeverSignalled) {
    TownFixture t;
    proc::SpawnOptions so;
    so.argv = {"sleep", "60"};
    auto sleeper = proc::spawn(so);
    ASSERT_TRUE(sleeper.ok());
    { std::ofstream(t.root() + "/daemon/daemon.pid") << *sleeper << "\n"; }
    auto status = t.gt({"daemon", "status"});
    EXPECT_EQ(status.exit_code, 3) << status.out << status.err;
    { std::ofstream(t.root() + "/daemon/daemon.pid") << *sleeper << "\n"; }
    auto stop = t.gt({"daemon", "stop"});
    EXPECT_EQ(stop.exit_code, 0);
    EXPECT_TRUE(has(stop.out, "not running")) << stop.out;
    EXPECT_TRUE(proc::process_alive(*sleeper));
    { std::ofstream(t.root() + "/daemon/daemon.pid") << *sleeper << "\n"; }
    auto start = t.gt({"daemon", "start"});
    EXPECT_EQ(start.exit_code, 0) << start.err;
    EXPECT_TRUE(has(start.out, "Daemon started")) << start.out;
    EXPECT_TRUE(proc::process_alive(*sleeper));
    EXPECT_NE(t.pid_from_file(), *sleeper);
    ::kill(*sleeper, SIGKILL);
    int st;
    ::waitpid(*sleeper, &st, 0);
}

TEST(DaemonLifecycle, RunWhileLockedExitsZeroNamingTheHolder) {
    TownFixture t;
    ASSERT_EQ(t.gt({"daemon", "start"}).exit_code, 0);
    pid_t pid = t.pid_from_file();
    auto r = t.gt({"daemon", "run"});
    EXPECT_EQ(r.exit_code, 0);
    EXPECT_TRUE(has(r.err, "already running (PID " + std::to_string(pid) + ")")) << r.err;
    EXPECT_EQ(daemon_pids(t.root()).size(), 1u);
}

TEST(DaemonLifecycle, StopsASigstoppedDaemon) {
    TownFixture t;
    ASSERT_EQ(t.gt({"daemon", "start"}).exit_code, 0);
    pid_t pid = t.pid_from_file();
    ASSERT_EQ(::kill(pid, SIGSTOP), 0);
    auto r = t.gt({"daemon", "stop", "--timeout", "1s"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_TRUE(has(r.out, "Daemon stopped (was PID " + std::to_string(pid) + ")")) << r.out;
    EXPECT_TRUE(eventually([&] { return !proc::process_alive(pid); }));
    EXPECT_FALSE(holder(t).has_value());
}

TEST(DaemonLifecycle, StopEscalatesToSigkillWhenSigtermIsIgnored) {
    TownFixture t;
    // A lock holder that ignores SIGTERM, standing in for a wedged daemon.
    proc::SpawnOptions so;
    so.argv = {
        "perl", "-e",
        "use Fcntl ':flock'; open(F, '>>', $ARGV[0]) or die; flock(F, LOCK_EX) or die; "
        "$SIG{TERM} = 'IGNORE'; open(P, '>', $ARGV[1]); print P \"$$\\n\"; close P; sleep 60;",
        t.root() + "/daemon/daemon.lock", t.root() + "/daemon/daemon.pid"};
    auto pid = proc::spawn(so);
    ASSERT_TRUE(pid.ok());
    ASSERT_TRUE(eventually([&] { return holder(t).value_or(-1) == *pid; }));
    auto r = t.gt({"daemon", "stop", "--timeout", "300ms"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_TRUE(has(r.err, "SIGKILL")) << r.err;
    int st = 0;
    ASSERT_TRUE(proc::wait_for_exit(*pid, 5s, st));
    EXPECT_TRUE(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
    EXPECT_FALSE(holder(t).has_value());
}

TEST(DaemonLifecycle, SigtermCleansUpAndExitsZeroSighupDoesNotTerminate) {
    TownFixture t;
    pid_t pid = spawn_foreground(t);
    ASSERT_GT(pid, 0);
    ASSERT_TRUE(eventually([&] {
        auto s = state::read_daemon_state(t.root() + "/daemon/state.json");
        return s.ok() && s->pid == pid && s->heartbeat_count >= 1;
    }));
    ASSERT_EQ(::kill(pid, SIGHUP), 0);
    ASSERT_TRUE(eventually([&] {
        auto s = state::read_daemon_state(t.root() + "/daemon/state.json");
        return s.ok() && s->heartbeat_count >= 2; // SIGHUP reloads and runs a heartbeat
    }));
    EXPECT_TRUE(proc::process_alive(pid));
    EXPECT_EQ(t.gt({"daemon", "status"}).exit_code, 0);

    ASSERT_EQ(::kill(pid, SIGTERM), 0);
    int st = 0;
    ASSERT_TRUE(proc::wait_for_exit(pid, 5s, st));
    ASSERT_TRUE(WIFEXITED(st));
    EXPECT_EQ(WEXITSTATUS(st), 0);
    auto s = state::read_daemon_state(t.root() + "/daemon/state.json");
    ASSERT_TRUE(s.ok());
    EXPECT_FALSE(s->running);
    EXPECT_FALSE(util::path_exists(t.root() + "/daemon/daemon.pid"));
    EXPECT_FALSE(holder(t).has_value());
    EXPECT_EQ(t.gt({"daemon", "status"}).exit_code, 3);
}

TEST(DaemonLifecycle, HeartbeatRunsAtConfiguredIntervalAndUpdatesState) {
    TownFixture t;
    t.set_daemon_field("heartbeat_interval", "\"50ms\"");
    ASSERT_EQ(t.gt({"daemon", "start"}).exit_code, 0);
    ASSERT_TRUE(eventually([&] {
        auto s = state::read_daemon_state(t.root() + "/daemon/state.json");
        return s.ok() && s->heartbeat_count >= 5;
    }));
    auto s = state::read_daemon_state(t.root() + "/daemon/state.json");
    EXPECT_EQ(s->interval_ms, 50);
    EXPECT_TRUE(util::parse_time(s->last_heartbeat).ok());
    EXPECT_TRUE(util::parse_time(s->next_heartbeat_at).ok());
    auto status = t.gt({"daemon", "status", "--json"});
    EXPECT_EQ(status.exit_code, 0);
    EXPECT_TRUE(has(status.out, "\"heartbeat_count\"")) << status.out;
}

TEST(DaemonLifecycle, IdentityVariablesAreDropped) {
    TownFixture t;
    auto r = t.gt({"daemon", "start"},
                  {"GT_ROLE=witness", "BD_ACTOR=gastown/witness", "GIT_AUTHOR_NAME=someone"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    std::string env = slurp("/proc/" + std::to_string(t.pid_from_file()) + "/environ");
    ASSERT_FALSE(env.empty());
    EXPECT_FALSE(has(env, "GT_ROLE=")) << env;
    EXPECT_FALSE(has(env, "BD_ACTOR=")) << env;
    EXPECT_FALSE(has(env, "GIT_AUTHOR_NAME=")) << env;
}

TEST(DaemonLifecycle, StopWhenNotRunningAndRestart) {
    TownFixture t;
    auto stop = t.gt({"daemon", "stop"});
    EXPECT_EQ(stop.exit_code, 0);
    EXPECT_TRUE(has(stop.out, "Daemon is not running"));
    ASSERT_EQ(t.gt({"daemon", "start"}).exit_code, 0);
    pid_t first = t.pid_from_file();
    auto restart = t.gt({"daemon", "restart"});
    EXPECT_EQ(restart.exit_code, 0) << restart.err;
    pid_t second = t.pid_from_file();
    EXPECT_NE(first, second);
    EXPECT_EQ(daemon_pids(t.root()).size(), 1u);
}

TEST(DaemonLifecycle, LogsShowsTheDaemonLog) {
    TownFixture t;
    ASSERT_EQ(t.gt({"daemon", "start"}).exit_code, 0);
    auto logs = t.gt({"daemon", "logs", "-n", "5"});
    EXPECT_EQ(logs.exit_code, 0);
    EXPECT_TRUE(has(logs.out, "daemon started")) << logs.out;
    auto one = t.gt({"daemon", "logs", "-n", "1"});
    EXPECT_EQ(std::count(one.out.begin(), one.out.end(), '\n'), 1) << one.out;
}
