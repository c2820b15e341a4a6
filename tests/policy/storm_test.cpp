// Storm control (design §17): many deaths at once are told once, with what they share, and
// their restarts spread under the town's start budget, the most needed first.
#include "policy/decide.hpp"
#include "policy/storm.hpp"

#include "support/fixed_time.hpp"
#include "support/policy_town.hpp"

#include <gtest/gtest.h>
#include <map>

using namespace gt;
using namespace gt::policy;
using gt::test::t0;
using namespace std::chrono_literals;
using state::AgentStatus;

using test::ident;
using test::Town;

namespace {

/// A town of deacon, witness, refinery and `polecats` hooked polecats, every one started by
/// the daemon an hour ago and healthy.
struct StormTown : Town {
    explicit StormTown(int polecats) {
        for (int i = 0; i < polecats; ++i) {
            polecat("p" + std::to_string(i), AgentStatus::working, "gt-1", true);
        }
        for (const auto& id : supervised(in)) {
            tracker.record_start(id.str(), t0() - 1h);
        }
        in.storms = &storms;
    }
    /// Every session gone, as when the tmux server was killed.
    void server_killed() {
        in.snapshot = tmux::Snapshot{};
        in.snapshot->server_running = false;
    }
    Decision pass() {
        Decision d = decide(in);
        storms = d.storms;
        for (const auto& a : d.actions) {
            if ((a.kind == ActionKind::start || a.kind == ActionKind::restart) && !a.request) {
                storms.starts.push_back(in.now); // as the executor counts them
            }
        }
        in.active_conditions = d.conditions;
        return d;
    }
    StormState storms;
};

std::vector<Action> of(const Decision& d, ActionKind k) {
    std::vector<Action> out;
    for (const auto& a : d.actions) {
        if (a.kind == k) {
            out.push_back(a);
        }
    }
    return out;
}

} // namespace

TEST(Storm, AKilledTmuxServerIsOneStormToldOnceWithItsCause) {
    StormTown t(5);
    t.server_killed();
    Decision d = t.pass();
    auto warned = of(d, ActionKind::warn);
    ASSERT_EQ(warned.size(), 1u);
    EXPECT_EQ(warned[0].event, "mass_death");
    auto mails = of(d, ActionKind::notify);
    ASSERT_EQ(mails.size(), 1u);
    EXPECT_EQ(mails[0].to, "mayor");
    EXPECT_TRUE(mails[0].town);
    EXPECT_NE(mails[0].subject.find("MASS_DEATH: 8 agents died within 30s"), std::string::npos)
        << mails[0].subject;
    EXPECT_NE(mails[0].subject.find("the tmux server is gone"), std::string::npos);
    EXPECT_NE(mails[0].subject.find("gastown/polecats/p4"), std::string::npos);
    ASSERT_TRUE(d.storms.storm);
    EXPECT_EQ(d.storms.storm->agents.size(), 8u);

    // Five starts now, the deacon and the witness among them; the polecats wait.
    auto starts = of(d, ActionKind::start);
    ASSERT_EQ(starts.size(), 5u);
    EXPECT_EQ(starts[0].id.str(), "deacon");
    for (const auto& a : starts) {
        EXPECT_TRUE(a.not_a_crash) << a.id.str(); // they did not crash: tmux went away
    }
    std::vector<std::string> started;
    for (const auto& a : starts) {
        started.push_back(a.id.str());
    }
    EXPECT_NE(std::find(started.begin(), started.end(), "gastown/witness"), started.end());
    EXPECT_NE(std::find(started.begin(), started.end(), "gastown/refinery"), started.end());
    auto waiting = of(d, ActionKind::blocked);
    ASSERT_EQ(waiting.size(), 3u);
    for (const auto& a : waiting) {
        EXPECT_EQ(a.gate, Gate::budget);
        EXPECT_EQ(a.id.role, state::Role::polecat);
        EXPECT_EQ(a.until, t0() + 10s);
    }
    EXPECT_EQ(d.wake_at, t0() + 10s);

    // Ten seconds on, those five running again: the rest, and nothing told again.
    t.in.snapshot->server_running = true;
    for (const auto& id : started) {
        t.healthy_session(id);
    }
    t.in.now += 10s;
    d = t.pass();
    EXPECT_EQ(of(d, ActionKind::start).size(), 3u);
    EXPECT_TRUE(of(d, ActionKind::notify).empty());
    EXPECT_TRUE(of(d, ActionKind::warn).empty());
    EXPECT_TRUE(t.in.active_conditions.count("MASS_DEATH"));

    // All back: the storm is over, and a later one would be told again.
    t.in.snapshot = tmux::Snapshot{};
    for (const auto& id : supervised(t.in)) {
        t.healthy_session(id.str());
    }
    t.in.now += 1min;
    d = t.pass();
    EXPECT_FALSE(d.storms.storm);
    EXPECT_TRUE(d.storms.dead.empty());
    EXPECT_FALSE(t.in.active_conditions.count("MASS_DEATH"));
}

TEST(Storm, DeathsSpreadBeyondTheWindowAreNoStorm) {
    StormTown t(2);
    t.no_session("gastown/polecats/p0");
    t.no_session("gastown/polecats/p1");
    Decision d = t.pass();
    EXPECT_TRUE(of(d, ActionKind::warn).empty());
    EXPECT_EQ(d.storms.dead.size(), 2u);
    // They stay down (the fake shows no session); a third death 30 s later is out of the window.
    t.in.now += 30s;
    t.no_session("gastown/refinery");
    d = t.pass();
    EXPECT_TRUE(of(d, ActionKind::warn).empty());
    EXPECT_FALSE(d.storms.storm);
    // Three within it are a storm, with no common cause to name.
    t.in.now += 1s;
    t.no_session("gastown/witness");
    t.no_session("deacon");
    d = t.pass();
    auto warned = of(d, ActionKind::warn);
    ASSERT_EQ(warned.size(), 1u) << d.actions.size();
    EXPECT_EQ(warned[0].reason.find("the tmux server"), std::string::npos);
}

TEST(Storm, AFirstStartIsNoDeath) {
    Town t; // nothing ever started by the daemon
    StormState storms;
    t.in.storms = &storms;
    t.in.snapshot = tmux::Snapshot{};
    t.in.snapshot->server_running = false;
    Decision d = decide(t.in);
    EXPECT_TRUE(d.storms.dead.empty());
    EXPECT_TRUE(of(d, ActionKind::warn).empty());
    EXPECT_EQ(of(d, ActionKind::start).size(), 3u);
    for (const auto& a : of(d, ActionKind::start)) {
        EXPECT_FALSE(a.not_a_crash); // noted by the tracker as a first start
    }
}

TEST(Storm, ARequestedRestartIsNeverHeldBackByTheBudget) {
    StormTown t(0);
    for (int i = 0; i < 5; ++i) {
        t.storms.starts.push_back(t0() - 1s);
    }
    t.no_session("gastown/refinery");
    state::LifecycleRequest r;
    r.id = "r1";
    r.from = ident("gastown/witness");
    r.action = state::LifecycleAction::restart;
    r.timestamp = t0();
    t.in.requests = {r};
    Decision d = t.pass();
    EXPECT_EQ(of(d, ActionKind::restart).size(), 1u); // the request
    auto waiting = of(d, ActionKind::blocked);
    ASSERT_EQ(waiting.size(), 1u);
    EXPECT_EQ(waiting[0].id.str(), "gastown/refinery");
    EXPECT_EQ(waiting[0].until, t0() - 1s + 10s);
}

// Issue 22 point 6: with a budget of 5 per 10 s and ten crash-looping polecats, p01–p05
// were restarted every window and p06–p10 never.
TEST(Storm, TheBudgetGoesToTheAgentsThatWaitedLongest) {
    StormTown t(10);
    state::RestartConfig quick;
    quick.initial_backoff = 1ms;
    quick.crash_loop_count = 1000;
    t.tracker.set_config(quick);
    std::map<std::string, int> starts;
    for (int i = 0; i < 10; ++i) {
        t.no_session("gastown/polecats/p" + std::to_string(i));
    }
    for (int window = 0; window < 4; ++window) {
        Decision d = t.pass();
        std::vector<std::string> started;
        for (const auto& a : of(d, ActionKind::start)) {
            started.push_back(a.id.str());
            ++starts[a.id.str()];
            t.tracker.record_start(a.id.str(), t.in.now);
        }
        EXPECT_EQ(started.size(), 5u) << "window " << window;
        // They run for a moment, are seen healthy, and die again.
        for (const auto& id : started) {
            t.healthy_session(id);
        }
        t.in.now += 1s;
        t.pass();
        for (const auto& id : started) {
            t.no_session(id);
        }
        t.in.now += 9s;
    }
    for (int i = 0; i < 10; ++i) {
        EXPECT_EQ(starts["gastown/polecats/p" + std::to_string(i)], 2) << i;
    }
}

TEST(CommonCause, NamesWhatEveryDeathShares) {
    Death a{t0(), false, "exit 1", "Error: cannot find module"};
    Death b{t0(), false, "exit 1", "Killed"};
    Death c{t0(), false, "signal 9", "Error: cannot find module"};
    Death gone{t0(), true, "", ""};
    EXPECT_EQ(common_cause({&a, &b}), "all ended with exit 1");
    EXPECT_EQ(common_cause({&a, &c}), "all showed: Error: cannot find module");
    EXPECT_EQ(common_cause({&b, &c}), "");
    EXPECT_EQ(common_cause({&gone, &gone}), "the tmux server is gone");
    EXPECT_EQ(common_cause({}), "");
}
