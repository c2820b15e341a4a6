#include "policy/restart_tracker.hpp"

#include "support/exact_tracker.hpp"
#include "support/fixed_time.hpp"

#include <gtest/gtest.h>
#include <set>

using namespace gt;
using namespace gt::policy;
using gt::state::parse_restart_state;
using gt::state::restart_state_json;
using gt::state::RestartRecord;
using gt::test::exact_tracker;
using gt::test::t0;
using namespace std::chrono_literals;

TEST(RestartTracker, UnknownIdentityMayRestart) {
    auto t = exact_tracker();
    EXPECT_EQ(t.check("deacon", t0()), Gate::allowed);
    EXPECT_FALSE(t.blocked_until("deacon", t0()));
}

TEST(RestartTracker, BackoffDoublesFromInitialAndIsCapped) {
    auto t = exact_tracker();
    util::TimePoint now = t0();
    std::vector<util::Millis> seen;
    for (int i = 0; i < 7; ++i) {
        auto r = t.record_restart("x", now);
        seen.push_back(r.backoff);
        now += r.backoff;
    }
    std::vector<util::Millis> expected{30s, 60s, 120s, 240s, 480s, 600s, 600s};
    EXPECT_EQ(seen, expected);
}

TEST(RestartTracker, BackoffBoundaryJustUnderAndAtTheEnd) {
    auto t = exact_tracker();
    t.record_restart("x", t0());
    EXPECT_EQ(t.check("x", t0() + 29999ms), Gate::backoff);
    EXPECT_EQ(*t.blocked_until("x", t0()), t0() + 30s);
    EXPECT_EQ(t.check("x", t0() + 30s), Gate::allowed);
}

TEST(RestartTracker, JitterStaysWithinTwentyPercentAndUnderTheCap) {
    // At the cap the jitter is reflected below it: 1.2 gives what 0.8 gives.
    for (auto [j, at_cap] : {std::pair{0.8, 8min}, {1.0, 10min}, {1.1, 9min}, {1.2, 8min}}) {
        RestartTracker t(state::RestartConfig{}, [j] { return j; });
        EXPECT_EQ(t.record_restart("x", t0()).backoff, util::Millis(static_cast<long>(30000 * j)));
        util::TimePoint now = t0();
        util::Millis last{};
        for (int i = 0; i < 10; ++i) {
            now += 20min; // inside the stability period: keeps doubling
            last = t.record_restart("x", now).backoff;
        }
        EXPECT_EQ(last, util::Millis(at_cap)) << j;
    }
    RestartTracker random(state::RestartConfig{});
    for (int i = 0; i < 200; ++i) {
        auto b = random.record_restart("r" + std::to_string(i), t0()).backoff;
        EXPECT_GE(b, 24s);
        EXPECT_LE(b, 36s);
    }
}

// Issue 22 point 6: at the cap 131 of 141 backoffs were exactly the cap, and ten agents came
// back in lock-step.
TEST(RestartTracker, AgentsAtTheCapDoNotComeBackInLockStep) {
    RestartTracker random(state::RestartConfig{});
    std::set<util::Millis> seen;
    for (int i = 0; i < 200; ++i) {
        const std::string id = "r" + std::to_string(i);
        util::TimePoint now = t0();
        util::Millis b{};
        for (int n = 0; n < 8; ++n, now += 20min) {
            b = random.record_restart(id, now).backoff;
        }
        EXPECT_GE(b, 8min);
        EXPECT_LE(b, 10min);
        seen.insert(b);
    }
    EXPECT_GT(seen.size(), 150u) << "backoffs at the cap are spread, not all the cap";
}

TEST(RestartTracker, StabilityPeriodResetsTheBackoff) {
    auto t = exact_tracker();
    t.record_restart("x", t0());
    EXPECT_EQ(t.record_restart("x", t0() + 1min).backoff, 60s);
    // Just under 30 minutes since the last restart: still doubling.
    EXPECT_EQ(t.record_restart("x", t0() + 1min + 30min - 1ms).backoff, 120s);
    // 30 minutes without a restart: back to the initial backoff.
    EXPECT_EQ(t.record_restart("x", t0() + 1min + 60min - 1ms).backoff, 30s);
}

TEST(RestartTracker, FifthRestartInsideTheWindowEntersTheCrashLoop) {
    auto t = exact_tracker();
    util::TimePoint now = t0();
    for (int i = 1; i <= 4; ++i) {
        EXPECT_FALSE(t.record_restart("x", now).entered_crash_loop) << i;
        now += 1min;
    }
    auto fifth = t.record_restart("x", now);
    EXPECT_TRUE(fifth.entered_crash_loop);
    EXPECT_EQ(t.check("x", now + 59min), Gate::crash_loop);
    EXPECT_EQ(*t.blocked_until("x", now), now + 1h);
    // Expiry: one hour after it began, the agent may try again.
    EXPECT_EQ(t.check("x", now + 1h - 1ms), Gate::crash_loop);
    EXPECT_EQ(t.check("x", now + 1h), Gate::allowed);
    auto after = t.record_restart("x", now + 1h);
    EXPECT_FALSE(after.entered_crash_loop);
    EXPECT_EQ(after.backoff, 30s);
    EXPECT_FALSE(t.find("x")->crash_loop_since);
}

TEST(RestartTracker, RestartsSpreadBeyondTheWindowNeverLoop) {
    auto t = exact_tracker();
    util::TimePoint now = t0();
    for (int i = 0; i < 20; ++i) {
        EXPECT_FALSE(t.record_restart("x", now).entered_crash_loop) << i;
        now += 15min; // each restart leaves the window of the one before the previous four
    }
    // Four inside a window just over 15 minutes wide do not count as five.
    auto u = exact_tracker();
    now = t0();
    u.record_restart("y", now);
    for (int i = 0; i < 4; ++i) {
        now += 3min + 46s; // the first falls out of the window at the fifth
        u.record_restart("y", now);
    }
    EXPECT_EQ(u.check("y", now), Gate::backoff);
}

TEST(RestartTracker, ClearForgetsBackoffAndCrashLoopButKeepsTheExitStatus) {
    auto t = exact_tracker();
    for (int i = 0; i < 5; ++i) {
        t.record_restart("x", t0() + std::chrono::seconds(i));
    }
    t.record_exit("x", 3, 0);
    ASSERT_EQ(t.check("x", t0() + 10s), Gate::crash_loop);
    t.clear("x", t0() + 10s);
    EXPECT_EQ(t.check("x", t0() + 10s), Gate::allowed);
    EXPECT_EQ(t.find("x")->last_exit_status, 3);
    EXPECT_EQ(t.record_restart("x", t0() + 11s).backoff, 30s);
}

TEST(RestartTracker, ClearsFromAnotherProcessAreMergedOnce) {
    auto t = exact_tracker();
    for (int i = 0; i < 5; ++i) {
        t.record_restart("x", t0());
    }
    std::map<std::string, RestartRecord> disk = t.records();
    disk["x"].cleared_at = t0() + 1s;
    EXPECT_EQ(t.merge_clears(disk), std::vector<std::string>{"x"});
    EXPECT_EQ(t.check("x", t0() + 2s), Gate::allowed);
    EXPECT_TRUE(t.merge_clears(disk).empty()); // the same clear is not applied twice
    t.record_restart("x", t0() + 2s);
    EXPECT_TRUE(t.merge_clears(disk).empty());
    EXPECT_EQ(t.find("x")->restart_count, 1);
}

TEST(RestartTracker, FirstStartIsNotARestart) {
    auto t = exact_tracker();
    t.record_exit("x", 1, 0); // an exit seen before the daemon ever started it is no history
    auto first = t.record_start("x", t0());
    EXPECT_FALSE(first.restart);
    EXPECT_EQ(first.backoff, 0ms);
    EXPECT_FALSE(first.entered_crash_loop);
    EXPECT_EQ(t.check("x", t0()), Gate::allowed);
    EXPECT_FALSE(t.blocked_until("x", t0()));
    EXPECT_EQ(t.find("x")->restart_count, 0);
    EXPECT_TRUE(t.find("x")->recent.empty());
    EXPECT_FALSE(t.find("x")->backoff_until);
    // Every later start is a restart, with the backoff and the crash loop as before.
    util::TimePoint now = t0() + 1min;
    auto second = t.record_start("x", now);
    EXPECT_TRUE(second.restart);
    EXPECT_EQ(second.backoff, 30s);
    EXPECT_EQ(t.find("x")->restart_count, 1);
    EXPECT_EQ(t.check("x", now + 29s), Gate::backoff);
    for (int i = 2; i <= 4; ++i) {
        now += 1min;
        EXPECT_FALSE(t.record_start("x", now).entered_crash_loop) << i;
    }
    now += 1min;
    EXPECT_TRUE(t.record_start("x", now).entered_crash_loop);
    EXPECT_EQ(t.check("x", now), Gate::crash_loop);
    // History read back from restart_state.json counts: a new daemon does not start afresh.
    auto u = exact_tracker();
    u.replace(*parse_restart_state(restart_state_json(t.records()), "f"));
    u.clear("x", now);
    EXPECT_TRUE(u.record_start("x", now + 1s).restart);
}

TEST(RestartTracker, AnAgentThatIsAliveIsNotShownInBackoff) {
    auto t = exact_tracker();
    t.record_restart("x", t0());
    EXPECT_EQ(t.check("x", t0() + 1s), Gate::backoff); // its next restart would wait
    EXPECT_EQ(t.shown_gate("x", t0() + 1s, true), Gate::allowed);
    EXPECT_EQ(t.shown_gate("x", t0() + 1s, false), Gate::backoff);
    EXPECT_EQ(t.shown_gate("unknown", t0(), false), Gate::allowed);
    for (int i = 1; i < 5; ++i) {
        t.record_restart("x", t0() + std::chrono::seconds(i));
    }
    // A crash loop is shown whether or not the last start is still alive.
    EXPECT_EQ(t.shown_gate("x", t0() + 10s, true), Gate::crash_loop);
    EXPECT_EQ(t.shown_gate("x", t0() + 10s, false), Gate::crash_loop);
}
