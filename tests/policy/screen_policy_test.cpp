// Decisions by condition (design §16): what a screen shows changes what a heartbeat does.
#include "policy/decide.hpp"
#include "policy/follow_up.hpp"

#include "support/policy_town.hpp"

#include <gtest/gtest.h>

using namespace gt;
using namespace gt::policy;
using gt::test::t0;
using namespace std::chrono_literals;
using screen::Condition;
using state::AgentStatus;
using test::ident;
using test::Town;

namespace {

ScreenState& show(Town& t, const std::string& id, Condition c, const std::string& evidence = "") {
    AgentFacts& f = t.in.agents[ident(id).str()];
    f.id = ident(id);
    ScreenState s;
    s.condition = c;
    s.evidence = evidence;
    s.since = t.in.now - 1min;
    s.looked_at = t.in.now;
    s.pane_pid = 100;
    f.screen = s;
    return *f.screen;
}

/// The agent's pane is dead (exit 1) and its last screen said `evidence`.
ScreenState& exited(Town& t, const std::string& id, const std::string& evidence) {
    t.healthy_session(id, false);
    tmux::Pane& pane = t.in.snapshot->sessions[ident(id).session()];
    pane.dead = true;
    pane.dead_status = 1;
    return show(t, id, Condition::exited, evidence);
}

std::size_t count(const std::vector<Action>& actions, ActionKind k, const std::string& id) {
    return std::count_if(actions.begin(), actions.end(), [&](const Action& a) {
        return a.kind == k && a.id.str() == ident(id).str();
    });
}

const Action* notice(const std::vector<Action>& actions, const std::string& condition) {
    for (const auto& a : actions) {
        if (a.kind == ActionKind::notify && a.condition == condition) {
            return &a;
        }
    }
    return nullptr;
}

} // namespace

TEST(ScreenPolicy, AStaleReportMarksDeadUnlessTheScreenShowsAUsageLimit) {
    Town t;
    t.report("gastown/witness", AgentStatus::running, 20min); // past dead_agent_timeout
    EXPECT_EQ(count(t.actions(), ActionKind::mark_dead, "gastown/witness"), 1u);

    show(t, "gastown/witness", Condition::usage_limited, "You've hit your session limit");
    EXPECT_EQ(count(t.actions(), ActionKind::mark_dead, "gastown/witness"), 0u);
}

TEST(ScreenPolicy, HeldAgentsAreNotRestartedNudgedOrReportedStuck) {
    for (Condition c : {Condition::usage_limited, Condition::startup_blocked,
                        Condition::auth_failed, Condition::waiting_input}) {
        Town t;
        // Marked dead by an earlier pass, heartbeat stale past the kill threshold.
        t.report("gastown/witness", AgentStatus::dead, 40min);
        t.report("deacon", AgentStatus::running, 1min);
        t.in.deacon_heartbeat_age = 40min;
        t.polecat("nux", AgentStatus::working, "gt-1", true);
        t.report("gastown/polecats/nux", AgentStatus::working, 40min, "gt-1"); // past GUPP
        for (auto id : {"gastown/witness", "deacon", "gastown/polecats/nux"}) {
            show(t, id, c, "the line");
        }
        auto actions = t.actions();
        const char* name = screen::condition_name(c);
        EXPECT_EQ(count(actions, ActionKind::restart, "gastown/witness"), 0u) << name;
        EXPECT_EQ(count(actions, ActionKind::leave, "gastown/witness"), 1u) << name;
        EXPECT_EQ(count(actions, ActionKind::restart, "deacon"), 0u) << name;
        EXPECT_EQ(count(actions, ActionKind::nudge, "deacon"), 0u) << name;
        EXPECT_EQ(count(actions, ActionKind::mark_dead, "gastown/polecats/nux"), 0u) << name;
        EXPECT_EQ(notice(actions, "GUPP_VIOLATION:gastown/polecats/nux"), nullptr) << name;
    }
}

// Issue 22 point 5: an agent that reported `working`, then sat idle at its prompt (its turn
// done), was marked dead and killed: a stale report and a silent pane are both true of an agent
// waiting at its prompt.
TEST(ScreenPolicy, AnIdleAgentIsAliveWhateverItsReportSays) {
    Town t;
    t.report("gastown/witness", AgentStatus::dead, 40min);
    t.report("gastown/refinery", AgentStatus::working, 40min);
    t.in.deacon_heartbeat_age = 40min;
    show(t, "gastown/witness", Condition::idle);
    show(t, "gastown/refinery", Condition::idle);
    show(t, "deacon", Condition::idle);
    auto actions = t.actions();
    EXPECT_EQ(count(actions, ActionKind::restart, "gastown/witness"), 0u);
    EXPECT_EQ(count(actions, ActionKind::leave, "gastown/witness"), 1u);
    EXPECT_EQ(count(actions, ActionKind::mark_dead, "gastown/refinery"), 0u);
    EXPECT_EQ(count(actions, ActionKind::restart, "deacon"), 0u);
    EXPECT_EQ(count(actions, ActionKind::nudge, "deacon"), 1u) << "it may be nudged";
}

TEST(ScreenPolicy, TheSameFactsWithoutAScreenStillRecover) {
    Town t;
    t.report("gastown/witness", AgentStatus::dead, 40min);
    t.report("gastown/refinery", AgentStatus::working, 40min);
    t.in.deacon_heartbeat_age = 40min;
    auto actions = t.actions();
    EXPECT_EQ(count(actions, ActionKind::restart, "gastown/witness"), 1u);
    EXPECT_EQ(count(actions, ActionKind::mark_dead, "gastown/refinery"), 1u);
    EXPECT_EQ(count(actions, ActionKind::restart, "deacon"), 1u);
}

TEST(ScreenPolicy, APersonHearsOnceOfWhatOnlyAPersonCanAnswer) {
    Town t;
    show(t, "gastown/witness", Condition::waiting_input, "Do you want to proceed?");
    show(t, "gastown/refinery", Condition::startup_blocked, "Sign in with ChatGPT");
    show(t, "deacon", Condition::auth_failed, "Invalid API key");
    Decision d = decide(t.in);
    const Action* ask = notice(d.actions, "WAITING_INPUT:gastown/witness");
    ASSERT_NE(ask, nullptr);
    EXPECT_EQ(ask->to, "mayor"); // a witness's problems go to the mayor
    EXPECT_EQ(ask->subject, "WAITING_INPUT: gastown/witness asks: Do you want to proceed?");
    const Action* blocked = notice(d.actions, "STARTUP_BLOCKED:gastown/refinery");
    ASSERT_NE(blocked, nullptr);
    EXPECT_EQ(blocked->to, "gastown/witness");
    EXPECT_NE(blocked->subject.find("Sign in with ChatGPT"), std::string::npos);
    const Action* auth = notice(d.actions, "AUTH_FAILED:deacon");
    ASSERT_NE(auth, nullptr);
    EXPECT_EQ(auth->to, "mayor");

    // Already told: the conditions hold, nothing is sent again.
    t.in.active_conditions = d.conditions;
    Decision again = decide(t.in);
    EXPECT_EQ(again.conditions, d.conditions);
    EXPECT_EQ(notice(again.actions, "WAITING_INPUT:gastown/witness"), nullptr);
    EXPECT_EQ(notice(again.actions, "AUTH_FAILED:deacon"), nullptr);

    // Answered: the condition clears, so the next question is told again.
    show(t, "gastown/witness", Condition::working);
    EXPECT_EQ(decide(t.in).conditions.count("WAITING_INPUT:gastown/witness"), 0u);
}

TEST(ScreenPolicy, TheResumeTextGoesOnceTheLimitHasReset) {
    Town t;
    ScreenState& s = show(t, "gastown/witness", Condition::usage_limited, "limit · resets 10:10");
    s.resets_at = t0() + 10min;
    Decision before = decide(t.in);
    EXPECT_EQ(count(before.actions, ActionKind::resume, "gastown/witness"), 0u);
    ASSERT_TRUE(before.wake_at);
    EXPECT_EQ(*before.wake_at, t0() + 10min + t.config.daemon.screens.resume_margin);

    t.in.now = t0() + 11min;
    EXPECT_EQ(count(t.actions(), ActionKind::resume, "gastown/witness"), 1u);

    // Sent: not again; a verdict once k_resume_verify has passed.
    s.resume_sent_at = t.in.now;
    Decision waiting = decide(t.in);
    EXPECT_EQ(count(waiting.actions, ActionKind::resume, "gastown/witness"), 0u);
    EXPECT_EQ(notice(waiting.actions, "RESUME_FAILED:gastown/witness"), nullptr);
    EXPECT_EQ(waiting.wake_at, t.in.now + k_resume_verify);
    t.in.now += k_resume_verify;
    EXPECT_NE(notice(t.actions(), "RESUME_FAILED:gastown/witness"), nullptr);
}

TEST(ScreenPolicy, ALimitWithoutAResetTimeIsLookedAtAgainNotResumed) {
    Town t;
    ScreenState& s = show(t, "gastown/witness", Condition::usage_limited, "usage limit reached");
    t.in.now = t0() + 5h;
    s.looked_at = t.in.now - 5min;
    Decision d = decide(t.in);
    EXPECT_EQ(count(d.actions, ActionKind::resume, "gastown/witness"), 0u);
    const Action* told = notice(d.actions, "USAGE_LIMITED:gastown/witness");
    ASSERT_NE(told, nullptr); // nothing says when it ends: a person hears of it, once
    EXPECT_NE(told->subject.find("usage limit reached"), std::string::npos);
    ASSERT_TRUE(d.wake_at);
    EXPECT_EQ(*d.wake_at, s.looked_at + t.config.daemon.screens.usage_probe);
    // Overdue (the capture failed): no wake-up in the past, the heartbeat looks again.
    s.looked_at = t.in.now - 1h;
    EXPECT_FALSE(decide(t.in).wake_at);
}

TEST(ScreenPolicy, AnExitOnAUsageLimitWaitsForTheResetAndIsNoCrash) {
    Town t;
    ScreenState& s = exited(t, "gastown/witness", "You've hit your limit");
    s.cause = Condition::usage_limited;
    s.resets_at = t0() + 1h;
    // Two crash restarts just happened: a crash would be held back by the backoff.
    t.tracker.record_start("gastown/witness", t0() - 2min);
    t.tracker.record_start("gastown/witness", t0() - 10s);
    ASSERT_EQ(t.tracker.check("gastown/witness", t0()), Gate::backoff);

    Decision d = decide(t.in);
    ASSERT_EQ(count(d.actions, ActionKind::hold, "gastown/witness"), 1u);
    EXPECT_EQ(count(d.actions, ActionKind::start, "gastown/witness"), 0u);
    EXPECT_EQ(d.wake_at, t0() + 1h + t.config.daemon.screens.resume_margin);

    t.in.now = t0() + 2h;
    t.tracker.record_start("gastown/witness", t0() + 2h - 1s); // backoff again, right now
    Action start;
    for (const auto& a : t.actions()) {
        if (a.id.str() == "gastown/witness" && a.kind == ActionKind::start) {
            start = a;
        }
    }
    ASSERT_EQ(start.kind, ActionKind::start);
    EXPECT_TRUE(start.not_a_crash);
    EXPECT_EQ(start.exit_reason, "You've hit your limit");

    // Carried out, it is not counted towards the crash loop.
    int before = t.tracker.find("gastown/witness")->restart_count;
    FollowUp f = follow_up(start, Outcome{true}, t.tracker, {}, t.in.now);
    EXPECT_FALSE(f.counted);
    EXPECT_EQ(t.tracker.find("gastown/witness")->restart_count, before);
}

TEST(ScreenPolicy, AnOrdinaryExitKeepsItsReasonAndTheBackoff) {
    Town t;
    ScreenState& s = exited(t, "gastown/witness", "Unable to connect");
    s.cause = Condition::offline;
    t.tracker.record_start("gastown/witness", t0() - 2min);
    t.tracker.record_start("gastown/witness", t0() - 1s);
    auto actions = t.actions();
    EXPECT_EQ(count(actions, ActionKind::blocked, "gastown/witness"), 1u);
    EXPECT_EQ(count(actions, ActionKind::hold, "gastown/witness"), 0u);

    t.in.now = t0() + 1h;
    int starts = 0;
    for (const auto& a : t.actions()) {
        if (a.id.str() == "gastown/witness" && a.kind == ActionKind::start) {
            ++starts;
            EXPECT_FALSE(a.not_a_crash);
            EXPECT_EQ(a.exit_reason, "Unable to connect");
        }
    }
    EXPECT_EQ(starts, 1);
}

TEST(ScreenPolicy, AnExitAtALimitWithoutAResetTimeGoesThroughTheBackoff) {
    Town t;
    ScreenState& s = exited(t, "gastown/witness", "Request rejected (429)");
    s.cause = Condition::usage_limited; // no reset time: it could be any crash that prints 429
    t.tracker.record_start("gastown/witness", t0() - 2min);
    t.tracker.record_start("gastown/witness", t0() - 10s);
    auto actions = t.actions();
    EXPECT_EQ(count(actions, ActionKind::hold, "gastown/witness"), 0u);
    EXPECT_EQ(count(actions, ActionKind::blocked, "gastown/witness"), 1u);
}

TEST(ScreenPolicy, AnExitAtALimitWhoseResetHadPassedGoesThroughTheBackoff) {
    Town t;
    ScreenState& s = exited(t, "gastown/witness", "You've hit your limit · resets Nov 1, 3pm");
    s.cause = Condition::usage_limited;
    s.resets_at = s.since - 24h; // a date long gone: the banner is stale, the exit a crash
    t.tracker.record_start("gastown/witness", t0() - 2min);
    t.tracker.record_start("gastown/witness", t0() - 10s);
    auto actions = t.actions();
    EXPECT_EQ(count(actions, ActionKind::hold, "gastown/witness"), 0u);
    EXPECT_EQ(count(actions, ActionKind::blocked, "gastown/witness"), 1u);
}
