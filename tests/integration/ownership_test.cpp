// One town, one set of agents (design §19.1): two towns on one tmux server leave each other's
// sessions alone; an unmarked session an earlier gt started for the town is adopted, any other
// unmarked one is not. The real gt, real tmux servers, real processes.

#include "control_helpers.hpp"
#include "support/harness.hpp"
#include "support/tmux_town.hpp"
#include "util/time.hpp"

#include <gtest/gtest.h>
#include <map>
#include <nlohmann/json.hpp>
#include <thread>

using namespace gt;
using namespace gt::test;
using namespace std::chrono_literals;

namespace {

const std::vector<std::string> k_sessions{"gt-deacon", "gt-r1-witness", "gt-r1-refinery"};

/// The pane process of each of the town's sessions.
std::map<std::string, long> pane_pids(const TmuxTown& t) {
    std::map<std::string, long> out;
    for (const auto& s : k_sessions) {
        out[s] = t.pane_pid(s).value_or(0);
    }
    return out;
}

bool all_running(const TmuxTown& t) {
    for (const auto& s : k_sessions) {
        if (!t.pane_pid(s)) {
            return false;
        }
    }
    return true;
}

/// Runs tmux on the server `-L socket`.
proc::RunResult tmux_on(const std::string& socket, std::vector<std::string> args) {
    proc::RealProcessRunner runner;
    proc::RunOptions o;
    o.argv = {"tmux", "-L", socket};
    o.argv.insert(o.argv.end(), args.begin(), args.end());
    auto r = runner.run(o);
    return r ? *r : proc::RunResult{};
}

std::string mark_of(const TmuxTown& t, const std::string& session) {
    auto r = t.tmux({"show-options", "-v", "-t", "=" + session + ":", "@gt_town"});
    return r.success() ? r.out.substr(0, r.out.find('\n')) : "";
}

} // namespace

// Issue 22 point 2: the second town's daemon adopted the first town's sessions, and one
// `lifecycle restart` of its deacon killed the first town's healthy deacon.
TEST(Ownership, TwoTownsOnOneServerNeverTouchEachOthersAgents) {
    TmuxTown a;
    TmuxTown b;
    b.share_server_of(a);
    setup(a);
    setup(b);
    ASSERT_EQ(a.gt({"daemon", "start"}).exit_code, 0);
    ASSERT_TRUE(eventually([&] { return all_running(a); }, 15s));
    const auto before = pane_pids(a);
    for (const auto& s : k_sessions) {
        EXPECT_EQ(mark_of(a, s), a.root()) << s;
    }

    ASSERT_EQ(b.gt({"daemon", "start"}).exit_code, 0);
    ASSERT_TRUE(eventually([&] { return b.heartbeats() >= 1; }, 15s));
    ASSERT_TRUE(b.gt({"daemon", "heartbeat"}).success());
    EXPECT_EQ(b.events("session_conflict").size(), 3u) << b.log();
    EXPECT_TRUE(b.events("started").empty()) << b.log();
    EXPECT_TRUE(b.events("killed").empty()) << b.log();

    // B's own deacon asks to be restarted: the session of that name is A's, so B refuses.
    ASSERT_TRUE(b.gt({"lifecycle", "restart", "--as", "deacon"}).success());
    ASSERT_TRUE(eventually(
        [&] { return !b.events("lifecycle_refused").empty() || !b.events("lifecycle").empty(); },
        10s))
        << b.log();
    EXPECT_EQ(b.events("lifecycle_refused", "deacon").size(), 1u) << b.log();
    EXPECT_EQ(b.events("session_conflict").size(), 3u) << "once per condition";
    EXPECT_EQ(pane_pids(a), before) << "A's agents were killed or restarted";
    EXPECT_EQ(b.state()["counters"]["notifications"], 3) << "one notification per conflict";

    auto status = b.gt({"daemon", "status"});
    EXPECT_TRUE(has(status.out, "conflicts:")) << status.out;
    EXPECT_TRUE(has(status.out, "gt-deacon (town " + a.root() + ")")) << status.out;
    auto list = b.gt({"agent", "list"});
    EXPECT_TRUE(has(list.out, "foreign")) << list.out;
    EXPECT_TRUE(has(list.out, "conflict: the session is the town " + a.root() + "'s")) << list.out;

    // A's witness crashes: A restarts it, B does not join in.
    long killed = 0;
    ASSERT_TRUE(kill_and_see_replaced(a, "gt-r1-witness", &killed));
    auto replaced = a.pane_pid("gt-r1-witness");
    ASSERT_TRUE(b.gt({"daemon", "heartbeat"}).success());
    ASSERT_TRUE(b.gt({"daemon", "heartbeat"}).success());
    EXPECT_EQ(a.pane_pid("gt-r1-witness"), replaced);
    EXPECT_TRUE(b.events("started").empty()) << b.log();
    EXPECT_TRUE(b.events("restarted").empty()) << b.log();
    EXPECT_TRUE(b.events("killed").empty()) << b.log();
    EXPECT_EQ(a.events("restarted", "r1/witness").size() + a.events("started", "r1/witness").size(),
              2u)
        << a.log();
}

// An unmarked session whose environment names this town (started by a gt from before marks)
// is marked and adopted, its agent left running; an unmarked one that names no town is a
// conflict, and neither is asked about again at the next pass.
TEST(Ownership, AnEarlierGtsSessionIsAdoptedAStrangersIsNot) {
    TmuxTown t;
    setup(t);
    ASSERT_TRUE(t.tmux({"new-session", "-d", "-s", "gt-deacon", "-e", "GT_TOWN_ROOT=" + t.root(),
                        "--", "sleep", "1000"})
                    .success());
    ASSERT_TRUE(t.tmux({"new-session", "-d", "-s", "gt-r1-witness", "-e",
                        "GT_TOWN_ROOT=" + t.root() + "-elsewhere", "--", "sleep", "1000"})
                    .success());
    const auto deacon = t.pane_pid("gt-deacon");
    const auto witness = t.pane_pid("gt-r1-witness");
    ASSERT_TRUE(deacon && witness);

    ASSERT_EQ(t.gt({"daemon", "start"}).exit_code, 0);
    ASSERT_TRUE(eventually([&] { return t.heartbeats() >= 1; }, 15s));
    EXPECT_EQ(t.pane_pid("gt-deacon"), deacon) << t.log();
    EXPECT_EQ(mark_of(t, "gt-deacon"), t.root());
    EXPECT_EQ(t.events("session_adopted").size(), 1u) << t.log();
    EXPECT_EQ(t.pane_pid("gt-r1-witness"), witness) << t.log();
    EXPECT_EQ(mark_of(t, "gt-r1-witness"), "");
    ASSERT_EQ(t.events("session_conflict", "r1/witness").size(), 1u) << t.log();
    EXPECT_TRUE(t.pane_pid("gt-r1-refinery")) << "its own agents still start";

    ASSERT_TRUE(t.gt({"daemon", "heartbeat"}).success());
    EXPECT_EQ(t.events("session_adopted").size(), 1u);
    EXPECT_EQ(t.events("session_conflict").size(), 1u);
}

// Issue 22 point 3: a daemon started again with another GT_TMUX_SOCKET started every agent a
// second time on the new server, and mailed a false MASS_DEATH ("the tmux server is gone").
TEST(Ownership, ADaemonPointedAtAnotherServerStartsNoSecondSetOfAgents) {
    TmuxTown t;
    setup(t);
    ASSERT_EQ(t.gt({"daemon", "start"}).exit_code, 0);
    ASSERT_TRUE(eventually([&] { return all_running(t); }, 15s));
    ASSERT_TRUE(t.gt({"daemon", "heartbeat"}).success()); // the server is recorded
    const auto before = pane_pids(t);
    const std::string first = t.socket();
    ASSERT_EQ(t.gt({"daemon", "stop"}).exit_code, 0);
    const std::size_t started = t.events("started").size();

    t.use_socket(first + "-other");
    ASSERT_EQ(t.gt({"daemon", "start"}).exit_code, 0);
    ASSERT_TRUE(eventually([&] { return t.heartbeats() >= 1; }, 15s));
    ASSERT_TRUE(t.gt({"daemon", "heartbeat"}).success());
    EXPECT_TRUE(t.sessions().empty()) << "agents started on the new server";
    EXPECT_EQ(t.events("started").size(), started) << t.log();
    EXPECT_EQ(t.events("server_changed").size(), 1u) << t.log();
    EXPECT_TRUE(t.events("mass_death").empty()) << t.log();
    EXPECT_EQ(t.state()["counters"]["notifications"], 1);
    auto status = t.gt({"daemon", "status"});
    EXPECT_TRUE(has(status.out, "tmux server:     CHANGED: 3 of this town's sessions run on the "
                                "tmux server /"))
        << status.out;
    EXPECT_TRUE(has(status.out, "/" + first + " (server process ")) << status.out;
    EXPECT_TRUE(has(status.out, "back to \"" + first + "\" and run gt daemon restart"))
        << status.out;
    for (const auto& s : k_sessions) {
        auto r = tmux_on(first, {"display-message", "-p", "-t", "=" + s + ":", "#{pane_pid}"});
        EXPECT_EQ(std::stol("0" + r.out.substr(0, r.out.find('\n'))), before.at(s)) << s;
    }

    // The person ends the agents on the first server: the town moves to the new one.
    tmux_on(first, {"kill-server"});
    // A pass in the moment the server exits cannot tell what it holds, and waits.
    ASSERT_TRUE(eventually(
        [&] {
            return t.gt({"daemon", "heartbeat"}).success() && all_running(t);
        },
        15s))
        << t.log();
    ASSERT_TRUE(t.gt({"daemon", "heartbeat"}).success());
    EXPECT_EQ(t.state().value("server_changed", ""), "");
    EXPECT_TRUE(has(t.state()["tmux_server"]["socket"].get<std::string>(), first + "-other"));
    EXPECT_EQ(t.events("server_changed").size(), 1u);
}

// Issue 22 point 4: HEALTH_CHECK was typed into a pane on every pass while the deacon's
// heartbeat was stale: into a pager, and after someone's unsent draft (which it submitted). One
// rule for every keystroke: the agent in the foreground, an empty input line, a quiet pane, at
// most once per deacon_stale; the text and Enter as keystrokes of their own.
TEST(Keystrokes, NothingIsTypedIntoAPagerOrAfterSomeonesDraft) {
    TmuxTown t;
    setup(t);
    // The deacon's pane: a pager in front of a line reader (what a person or a tool may open).
    t.configure(
        {{"roles",
          {{"deacon",
            {{"command", {"perl", "-e", "system('less', '/etc/hostname'); exec('cat')"}}}}}},
         {"daemon",
          {{"deacon_stale", "30s"}, {"deacon_kill", "1h"}, {"screens", {{"quiet_after", "1s"}}}}}});
    t.write_file(
        "deacon/heartbeat.json",
        nlohmann::json({{"timestamp", gt::util::format_time(gt::util::now() - 2h)}, {"cycle", 1}})
            .dump());
    ASSERT_EQ(t.gt({"daemon", "start"}).exit_code, 0);
    ASSERT_TRUE(eventually([&] { return t.pane_pid("gt-deacon").has_value(); }, 15s));
    auto beat_when_quiet = [&] {
        std::this_thread::sleep_for(1500ms); // the pane quiet for quiet_after
        return t.gt({"daemon", "heartbeat"}).success();
    };

    ASSERT_TRUE(beat_when_quiet());
    ASSERT_TRUE(eventually([&] { return !t.events("typing_held", "deacon").empty(); }, 5s))
        << t.log();
    EXPECT_TRUE(has(t.events("typing_held", "deacon").back().value("detail", ""), "less (pid "))
        << t.log();
    EXPECT_TRUE(t.events("nudged").empty());
    auto list = t.gt({"agent", "list"});
    EXPECT_TRUE(has(list.out, "waits to type: less (pid ")) << list.out;

    // The person leaves the pager and starts a line of their own, unsent.
    ASSERT_TRUE(t.tmux({"send-keys", "-t", "=gt-deacon:", "q"}).success());
    ASSERT_TRUE(eventually([&] { return !has(t.capture("gt-deacon"), "(END)"); }, 5s));
    ASSERT_TRUE(t.tmux({"send-keys", "-t", "=gt-deacon:", "-l", "note to self"}).success());
    ASSERT_TRUE(beat_when_quiet());
    ASSERT_TRUE(eventually(
        [&] {
            auto held = t.events("typing_held", "deacon");
            return !held.empty() && has(held.back().value("detail", ""), "note to self");
        },
        5s))
        << t.log();
    EXPECT_TRUE(t.events("nudged").empty());
    EXPECT_FALSE(has(t.capture("gt-deacon"), "HEALTH_CHECK")) << t.capture("gt-deacon");

    // The line cleared: typed once, and taken (cat prints it back on a line of its own).
    ASSERT_TRUE(t.tmux({"send-keys", "-t", "=gt-deacon:", "C-u"}).success());
    ASSERT_TRUE(beat_when_quiet());
    ASSERT_TRUE(eventually([&] { return t.events("nudged", "deacon").size() == 1; }, 5s))
        << t.log();
    EXPECT_FALSE(has(t.capture("gt-deacon"), "note to self")) << t.capture("gt-deacon");
    EXPECT_TRUE(t.events("typing_not_taken").empty()) << t.log();
    ASSERT_TRUE(beat_when_quiet());
    ASSERT_TRUE(t.gt({"daemon", "heartbeat"}).success());
    EXPECT_EQ(t.events("nudged", "deacon").size(), 1u) << "at most once per deacon_stale";
}
