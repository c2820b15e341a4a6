// Never kill a healthy agent (design §17), on a real tmux server with the real daemon: the
// wall clock moved an hour forward under running agents, and a tmux server killed under twenty.
#include "support/tmux_town.hpp"
#include "util/file.hpp"
#include "util/time.hpp"

#include <algorithm>
#include <gtest/gtest.h>
#include <thread>

using namespace std::chrono_literals;
using gt::test::eventually;
using gt::test::has;
using gt::test::TmuxTown;
using json = nlohmann::json;

namespace {

long long ts_ms(const json& event) {
    auto t = gt::util::parse_time(event.value("ts", ""));
    return t ? t->time_since_epoch().count() : 0;
}

} // namespace

TEST(ClockJumpLive, AnHourForwardAtRunTimeMarksKillsAndRestartsNoAgent) {
    TmuxTown t;
    t.add_polecats(5);
    // The real simulated agent, reporting every 30 s as the agents do.
    t.set_all_commands({GT_BINARY, "agent", "simulate", "--report-every", "30s"});
    t.configure({{"daemon",
                  {{"heartbeat_interval", "300ms"},
                   {"start_grace", "2s"},
                   {"dead_agent_timeout", "2m"},
                   {"gupp_timeout", "2m"},
                   {"deacon_stale", "2m"},
                   {"deacon_kill", "3m"}}}});
    gt::test::TempDir dir("gt-skew");
    const std::string skew = dir.path() + "/skew";
    ASSERT_TRUE(gt::util::write_file_atomic(skew, "0"));
    // The daemon starts the tmux server, so every agent shares the daemon's wall clock.
    ASSERT_TRUE(t.gt({"daemon", "start"}, {"GT_TEST_CLOCK_SKEW_FILE=" + skew}).success());
    ASSERT_TRUE(eventually([&] { return t.alive_sessions() == 8; }, 20s));
    std::map<std::string, long> panes;
    for (const auto& s : t.sessions()) {
        panes[s] = *t.pane_pid(s);
    }
    std::this_thread::sleep_for(2500ms); // out of the start grace, every agent reported
    ASSERT_TRUE(t.wait_heartbeats(2));
    const std::size_t events_before = t.events().size();

    ASSERT_TRUE(gt::util::write_file_atomic(skew, "1h"));
    ASSERT_TRUE(eventually([&] { return !t.events("clock_jump").empty(); }, 10s)) << t.log();
    EXPECT_TRUE(has(t.events("clock_jump")[0].value("detail", ""), "wall clock set +1h"));
    // The grace given again (2 s) and as long again: every pass judges ages an hour off.
    std::this_thread::sleep_for(4s);
    ASSERT_TRUE(t.wait_heartbeats(3));

    auto events = t.events();
    for (std::size_t i = events_before; i < events.size(); ++i) {
        const std::string kind = events[i].value("kind", "");
        EXPECT_TRUE(kind == "clock_jump" || kind == "condition") << events[i].dump();
    }
    for (const auto& [session, pid] : panes) {
        EXPECT_EQ(t.pane_pid(session), pid) << session;
    }
    auto status = t.gt({"daemon", "status"});
    EXPECT_TRUE(has(status.out, "clock:           wall clock set +1h at")) << status.out;
    EXPECT_TRUE(has(status.out, "of 5 starts left per 10s")) << status.out;
}

TEST(StormLive, ATmuxServerKilledUnderTwentyAgentsIsOneStormRecoveredWithinTheBudget) {
    TmuxTown t;
    t.add_polecats(17); // 20 agents with deacon, witness and refinery
    t.set_all_commands({"sleep", "1000"});
    t.configure({{"daemon",
                  {{"heartbeat_interval", "1m"}, // the pane watch and the wake-ups do the work
                   {"start_grace", "500ms"},
                   {"start_budget", 5},
                   {"start_budget_window", "2s"}}}});
    ASSERT_TRUE(t.gt({"daemon", "start"}).success());
    ASSERT_TRUE(eventually([&] { return t.alive_sessions() == 20; }, 20s));
    std::this_thread::sleep_for(2500ms); // the first starts leave the budget window
    const long long killed_at = gt::util::now().time_since_epoch().count();
    ASSERT_TRUE(t.tmux({"kill-server"}).success());

    ASSERT_TRUE(eventually([&] { return t.alive_sessions() == 20; }, 60s)) << t.log();
    std::this_thread::sleep_for(1s);
    ASSERT_EQ(t.events("mass_death").size(), 1u) << t.log();
    EXPECT_TRUE(has(t.events("mass_death")[0].value("detail", ""), "the tmux server is gone"))
        << t.events("mass_death")[0].dump();
    auto notified = t.events("notified");
    ASSERT_EQ(notified.size(), 1u) << t.log();
    EXPECT_TRUE(has(notified[0].value("detail", ""), "mayor: MASS_DEATH: 20 agents died"));
    EXPECT_TRUE(t.events("crash_loop").empty());

    // The starts after the kill: 5 per 2 s at most, the deacon and the witness in the first.
    std::vector<std::pair<long long, std::string>> starts;
    for (const auto& e : t.events()) {
        std::string kind = e.value("kind", "");
        if ((kind == "started" || kind == "restarted") && ts_ms(e) >= killed_at) {
            starts.emplace_back(ts_ms(e), e.value("identity", ""));
        }
    }
    ASSERT_EQ(starts.size(), 20u) << t.log();
    std::sort(starts.begin(), starts.end());
    for (std::size_t i = 5; i < starts.size(); ++i) {
        EXPECT_GE(starts[i].first - starts[i - 5].first, 1900) << "start " << i;
    }
    std::vector<std::string> first;
    for (std::size_t i = 0; i < 5; ++i) {
        first.push_back(starts[i].second);
    }
    EXPECT_NE(std::find(first.begin(), first.end(), "deacon"), first.end());
    EXPECT_NE(std::find(first.begin(), first.end(), "r1/witness"), first.end()) << t.log();
    // They did not crash: no backoff, no count towards a crash loop.
    auto rs = json::parse(gt::test::slurp(t.root() + "/daemon/restart_state.json"));
    EXPECT_EQ(rs["r1/polecats/p0"].value("restart_count", -1), 0) << rs.dump();
}

// Issue 22 point 7: `kill -9` of the daemon during a storm, and the new daemon forgot the
// budget window and the storm: it started more agents at once than the budget allows and
// mailed a second MASS_DEATH for the same storm.
TEST(StormLive, ADaemonKilledDuringAStormLeavesItsBudgetAndStormToTheNext) {
    TmuxTown t;
    t.add_polecats(5); // 8 agents with deacon, witness and refinery
    t.set_all_commands({"sleep", "1000"});
    // A window far beyond the test: the 8 first starts use 8 of 10, two are left for after
    // the kill, and no more.
    t.configure({{"daemon",
                  {{"heartbeat_interval", "1m"},
                   {"start_grace", "500ms"},
                   {"start_budget", 10},
                   {"start_budget_window", "1h"}}}});
    ASSERT_TRUE(t.gt({"daemon", "start"}).success());
    ASSERT_TRUE(eventually([&] { return t.alive_sessions() == 8; }, 20s));
    const long long killed_at = gt::util::now().time_since_epoch().count();
    ASSERT_TRUE(t.tmux({"kill-server"}).success());
    ASSERT_TRUE(eventually([&] { return t.alive_sessions() == 2; }, 20s)) << t.log();
    ASSERT_TRUE(eventually([&] { return t.events("mass_death").size() == 1; }, 10s)) << t.log();

    pid_t first = t.pid_from_state();
    ASSERT_EQ(::kill(first, SIGKILL), 0);
    ASSERT_TRUE(eventually([&] { return gt::test::daemon_pids(t.root()).empty(); }, 10s));
    ASSERT_TRUE(t.gt({"daemon", "start"}).success());
    ASSERT_TRUE(eventually([&] { return t.heartbeats() >= 1; }, 20s));
    ASSERT_TRUE(t.gt({"daemon", "heartbeat"}).success());
    ASSERT_TRUE(t.gt({"daemon", "heartbeat"}).success());
    std::size_t starts = 0;
    for (const auto& e : t.events()) {
        std::string kind = e.value("kind", "");
        if ((kind == "started" || kind == "restarted") && ts_ms(e) >= killed_at) {
            ++starts;
        }
    }
    EXPECT_EQ(starts, 2u) << t.log();
    EXPECT_EQ(t.alive_sessions(), 2u);
    EXPECT_EQ(t.events("mass_death").size(), 1u) << t.log();
    auto status = t.gt({"daemon", "status"});
    EXPECT_TRUE(has(status.out, "storm:           8 agents dead")) << status.out;
    EXPECT_TRUE(has(status.out, "start budget:    0 of 10 starts left per 1h")) << status.out;
}
