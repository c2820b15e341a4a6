// The supervisor's decisions, driven with a fake snapshot and a fixed clock.
#include "policy/decide.hpp"

#include "support/fixed_time.hpp"
#include "support/policy_town.hpp"

#include <gtest/gtest.h>

using namespace gt;
using namespace gt::policy;
using gt::test::t0;
using namespace std::chrono_literals;
using state::AgentStatus;

using test::ident;
using test::Town;

TEST(Supervisor, HealthyTownNeedsNothing) {
    Town t;
    EXPECT_TRUE(t.actions().empty());
}

TEST(Supervisor, SupervisesDeaconRigRolesMayorWhenEnabledAndHookedPolecats) {
    Town t;
    t.polecat("nux", AgentStatus::working, "task-1", true);
    t.polecat("idle", AgentStatus::idle, "", false);
    t.report("other/polecats/ghost", AgentStatus::working, 1min, "x"); // rig not in rigs.json
    std::vector<std::string> ids;
    for (auto& id : supervised(t.in)) {
        ids.push_back(id.str());
    }
    EXPECT_EQ(ids, (std::vector<std::string>{"deacon", "gastown/witness", "gastown/refinery",
                                             "gastown/polecats/nux"}));
    t.config.roles["mayor"].enabled = true;
    t.config.roles["refinery"].enabled = false;
    ids.clear();
    for (auto& id : supervised(t.in)) {
        ids.push_back(id.str());
    }
    EXPECT_EQ(ids, (std::vector<std::string>{"deacon", "mayor", "gastown/witness",
                                             "gastown/polecats/nux"}));
}

TEST(Supervisor, MissingSessionIsStarted) {
    Town t;
    t.no_session("gastown/witness");
    auto a = t.of(ActionKind::start, "gastown/witness");
    ASSERT_EQ(a.size(), 1u);
    EXPECT_FALSE(a[0].kill_first);
    EXPECT_EQ(a[0].reason, "session missing");
}

TEST(Supervisor, ZombieSessionOfATrustedAgentIsReplaced) {
    Town t;
    t.healthy_session("deacon", false); // an idle shell where the agent should be
    auto a = t.of(ActionKind::start, "deacon");
    ASSERT_EQ(a.size(), 1u);
    EXPECT_TRUE(a[0].kill_first);
}

TEST(Supervisor, CircuitBreakerRestartsAHealthyLookingDeadAgent) {
    Town t;
    t.report("gastown/refinery", AgentStatus::dead, 20min);
    auto a = t.of(ActionKind::restart, "gastown/refinery");
    ASSERT_EQ(a.size(), 1u);
    EXPECT_EQ(a[0].reason, "circuit breaker: agent marked dead");
    // Within the start grace of the daemon's own start it is left alone.
    t.in.started["gastown/refinery"] = t0() - 4min;
    EXPECT_TRUE(t.of(ActionKind::restart, "gastown/refinery").empty());
}

TEST(Supervisor, UntrustedReportWithHealthySessionIsLeftAlone) {
    for (auto s :
         {AgentStatus::idle, AgentStatus::stopped, AgentStatus::stuck, AgentStatus::unknown}) {
        Town t;
        t.report("gastown/witness", s, 2h);
        EXPECT_TRUE(t.of(ActionKind::start).empty());
        EXPECT_TRUE(t.of(ActionKind::restart).empty());
        EXPECT_EQ(t.of(ActionKind::leave, "gastown/witness").size(), 1u);
    }
    Town t;
    t.no_report("gastown/witness");
    EXPECT_EQ(t.of(ActionKind::leave, "gastown/witness").size(), 1u);
    EXPECT_TRUE(t.of(ActionKind::start).empty());
}

TEST(Supervisor, UntrustedReportWithoutSessionIsStarted) {
    Town t;
    t.no_report("gastown/witness");
    t.no_session("gastown/witness");
    EXPECT_EQ(t.of(ActionKind::start, "gastown/witness").size(), 1u);
}

TEST(Supervisor, BackoffAndCrashLoopHoldRestartsBack) {
    Town t;
    t.no_session("gastown/witness");
    t.tracker.record_restart("gastown/witness", t0() - 10s);
    auto a = t.of(ActionKind::blocked, "gastown/witness");
    ASSERT_EQ(a.size(), 1u);
    EXPECT_EQ(a[0].gate, Gate::backoff);
    t.in.now = t0() + 20s; // 30 s after the restart: allowed
    EXPECT_EQ(t.of(ActionKind::start, "gastown/witness").size(), 1u);
    for (int i = 0; i < 4; ++i) {
        t.tracker.record_restart("gastown/witness", t0() + std::chrono::seconds(i));
    }
    t.in.now = t0() + 1h - 1s;
    a = t.of(ActionKind::blocked, "gastown/witness");
    ASSERT_EQ(a.size(), 1u);
    EXPECT_EQ(a[0].gate, Gate::crash_loop);
}

TEST(Supervisor, StaleRunningAgentIsMarkedDeadJustOverTheTimeout) {
    Town t;
    t.report("gastown/witness", AgentStatus::running, 15min);
    EXPECT_TRUE(t.of(ActionKind::mark_dead).empty()); // exactly 15 min: not older
    auto& r = t.report("gastown/witness", AgentStatus::working, 15min + 1ms);
    auto a = t.of(ActionKind::mark_dead, "gastown/witness");
    ASSERT_EQ(a.size(), 1u);
    EXPECT_EQ(a[0].seen_updated_at, r.updated_at);
    for (auto s : {AgentStatus::idle, AgentStatus::starting, AgentStatus::stuck}) {
        t.report("gastown/witness", s, 3h);
        EXPECT_TRUE(t.of(ActionKind::mark_dead).empty());
    }
}

TEST(Supervisor, NoMarkDeadWithinStartGrace) {
    Town t;
    t.report("gastown/witness", AgentStatus::running, 20min);
    t.in.started["gastown/witness"] = t0() - 5min + 1ms;
    EXPECT_TRUE(t.of(ActionKind::mark_dead).empty());
    t.in.started["gastown/witness"] = t0() - 5min;
    EXPECT_EQ(t.of(ActionKind::mark_dead).size(), 1u);
}

TEST(Supervisor, DeaconHeartbeatThresholds) {
    Town t;
    EXPECT_TRUE(t.actions().empty()); // no heartbeat file: nothing
    t.in.deacon_heartbeat_age = 15min;
    EXPECT_TRUE(t.actions().empty()); // exactly 15 min: fine
    t.in.deacon_heartbeat_age = 15min + 1ms;
    EXPECT_EQ(t.of(ActionKind::nudge, "deacon").size(), 1u);
    t.in.deacon_heartbeat_age = 30min;
    EXPECT_EQ(t.of(ActionKind::nudge, "deacon").size(), 1u);
    EXPECT_TRUE(t.of(ActionKind::restart).empty());
    t.in.deacon_heartbeat_age = 30min + 1ms;
    EXPECT_TRUE(t.of(ActionKind::nudge).empty());
    EXPECT_EQ(t.of(ActionKind::restart, "deacon").size(), 1u);
    // Start grace: nothing while the daemon's own start is recent.
    t.in.started["deacon"] = t0() - 5min + 1ms;
    EXPECT_TRUE(t.actions().empty());
    t.in.started["deacon"] = t0() - 5min;
    EXPECT_EQ(t.of(ActionKind::restart, "deacon").size(), 1u);
    // A dead deacon session is started, not nudged.
    t.no_session("deacon");
    EXPECT_TRUE(t.of(ActionKind::nudge).empty());
    EXPECT_EQ(t.of(ActionKind::start, "deacon").size(), 1u);
}

TEST(Supervisor, GuppNotifiesTheWitnessOncePerCondition) {
    Town t;
    t.polecat("nux", AgentStatus::working, "task", true);
    t.report("gastown/polecats/nux", AgentStatus::working, 30min, "task");
    EXPECT_TRUE(t.of(ActionKind::notify).empty());
    t.report("gastown/polecats/nux", AgentStatus::working, 30min + 1ms, "task");
    auto a = t.of(ActionKind::notify, "gastown/polecats/nux");
    ASSERT_EQ(a.size(), 1u);
    EXPECT_EQ(a[0].to, "gastown/witness");
    EXPECT_EQ(a[0].subject.rfind("GUPP_VIOLATION: gastown/polecats/nux stuck for 30m", 0), 0u);
    auto d = decide(t.in);
    t.in.active_conditions = d.conditions;
    EXPECT_TRUE(t.of(ActionKind::notify).empty()); // already sent
    // Without a hook there is no stuck work.
    t.in.active_conditions.clear();
    t.report("gastown/polecats/nux", AgentStatus::working, 1h, "");
    EXPECT_TRUE(t.of(ActionKind::notify).empty());
}

TEST(Supervisor, OrphanedWorkOfADeadAgent) {
    Town t;
    t.polecat("nux", AgentStatus::dead, "task", true);
    auto a = t.of(ActionKind::notify, "gastown/polecats/nux");
    ASSERT_EQ(a.size(), 1u);
    EXPECT_EQ(a[0].subject, "ORPHANED_WORK: gastown/polecats/nux has hooked work but is dead");
    EXPECT_EQ(t.of(ActionKind::restart, "gastown/polecats/nux").size(), 1u);
}

TEST(Supervisor, HookedPolecatWithoutSessionIsRestarted) {
    Town t;
    t.polecat("nux", AgentStatus::working, "task", false);
    EXPECT_EQ(t.of(ActionKind::start, "gastown/polecats/nux").size(), 1u);
    t.polecat("slit", AgentStatus::idle, "", false);
    EXPECT_TRUE(t.of(ActionKind::start, "gastown/polecats/slit").empty());
}

TEST(Supervisor, CrashedPolecatWithMissingDirectoryNotifiesOnceAndIsNotStarted) {
    Town t;
    t.polecat("nux", AgentStatus::idle, "task", false);
    t.in.agents["gastown/polecats/nux"].workdir_exists = false;
    auto d = decide(t.in);
    int notes = 0, starts = 0;
    for (auto& a : d.actions) {
        notes += a.kind == ActionKind::notify &&
                 a.subject == "CRASHED_POLECAT: gastown/nux restart failed";
        starts += a.kind == ActionKind::start;
    }
    EXPECT_EQ(notes, 1);
    EXPECT_EQ(starts, 0);
    EXPECT_EQ(t.of(ActionKind::unstartable, "gastown/polecats/nux").size(), 1u);
    t.in.active_conditions = d.conditions;
    EXPECT_TRUE(t.of(ActionKind::notify).empty());
    // A failed start keeps the condition alive too.
    t.in.agents["gastown/polecats/nux"].workdir_exists = true;
    t.in.start_failed.insert("gastown/polecats/nux");
    EXPECT_TRUE(t.of(ActionKind::notify).empty());
    EXPECT_EQ(decide(t.in).conditions.count("CRASHED_POLECAT:gastown/polecats/nux"), 1u);
}

TEST(Supervisor, DegradedModeStartsAndKillsNothingButChecksStateFiles) {
    Town t;
    t.in.snapshot.reset();
    t.in.degraded_reason = "tmux is not installed";
    t.report("gastown/witness", AgentStatus::running, 16min);
    t.report("gastown/refinery", AgentStatus::dead, 1min);
    t.in.active_conditions = {"CRASHED_POLECAT:gastown/polecats/x"};
    auto d = decide(t.in);
    ASSERT_FALSE(d.actions.empty());
    EXPECT_EQ(d.actions[0].kind, ActionKind::degraded);
    for (auto& a : d.actions) {
        EXPECT_NE(a.kind, ActionKind::start);
        EXPECT_NE(a.kind, ActionKind::restart);
        EXPECT_NE(a.kind, ActionKind::nudge);
    }
    EXPECT_EQ(t.of(ActionKind::mark_dead, "gastown/witness").size(), 1u);
    EXPECT_EQ(d.conditions.count("CRASHED_POLECAT:gastown/polecats/x"), 1u);
}

TEST(Supervisor, ADegradedPassAsksForTheNextSoonAndLessOftenTheLongerItLasts) {
    Town t;
    t.in.snapshot.reset();
    t.in.degraded_reason = "tmux list-panes: server exited unexpectedly";
    // Without this, a tmux server that died mid-pass would be looked at again only at the next
    // heartbeat, minutes away, and its sessions would stay gone that long.
    const std::pair<int, std::chrono::milliseconds> waits[] = {
        {0, 1s}, {1, 2s}, {3, 8s}, {7, 128s}, {30, 128s}};
    for (auto [passes, wait] : waits) {
        t.in.degraded_passes = passes;
        auto d = decide(t.in);
        ASSERT_TRUE(d.wake_at) << passes;
        EXPECT_EQ(*d.wake_at, t.in.now + wait) << passes;
    }
}

TEST(Supervisor, NotifyAddresses) {
    EXPECT_EQ(notify_address(ident("gastown/polecats/nux")), "gastown/witness");
    EXPECT_EQ(notify_address(ident("gastown/refinery")), "gastown/witness");
    EXPECT_EQ(notify_address(ident("gastown/witness")), "mayor");
    EXPECT_EQ(notify_address(ident("deacon")), "mayor");
}

TEST(Supervisor, StoppedAgentStaysDownButAHealthyOneIsLeftAlone) {
    Town t;
    t.report("gastown/witness", AgentStatus::stopped, 1h);
    t.no_session("gastown/witness");
    EXPECT_TRUE(t.of(ActionKind::start).empty());
    auto a = t.of(ActionKind::leave, "gastown/witness");
    ASSERT_EQ(a.size(), 1u);
    EXPECT_EQ(a[0].reason, "agent state stopped");
    t.healthy_session("gastown/witness");
    EXPECT_TRUE(t.of(ActionKind::start).empty());
    EXPECT_TRUE(t.of(ActionKind::restart).empty());
    // A new report brings it back under supervision.
    t.report("gastown/witness", AgentStatus::running, 1s);
    t.no_session("gastown/witness");
    EXPECT_EQ(t.of(ActionKind::start, "gastown/witness").size(), 1u);
}

TEST(Supervisor, APaneWhoseProcessJustEndedSettlesBeforeARestart) {
    Town t;
    t.healthy_session("gastown/witness", false); // tmux shows it, the process is gone
    t.in.gone_since[100] = t.in.now - 1s;        // seen gone a moment ago
    EXPECT_TRUE(t.of(ActionKind::start).empty());
    EXPECT_EQ(t.of(ActionKind::settle, "gastown/witness").size(), 1u);
    EXPECT_EQ(decide(t.in).wake_at, t.in.now + k_settle_recheck);
    t.in.gone_since[100] = t.in.now - k_settle_window; // waited long enough: replaced
    EXPECT_EQ(t.of(ActionKind::start, "gastown/witness").size(), 1u);
}
