// Time that cannot lie (design §17): jumps and sleeps told from time passing, ages of stamps
// that a clock set afterwards cannot change, and the two witnesses before an agent is marked
// dead.
#include "policy/clock_watch.hpp"
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

namespace {

util::ClockReading at(util::TimePoint wall, util::Millis mono, util::Millis boot) {
    return {wall, mono, boot};
}

std::vector<Action> of(const std::vector<Action>& actions, ActionKind k, const std::string& id) {
    std::vector<Action> out;
    for (const auto& a : actions) {
        if (a.kind == k && (id.empty() || (!a.town && a.id.str() == ident(id).str()))) {
            out.push_back(a);
        }
    }
    return out;
}

const Action* notice(const std::vector<Action>& actions, const std::string& condition) {
    for (const auto& a : actions) {
        if (a.kind == ActionKind::notify && a.condition == condition) {
            return &a;
        }
    }
    return nullptr;
}

/// The pane of `id` printed `ago`.
void printed(Town& t, const std::string& id, util::Millis ago) {
    t.in.snapshot->sessions.at(ident(id).session()).activity = t.in.now - ago;
}

} // namespace

TEST(ClockWatch, TimePassingIsNoJump) {
    ClockWatch w;
    EXPECT_FALSE(w.observe(at(t0(), 100s, 100s)).any()); // nothing to compare with yet
    EXPECT_FALSE(w.observe(at(t0() + 3min, 280s, 280s)).any());
    // A pass that took a while, an NTP slewing a second: noise.
    EXPECT_FALSE(w.observe(at(t0() + 6min + 4s, 460s, 460s)).any());
}

TEST(ClockWatch, TellsAJumpEitherWayFromASleep) {
    ClockWatch w;
    w.observe(at(t0(), 100s, 100s));
    auto forward = w.observe(at(t0() + 1h + 3min, 280s, 280s));
    EXPECT_EQ(forward.jumped, 1h);
    EXPECT_EQ(forward.slept, 0ms);
    auto back = w.observe(at(t0() + 3min + 3min, 460s, 460s));
    EXPECT_EQ(back.jumped, -1h);
    EXPECT_EQ(back.slept, 0ms);
    // The lid closed for an hour: the wall and boottime clocks ran on, the monotonic one not.
    auto slept = w.observe(at(t0() + 1h + 9min, 640s, 460s + 1h + 3min));
    EXPECT_EQ(slept.jumped, 0ms);
    EXPECT_EQ(slept.slept, 1h);
    // Both at once: asleep for an hour, and the clock corrected by ten minutes on waking.
    auto both = w.observe(at(t0() + 2h + 22min, 820s, 460s + 2h + 6min));
    EXPECT_EQ(both.slept, 1h);
    EXPECT_EQ(both.jumped, 10min);
}

TEST(ClockWatch, WithoutBoottimeTheMonotonicClockStandsIn) {
    ClockWatch w;
    w.observe(at(t0(), 100s, 0s));
    auto shift = w.observe(at(t0() + 1h, 110s, 0s));
    EXPECT_EQ(shift.jumped, 1h - 10s);
    EXPECT_EQ(shift.slept, 0ms);
}

TEST(StampAges, AStampAgesFromWhenItWasSeenWhateverTheClockDoesLater) {
    StampAges ages;
    auto now = t0();
    EXPECT_EQ(ages.age("r", now - 2min, now), 2min);
    now += 1min;
    EXPECT_EQ(ages.age("r", now - 3min, now), 3min); // the same stamp, a minute on
    // The clock is set forward an hour; told so, the stamp keeps its age.
    now += 1h;
    ages.shift(1h);
    EXPECT_EQ(ages.age("r", t0() - 2min, now), 3min);
    // Set back two hours: the stamp now lies in the future, but it is as old as before.
    now -= 2h;
    ages.shift(-2h);
    EXPECT_EQ(ages.age("r", t0() - 2min, now + 30s), 3min + 30s);
}

TEST(StampAges, AStampFromTheFutureIsJudgedFromWhenItWasFirstSeen) {
    StampAges ages;
    auto now = t0();
    EXPECT_EQ(ages.age("r", now + 1h, now), 0ms);              // never negative
    EXPECT_EQ(ages.age("r", now + 1h, now + 20min), 20min);    // never fresh forever
    EXPECT_EQ(ages.age("r", now + 1h + 1s, now + 20min), 0ms); // a new report starts afresh
}

TEST(StampAges, ASweepForgetsWhatWasNotAskedAbout) {
    StampAges ages;
    ages.age("a", t0(), t0());
    ages.age("b", t0(), t0());
    ages.sweep();
    ages.age("a", t0(), t0());
    ages.sweep();
    EXPECT_EQ(ages.size(), 1u);
    EXPECT_EQ(ages.age("b", t0() - 1min, t0()), 1min); // seen afresh
}

TEST(LastOutput, TheEchoOfTheDaemonsTypingIsNoSignOfLife) {
    auto typed = t0();
    auto before = t0() - 20min;
    EXPECT_EQ(last_output(t0() - 1s, typed, before), before); // the same second in tmux's count
    EXPECT_EQ(last_output(t0() + 2s, typed, before), before);
    EXPECT_EQ(last_output(t0() + 3s, typed, before), t0() + 3s); // it answered: alive
    EXPECT_EQ(last_output(t0() - 10s, typed, before), t0() - 10s);
    EXPECT_EQ(last_output(t0() + 1s, std::nullopt, before), t0() + 1s);
    EXPECT_EQ(last_output(t0() + 1s, typed, std::nullopt), t0() + 1s);
}

TEST(TwoWitnesses, AStaleReportBesideABusyPaneIsReportedNotMarkedDead) {
    Town t;
    t.report("gastown/witness", AgentStatus::running, 20min);
    printed(t, "gastown/witness", 10s);
    auto actions = t.actions();
    EXPECT_TRUE(of(actions, ActionKind::mark_dead, "").empty());
    ASSERT_EQ(of(actions, ActionKind::warn, "gastown/witness").size(), 1u);
    EXPECT_EQ(of(actions, ActionKind::warn, "gastown/witness")[0].event, "stale_report");
    const Action* mail = notice(actions, "STALE_REPORT:gastown/witness");
    ASSERT_NE(mail, nullptr);
    EXPECT_EQ(mail->to, "mayor");
    EXPECT_NE(mail->subject.find("has not reported for 20m"), std::string::npos) << mail->subject;

    // Once per condition: the next pass records and mails nothing new.
    t.in.active_conditions = policy::decide(t.in).conditions;
    actions = t.actions();
    EXPECT_TRUE(of(actions, ActionKind::warn, "").empty());
    EXPECT_EQ(notice(actions, "STALE_REPORT:gastown/witness"), nullptr);
    EXPECT_TRUE(of(actions, ActionKind::mark_dead, "").empty());
}

TEST(TwoWitnesses, AStaleReportBesideASilentPaneIsMarkedDeadAsBefore) {
    Town t;
    t.report("gastown/witness", AgentStatus::running, 20min);
    printed(t, "gastown/witness", 15min); // silent for exactly the timeout: a witness
    auto dead = of(t.actions(), ActionKind::mark_dead, "gastown/witness");
    ASSERT_EQ(dead.size(), 1u);
    EXPECT_EQ(dead[0].reason, "no report for 20m");
    // The echo of the daemon's own typing does not make a pane busy.
    t.in.last_output[ident("gastown/witness").str()] = t.in.now - 16min;
    printed(t, "gastown/witness", 1s);
    EXPECT_EQ(of(t.actions(), ActionKind::mark_dead, "gastown/witness").size(), 1u);
}

TEST(TwoWitnesses, TheDeaconIsReplacedOverItsHeartbeatOnlyBesideASilentPane) {
    Town t;
    t.in.deacon_heartbeat_age = 40min;
    printed(t, "deacon", 1min);
    auto actions = t.actions();
    EXPECT_TRUE(of(actions, ActionKind::restart, "deacon").empty());
    EXPECT_EQ(of(actions, ActionKind::nudge, "deacon").size(), 1u);
    ASSERT_NE(notice(actions, "STALE_REPORT:deacon"), nullptr);
    EXPECT_NE(notice(actions, "STALE_REPORT:deacon")->subject.find("wrote no heartbeat for 40m"),
              std::string::npos);
    printed(t, "deacon", 31min);
    actions = t.actions();
    EXPECT_EQ(of(actions, ActionKind::restart, "deacon").size(), 1u);
    EXPECT_EQ(notice(actions, "STALE_REPORT:deacon"), nullptr);
}

TEST(MassStale, MostReportsStoppingAtOnceMarkNoneDead) {
    Town t;
    for (auto name : {"a", "b", "c"}) {
        t.polecat(name, AgentStatus::working, "gt-1", true);
    }
    // 3 of 6 reporting agents stale: not more than half, each is judged alone.
    for (auto id : {"gastown/polecats/a", "gastown/polecats/b", "gastown/polecats/c"}) {
        t.report(id, AgentStatus::working, 20min, "gt-1");
    }
    EXPECT_EQ(of(t.actions(), ActionKind::mark_dead, "").size(), 3u);
    // 4 of 6: the cause is rarely in the agents. One event, one mail to the mayor, no mark.
    t.report("gastown/witness", AgentStatus::running, 20min);
    auto actions = t.actions();
    EXPECT_TRUE(of(actions, ActionKind::mark_dead, "").empty());
    auto warned = of(actions, ActionKind::warn, "");
    ASSERT_EQ(warned.size(), 1u);
    EXPECT_EQ(warned[0].event, "mass_stale");
    EXPECT_TRUE(warned[0].town);
    const Action* mail = notice(actions, "MASS_STALE");
    ASSERT_NE(mail, nullptr);
    EXPECT_EQ(mail->to, "mayor");
    EXPECT_NE(mail->subject.find("4 of 6 reporting agents"), std::string::npos) << mail->subject;
    t.in.active_conditions = policy::decide(t.in).conditions;
    actions = t.actions();
    EXPECT_TRUE(of(actions, ActionKind::warn, "").empty());
    EXPECT_EQ(notice(actions, "MASS_STALE"), nullptr);
    EXPECT_TRUE(of(actions, ActionKind::mark_dead, "").empty());
}

TEST(ClockGrace, AfterAJumpNothingIsMarkedDeadKilledOrReportedStuckUntilItPasses) {
    Town t;
    t.report("gastown/witness", AgentStatus::running, 1h);
    t.report("gastown/refinery", AgentStatus::dead, 1h);
    t.polecat("nux", AgentStatus::working, "gt-1", true);
    t.report("gastown/polecats/nux", AgentStatus::working, 1h, "gt-1");
    t.in.deacon_heartbeat_age = 1h;
    t.in.clock_grace_until = t.in.now + 1ms;
    auto actions = t.actions();
    EXPECT_TRUE(of(actions, ActionKind::mark_dead, "").empty());
    EXPECT_TRUE(of(actions, ActionKind::restart, "").empty());
    EXPECT_TRUE(of(actions, ActionKind::nudge, "").empty());
    EXPECT_EQ(notice(actions, "GUPP_VIOLATION:gastown/polecats/nux"), nullptr);
    // Once it has passed, they are judged as ever.
    t.in.clock_grace_until = t.in.now;
    actions = t.actions();
    EXPECT_EQ(of(actions, ActionKind::mark_dead, "").size(), 2u);
    EXPECT_EQ(of(actions, ActionKind::restart, "gastown/refinery").size(), 1u);
    EXPECT_EQ(of(actions, ActionKind::restart, "deacon").size(), 1u);
    EXPECT_NE(notice(actions, "GUPP_VIOLATION:gastown/polecats/nux"), nullptr);
}
