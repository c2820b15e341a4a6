// A pass after the wall clock was set or the machine slept (design §17): the executor driven
// with clocks that the test moves apart, against agent files on disk and a fake tmux.
#include "executor/recovery.hpp"

#include "state/agent_state.hpp"
#include "support/executor_town.hpp"

#include <gtest/gtest.h>

using namespace gt;
using namespace std::chrono_literals;
using test::ExecutorTown;

namespace {

const std::vector<std::string> k_agents{"deacon", "r1/witness", "r1/refinery"};
const std::vector<std::string> k_sessions{"gt-deacon", "gt-r1-witness", "gt-r1-refinery"};

/// Every agent reports now; their panes printed `printed_ago`.
void all_report(ExecutorTown& t, util::Millis printed_ago = 0ms) {
    for (const auto& id : k_agents) {
        t.report(id, "running", t.now);
    }
    t.show(k_sessions, t.now - printed_ago);
}

/// The deacon and the refinery report now; the witness does not.
void others_report(ExecutorTown& t) {
    t.report("deacon", "running", t.now);
    t.report("r1/refinery", "running", t.now);
}

std::string status_of(const ExecutorTown& t, const std::string& id) {
    auto s = state::read_agent_state(t.dir.path() + "/" + test::ident(id).state_file());
    return s ? s->raw_state : s.error();
}

} // namespace

TEST(ClockJump, SetAnHourForwardEveryReportLooksAnHourOldYetNothingIsMarkedOrKilled) {
    ExecutorTown t;
    all_report(t);
    t.pass();
    // An hour forward: every report and every pane's output now look an hour old.
    t.set_wall_clock(1h);
    t.show(k_sessions, t.now - 1h);
    for (int pass = 0; pass < 5; ++pass) {
        t.pass();
        t.now += 1min;
    }
    for (const auto& id : k_agents) {
        EXPECT_EQ(status_of(t, id), "running") << id;
    }
    EXPECT_EQ(t.runner.count("kill-session"), 0u);
    EXPECT_EQ(t.runner.count("send-keys"), 0u);
    EXPECT_EQ(t.events_of("clock_jump"), 1u);
    EXPECT_NE(t.events_text().find("wall clock set +1h"), std::string::npos) << t.events_text();
    EXPECT_EQ(t.events_of("marked_dead"), 0u);
}

TEST(ClockJump, NoAgentIsExemptForeverAfterTheClockIsSetBack) {
    ExecutorTown t;
    all_report(t);
    t.pass();
    // An hour back: every report now lies an hour in the future, and nobody reports again.
    t.set_wall_clock(-1h);
    t.show(k_sessions, t.now - 1h); // tmux's clock went back too; its panes stay silent
    t.pass();
    EXPECT_EQ(t.events_of("clock_jump"), 1u);
    // 15 min after the witness's last report, the grace long over; the others report on.
    t.now += 15min;
    others_report(t);
    t.show(k_sessions, t.now - 20min);
    t.pass();
    EXPECT_EQ(t.events_of("marked_dead"), 0u); // exactly the timeout: not older
    t.now += 1s;
    t.pass();
    EXPECT_EQ(t.events_of("marked_dead"), 1u) << t.events_text();
    EXPECT_EQ(status_of(t, "r1/witness"), "dead");
}

TEST(ClockJump, ABackoffIsNotStretchedByTheClockSetBack) {
    ExecutorTown t;
    all_report(t);
    t.show({"gt-deacon", "gt-r1-refinery"}); // the witness is gone
    t.pass();                                // its first start: not a restart
    t.pass();                                // gone again: a restart, backed off after
    ASSERT_EQ(t.started_sessions().size(), 2u);
    auto until = t.recovery.tracker().find("r1/witness")->backoff_until;
    ASSERT_TRUE(until);
    auto backoff = *until - t.now;
    EXPECT_LE(backoff, 36s); // 30 s ± 20 %
    t.set_wall_clock(-1h);
    t.pass();
    EXPECT_EQ(t.started_sessions().size(), 2u); // still backed off
    t.now += backoff + 1s;
    t.pass();
    EXPECT_EQ(t.started_sessions().size(), 3u) << t.events_text(); // not an hour later
    EXPECT_EQ(t.events_of("clock_jump"), 1u);
}

TEST(ClockJump, AWakingMachineGivesEveryAgentItsGraceAgain) {
    ExecutorTown t;
    all_report(t);
    t.pass();
    t.sleep(1h);
    t.show(k_sessions, t.now - 1h);
    t.pass();
    EXPECT_EQ(t.events_of("resumed"), 1u);
    EXPECT_NE(t.events_text().find("the machine slept for 1h"), std::string::npos);
    EXPECT_EQ(t.events_of("clock_jump"), 0u);
    t.now += 5min - 1ms; // the grace, from waking
    t.pass();
    EXPECT_EQ(t.events_of("marked_dead"), 0u);
    // The others reported after waking; the witness has not: now it is judged.
    others_report(t);
    t.now += 1ms;
    t.pass();
    EXPECT_EQ(t.events_of("marked_dead"), 1u);
    EXPECT_EQ(status_of(t, "r1/witness"), "dead");
    EXPECT_EQ(t.runner.count("kill-session"), 0u); // the circuit breaker acts next pass
}

TEST(ClockJump, AWholeTownStaleAfterWakingIsAStormNotThreeDeaths) {
    ExecutorTown t;
    all_report(t);
    t.pass();
    t.sleep(1h);
    t.show(k_sessions, t.now - 1h);
    t.pass();
    t.now += 5min;
    t.pass();
    EXPECT_EQ(t.events_of("marked_dead"), 0u);
    EXPECT_EQ(t.events_of("mass_stale"), 1u);
    EXPECT_NE(t.events_text().find("MASS_STALE: 3 of 3 reporting agents"), std::string::npos)
        << t.events_text();
}

TEST(StaleReport, ABusyPaneKeepsItsAgentAndTellsTheWitnessOnce) {
    ExecutorTown t;
    all_report(t);
    t.pass();
    t.now += 20min;
    others_report(t);
    t.show(k_sessions, t.now - 5s); // the witness still prints, but stopped reporting
    t.pass();
    t.now += 3min;
    t.show(k_sessions, t.now - 5s);
    t.pass();
    EXPECT_EQ(status_of(t, "r1/witness"), "running");
    EXPECT_EQ(t.events_of("stale_report"), 1u);
    EXPECT_EQ(t.events_of("notified"), 1u);
    EXPECT_NE(t.events_text().find("STALE_REPORT: r1/witness has not reported for 20m"),
              std::string::npos)
        << t.events_text();
    // Its pane falls silent too: two witnesses, marked dead.
    t.now += 15min;
    others_report(t);
    t.show({"gt-deacon", "gt-r1-refinery"}, t.now - 5s);
    t.show(k_sessions, t.now - 16min);
    t.pass();
    EXPECT_EQ(status_of(t, "r1/witness"), "dead");
}
