// The daemon under hostile conditions (races and signals are in races_test.cpp): daemon/
// deleted under the daemon, FIFOs where files belong (every path: not_files_test.cpp), temp
// files left by a killed writer; a hung tmux is in faults_test.cpp. The real gt binary, real
// processes, real files.

#include "client/control_client.hpp"
#include "daemon/lock.hpp"
#include "support/harness.hpp"
#include "support/proc_sample.hpp"
#include "support/temp_dir.hpp"
#include "support/tmux_town.hpp"
#include "util/file.hpp"

#include <atomic>
#include <csignal>
#include <fcntl.h>
#include <fstream>
#include <gtest/gtest.h>
#include <mutex>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sys/stat.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

using namespace gt;
using namespace gt::test;
using namespace std::chrono_literals;

namespace {

/// Every PID a command printed ("PID 123").
void set_mtime_ago(const std::string& path, std::chrono::seconds ago) {
    struct timespec times[2];
    ::clock_gettime(CLOCK_REALTIME, &times[0]);
    times[0].tv_sec -= ago.count();
    times[1] = times[0];
    ASSERT_EQ(::utimensat(AT_FDCWD, path.c_str(), times, 0), 0) << path;
}

} // namespace

// Point 1: with no daemon, commands that look at the lock must never take one another for the
// daemon: no command killed by a signal, no "stopped (was PID …)", no false "hung".
TEST(Hardening, DaemonDirectoryReplacedNeverLeavesTwoDaemons) {
    TownFixture t;
    ASSERT_EQ(t.gt({"daemon", "start"}).exit_code, 0);
    pid_t old = t.pid_from_file();
    ASSERT_GT(old, 0);
    // Moved aside rather than deleted: the old lock file still exists, under another name.
    ASSERT_EQ(::rename((t.root() + "/daemon").c_str(), (t.root() + "/daemon.old").c_str()), 0);
    auto start = t.gt({"daemon", "start"}); // at once: the old one has not noticed yet
    EXPECT_TRUE(has(start.out, "Daemon started (PID ")) << start.out << start.err;
    EXPECT_TRUE(eventually([&] { return daemon_pids(t.root()).size() == 1; }, 5s));
    auto pids = daemon_pids(t.root());
    ASSERT_EQ(pids.size(), 1u);
    EXPECT_NE(pids[0], old);
    EXPECT_EQ(t.pid_from_file(), pids[0]) << "the old daemon removed the new one's PID file";
    auto status = t.gt({"daemon", "status"});
    EXPECT_EQ(status.exit_code, 0) << status.out;
    EXPECT_TRUE(has(slurp(t.root() + "/daemon/events.jsonl"), "directory_lost"));
    EXPECT_TRUE(has(slurp(t.root() + "/daemon/daemon.log"), "deleted or replaced"));
}

TEST(Hardening, DaemonDirectoryDeletedStopsTheDaemonWithALogLine) {
    TownFixture t;
    ASSERT_EQ(t.gt({"daemon", "start"}).exit_code, 0);
    pid_t old = t.pid_from_file();
    // After the first heartbeat nothing writes into daemon/ for minutes: rm -rf cannot race.
    // metrics.prom is the last file that heartbeat writes (after state.json).
    ASSERT_TRUE(eventually([&] {
        std::string metrics = slurp(t.root() + "/daemon/metrics.prom");
        return has(metrics, "gt_heartbeats_total{") && has(metrics, "} 1\n# HELP gt_heartbeat_");
    }));
    ASSERT_EQ(std::system(("rm -rf '" + t.root() + "/daemon'").c_str()), 0);
    EXPECT_TRUE(eventually([&] { return daemon_pids(t.root()).empty(); }, 5s))
        << "PID " << old << " still runs on a deleted daemon/";
    EXPECT_TRUE(has(slurp(t.root() + "/daemon/daemon.log"), "deleted or replaced"));
    EXPECT_TRUE(has(slurp(t.root() + "/daemon/events.jsonl"), "directory_lost"));
    EXPECT_FALSE(util::path_exists(t.root() + "/daemon/daemon.pid"));
    EXPECT_EQ(t.gt({"daemon", "status"}).exit_code, 3);
}

// The whole town deleted under a running daemon: the daemon sees it at the first file removed
// and stops, but leaves the removal to finish (no daemon/ made again under it: rm succeeds).
TEST(Hardening, TheTownDeletedUnderTheDaemonIsLeftToGo) {
    TownFixture t;
    ASSERT_EQ(t.gt({"daemon", "start"}).exit_code, 0);
    ASSERT_TRUE(eventually(
        [&] { return has(slurp(t.root() + "/daemon/metrics.prom"), "gt_heartbeats_total"); }));
    EXPECT_EQ(std::system(("rm -rf '" + t.root() + "'").c_str()), 0);
    EXPECT_TRUE(eventually([&] { return daemon_pids(t.root()).empty(); }, 5s));
    std::this_thread::sleep_for(500ms);
    EXPECT_FALSE(util::path_exists(t.root())) << "the daemon made the town again";
}

// Between heartbeats an idle daemon sleeps (design §5.1, §9): its lock-path guard waits on
// inotify, not on a clock. A touch of the lock file is looked at and is no reason to stop;
// daemon/ deleted after that still stops the daemon at once.
TEST(Hardening, AnIdleDaemonSleepsUntilItsLockPathIsTouched) {
    TmuxTown t;
    t.set_all_commands({"sleep", "1000000"});
    t.configure({{"daemon", {{"start_grace", "0s"}, {"heartbeat_interval", "1h"}}}});
    ASSERT_TRUE(t.gt({"daemon", "start"}).success());
    ASSERT_TRUE(eventually([&] { return t.heartbeats() >= 1 && t.alive_sessions() >= 3; }, 20s));
    const pid_t pid = t.pid_from_state();
    std::this_thread::sleep_for(1s); // the state write and the pane watch after the heartbeat
    const long beats = t.heartbeats();
    const long before = sample_process(pid).switches();
    std::this_thread::sleep_for(4s);
    const long after = sample_process(pid).switches();
    ASSERT_EQ(t.heartbeats(), beats) << "a heartbeat in the window: the test proves nothing";
    // ThreadSanitizer's runtime wakes its own thread in the daemon ten times a second.
    if (!has(slurp("/proc/" + std::to_string(pid) + "/maps"), "libtsan")) {
        // The 1 s timer this guard replaced made 4; one stray wake-up is not a clock.
        EXPECT_LE(after - before, 1) << "context switches of the idle daemon's threads in 4 s";
    }

    ASSERT_EQ(::chmod((t.root() + "/daemon/daemon.lock").c_str(), 0644), 0);
    std::this_thread::sleep_for(300ms);
    EXPECT_EQ(t.gt({"daemon", "status"}).exit_code, 0);
    EXPECT_EQ(daemon_pids(t.root()), std::vector<pid_t>{pid});
    ASSERT_EQ(std::system(("rm -rf '" + t.root() + "/daemon'").c_str()), 0);
    EXPECT_TRUE(eventually([&] { return daemon_pids(t.root()).empty(); }, 5s));
    EXPECT_TRUE(has(slurp(t.root() + "/daemon/daemon.log"), "deleted or replaced"));
}

// Point 5: a FIFO where the daemon writes never blocks it.
TEST(Hardening, FifoAsEventLogIsSkippedAndTheDaemonStillStops) {
    TownFixture t;
    ::mkdir((t.root() + "/daemon").c_str(), 0700);
    ASSERT_EQ(::mkfifo((t.root() + "/daemon/events.jsonl").c_str(), 0600), 0);
    auto start = t.gt({"daemon", "start"});
    EXPECT_TRUE(has(start.out, "Daemon started")) << start.out << start.err;
    EXPECT_TRUE(eventually([&] {
        return has(slurp(t.root() + "/daemon/daemon.log"), "not a regular file (a FIFO)");
    }));
    auto stop = t.gt({"daemon", "stop", "--timeout", "5s"});
    EXPECT_TRUE(has(stop.out, "Daemon stopped")) << stop.out << stop.err;
    EXPECT_FALSE(has(stop.err, "SIGKILL")) << stop.err;
}

TEST(Hardening, FifoAsDaemonLogIsAClearErrorNotAHang) {
    TownFixture t;
    ::mkdir((t.root() + "/daemon").c_str(), 0700);
    ASSERT_EQ(::mkfifo((t.root() + "/daemon/daemon.log").c_str(), 0600), 0);
    auto start = t.gt({"daemon", "start"});
    EXPECT_EQ(start.exit_code, 1);
    EXPECT_TRUE(has(start.err, "daemon.log: not a regular file (a FIFO)")) << start.err;
    EXPECT_TRUE(daemon_pids(t.root()).empty());
    EXPECT_EQ(t.gt({"daemon", "status"}).exit_code, 3);
    auto logs = t.gt({"daemon", "logs"});
    EXPECT_FALSE(logs.timed_out);
    EXPECT_EQ(logs.exit_code, 2);
    EXPECT_TRUE(has(logs.err, "not a regular file (a FIFO)")) << logs.err;
}

// Point 6 (SIGTERM while a tmux call hangs) is Faults.AHungTmuxIsKilledAtItsTimeout... in
// faults_test.cpp, with the call's timeout and the heartbeat that completes.

// Point 7: temp files of writers killed mid-write are removed at start, once over a minute old
// or once their writer is gone.
TEST(Hardening, StartRemovesStaleTempFilesOnly) {
    TownFixture t;
    ::mkdir((t.root() + "/daemon").c_str(), 0700);
    std::vector<std::string> stale = {"daemon/state.json.tmp.12345.678",
                                      "daemon/daemon.pid.tmp.12345.9",
                                      "agents/deacon.json.tmp.4242.1"};
    // Fresh, by a live writer (this test): kept. Fresh, by a writer that is gone (a child
    // already reaped): removed, as a daemon SIGKILLed mid-write and restarted leaves it.
    std::string fresh = "daemon/restart_state.json.tmp." + std::to_string(::getpid()) + ".1";
    pid_t gone = ::fork();
    if (gone == 0) {
        ::_exit(0);
    }
    ASSERT_EQ(::waitpid(gone, nullptr, 0), gone);
    stale.push_back("daemon/metrics.prom.tmp." + std::to_string(gone) + ".1");
    for (const auto& f : stale) {
        std::ofstream(t.root() + "/" + f) << "{";
        if (f.find(".prom.") == std::string::npos) {
            set_mtime_ago(t.root() + "/" + f, 120s);
        }
    }
    std::ofstream(t.root() + "/" + fresh) << "{";
    ASSERT_EQ(t.gt({"daemon", "start"}).exit_code, 0);
    for (const auto& f : stale) {
        EXPECT_FALSE(util::path_exists(t.root() + "/" + f)) << f;
    }
    EXPECT_TRUE(util::path_exists(t.root() + "/" + fresh));
    EXPECT_TRUE(has(slurp(t.root() + "/daemon/daemon.log"), "removed a stale temp file"));
}

// Point 11: the daemon's own `notify` command refuses what `gt daemon notify` refuses, for any
// client of the socket; a bad $GT_TMUX_SOCKET stops `start` with exit 2 before anything runs.
TEST(Hardening, DaemonRefusesNotifyWithBadNumbersOrAStrangeAgent) {
    TownFixture t;
    ASSERT_EQ(t.gt({"daemon", "start"}).exit_code, 0);
    auto ask = [&](const nlohmann::json& req) {
        auto reply = client::control_request(t.root(), req, 5000ms);
        EXPECT_TRUE(reply.ok()) << reply.error();
        return reply.ok() ? *reply : nlohmann::json::object();
    };
    auto bad_agent = ask({{"cmd", "notify"}, {"identity", "r9/witness"}});
    EXPECT_FALSE(bad_agent.value("ok", true));
    EXPECT_TRUE(has(bad_agent.value("error", ""), "not an agent of this town")) << bad_agent;
    for (const auto& [key, value] : {std::pair{"exit_code", nlohmann::json(300)},
                                     {"exit_code", nlohmann::json(-1)},
                                     {"exit_code", nlohmann::json(1.5)},
                                     {"signal", nlohmann::json(65)},
                                     {"pane_pid", nlohmann::json(0)},
                                     {"pane_pid", nlohmann::json("12")}}) {
        auto r = ask({{"cmd", "notify"}, {"identity", "deacon"}, {key, value}});
        EXPECT_FALSE(r.value("ok", true)) << key << "=" << value;
        EXPECT_TRUE(has(r.value("error", ""), key)) << r;
    }
    auto good = ask({{"cmd", "notify"}, {"identity", "deacon"}, {"exit_code", 1}});
    EXPECT_TRUE(good.value("ok", false)) << good;
}

TEST(Hardening, BadTmuxSocketNameStopsStartWithExit2) {
    TownFixture t;
    for (const char* bad : {"../x", "a/b", ".."}) {
        auto r = t.gt({"daemon", "start"}, {std::string("GT_TMUX_SOCKET=") + bad});
        EXPECT_EQ(r.exit_code, 2) << bad << ": " << r.out << r.err;
        EXPECT_TRUE(has(r.err, "GT_TMUX_SOCKET")) << r.err;
        EXPECT_TRUE(daemon_pids(t.root()).empty());
    }
}

// Review findings: a start cut short by our own shutdown is not a failed start, and a PID file
// removed under a running daemon is put back by its next pass.
TEST(Hardening, AStartCutShortByStopIsNotAFailedStart) {
    TownFixture t;
    t.set_daemon_field("tmux_timeout", "\"60s\"");
    TempDir bin("gt-slow-new-session");
    std::string log = bin.path() + "/calls";
    std::string path = bin.path() + ":" + (std::getenv("PATH") ? std::getenv("PATH") : "/bin");
    {
        std::ofstream out(bin.path() + "/tmux");
        std::string real;
        for (const char* dir : {"/usr/bin", "/usr/local/bin", "/bin"}) {
            if (::access((std::string(dir) + "/tmux").c_str(), X_OK) == 0) {
                real = std::string(dir) + "/tmux";
                break;
            }
        }
        ASSERT_FALSE(real.empty());
        out << "#!/bin/sh\necho \"$*\" >> '" << log << "'\n"
            << "case \"$*\" in *new-session*) exec sleep 120;; esac\n"
            << "exec '" << real << "' \"$@\"\n";
    }
    ::chmod((bin.path() + "/tmux").c_str(), 0755);
    ASSERT_EQ(t.gt({"daemon", "start"}, {"PATH=" + path}).exit_code, 0);
    ASSERT_TRUE(eventually([&] { return has(slurp(log), "new-session"); })) << slurp(log);
    auto stop = t.gt({"daemon", "stop", "--timeout", "5s"});
    EXPECT_TRUE(has(stop.out, "Daemon stopped")) << stop.out << stop.err;
    std::string events = slurp(t.root() + "/daemon/events.jsonl");
    EXPECT_FALSE(has(events, "start_failed")) << events;
    EXPECT_FALSE(has(slurp(t.root() + "/daemon/daemon.log"), "starting session"));
}

TEST(Hardening, APidFileRemovedUnderTheDaemonIsPutBack) {
    TownFixture t;
    ASSERT_EQ(t.gt({"daemon", "start"}).exit_code, 0);
    pid_t pid = t.pid_from_file();
    ASSERT_GT(pid, 0);
    ASSERT_EQ(::unlink((t.root() + "/daemon/daemon.pid").c_str()), 0);
    ASSERT_EQ(t.gt({"daemon", "heartbeat"}).exit_code, 0);
    EXPECT_TRUE(eventually([&] { return t.pid_from_file() == pid; }));
}

TEST(Hardening, ATownPathIsNeverReadAsATmuxFormat) {
    // tmux expands formats in new-session's start directory: under `t#(touch …)x` the server ran
    // the command, and every agent started in the server's directory instead of its own.
    TmuxTown t(false, "t#(touch format-ran)x #{session_name} ##");
    t.configure({{"daemon", {{"heartbeat_interval", "1h"}}}});
    t.set_all_commands({"sleep", "1000"});
    ASSERT_TRUE(t.gt({"daemon", "start"}).success());
    for (const auto& [session, dir] : {std::pair{"gt-deacon", "/deacon"},
                                       {"gt-r1-witness", "/r1/witness"},
                                       {"gt-r1-refinery", "/r1/refinery/rig"}}) {
        ASSERT_TRUE(eventually([&] { return t.pane_pid(session).has_value(); })) << session;
        char cwd[4096] = {};
        std::string link = "/proc/" + std::to_string(*t.pane_pid(session)) + "/cwd";
        ssize_t n = ::readlink(link.c_str(), cwd, sizeof cwd - 1);
        ASSERT_GT(n, 0) << link;
        EXPECT_EQ(std::string(cwd, static_cast<std::size_t>(n)), t.root() + dir) << session;
    }
    // Wherever the server or the daemon would have run it.
    pid_t server = static_cast<pid_t>(
        std::strtol(t.tmux({"display-message", "-p", "#{pid}"}).out.c_str(), nullptr, 10));
    for (pid_t pid : {server, t.pid_from_state(), ::getpid()}) {
        char cwd[4096] = {};
        std::string link = "/proc/" + std::to_string(pid) + "/cwd";
        ssize_t n = ::readlink(link.c_str(), cwd, sizeof cwd - 1);
        ASSERT_GT(n, 0) << link;
        EXPECT_FALSE(
            util::path_exists(std::string(cwd, static_cast<std::size_t>(n)) + "/format-ran"))
            << "the tmux server ran a command named in the town's path";
    }
}
