// What follows from an action's outcome, and how decide() plans lifecycle requests: pure, with
// a fixed clock and an exact restart tracker.
#include "policy/decide.hpp"
#include "policy/follow_up.hpp"

#include "support/exact_tracker.hpp"
#include "support/fixed_time.hpp"
#include "support/ident.hpp"
#include "support/requests.hpp"

#include <gtest/gtest.h>

using namespace gt;
using namespace gt::policy;
using gt::test::exact_tracker;
using gt::test::ident;
using gt::test::make_request;
using gt::test::t0;
using namespace std::chrono_literals;

TEST(FollowUp, ACrashRestartIsRecordedAndARequestedOneIsNot) {
    auto tracker = exact_tracker();
    Action crash{ActionKind::start, ident("r1/witness"), "session missing"};
    auto first = follow_up(crash, {true}, tracker, {}, t0());
    EXPECT_TRUE(first.counted);
    EXPECT_FALSE(first.recorded.restart); // the first start is no restart
    auto second = follow_up(crash, {true}, tracker, {}, t0() + 1s);
    EXPECT_TRUE(second.recorded.restart);
    EXPECT_EQ(second.recorded.backoff, 30s);

    Action asked{ActionKind::restart, ident("r1/refinery"), "restart requested"};
    asked.request = make_request("r1/refinery", state::LifecycleAction::restart, t0(), "a");
    auto f = follow_up(asked, {true}, tracker, {}, t0());
    EXPECT_FALSE(f.counted);
    EXPECT_EQ(tracker.find("r1/refinery"), nullptr);
    EXPECT_TRUE(f.lifecycle_done);
    EXPECT_EQ(f.request, FollowUp::Request::finish);
}

TEST(FollowUp, TheFifthRestartInTheWindowAnnouncesTheCrashLoopOnce) {
    auto tracker = exact_tracker();
    Action a{ActionKind::start, ident("r1/witness"), "session missing"};
    FollowUp f;
    for (int i = 0; i <= 5; ++i) {
        f = follow_up(a, {true}, tracker, {}, t0() + std::chrono::minutes(i));
        if (f.recorded.entered_crash_loop) {
            break;
        }
    }
    ASSERT_TRUE(f.recorded.entered_crash_loop);
    ASSERT_EQ(f.actions.size(), 1u);
    EXPECT_EQ(f.actions[0].kind, ActionKind::notify);
    EXPECT_EQ(f.actions[0].condition, "CRASH_LOOP:r1/witness");
    EXPECT_EQ(f.actions[0].to, "mayor");
}

TEST(FollowUp, AFailedPolecatStartIsReportedOnlyWhileTheConditionIsNew) {
    auto tracker = exact_tracker();
    Action a{ActionKind::start, ident("r1/polecats/nux"), "session missing"};
    Outcome failed{false, false, Outcome::Failure::create};
    auto f = follow_up(a, failed, tracker, {}, t0());
    EXPECT_TRUE(f.start_failed);
    ASSERT_EQ(f.actions.size(), 1u);
    EXPECT_EQ(f.actions[0].subject, "CRASHED_POLECAT: r1/nux restart failed");
    EXPECT_EQ(f.actions[0].to, "r1/witness");
    EXPECT_TRUE(
        follow_up(a, failed, tracker, {"CRASHED_POLECAT:r1/polecats/nux"}, t0()).actions.empty());
    // A kill that failed is not a failed start; a cut-short one is nothing at all.
    EXPECT_FALSE(
        follow_up(a, {false, false, Outcome::Failure::kill}, tracker, {}, t0()).start_failed);
    EXPECT_FALSE(
        follow_up(a, {false, true, Outcome::Failure::create}, tracker, {}, t0()).start_failed);
}

TEST(FollowUp, AFailedRequestIsRetriedSoonThenGivenUp) {
    auto tracker = exact_tracker();
    Action a{ActionKind::shutdown, ident("r1/witness"), "shutdown requested"};
    a.request = make_request("r1/witness", state::LifecycleAction::shutdown, t0(), "a");
    Outcome failed{false, false, Outcome::Failure::other};
    auto f = follow_up(a, failed, tracker, {}, t0());
    EXPECT_EQ(f.request, FollowUp::Request::retry);
    EXPECT_EQ(f.wake_at, t0() + k_request_retry);
    failed.earlier_attempts = k_request_attempts - 1;
    EXPECT_EQ(follow_up(a, failed, tracker, {}, t0()).request, FollowUp::Request::give_up);
    failed.cut_short = true; // our own shutdown: left claimed for the next daemon
    EXPECT_EQ(follow_up(a, failed, tracker, {}, t0()).request, FollowUp::Request::none);
}

TEST(DecideRequests, ARequestedRestartIgnoresTheBackoffAndReplacesTheHeartbeatsOwnAction) {
    state::TownConfig config;
    auto tracker = exact_tracker();
    tracker.record_start("r1/witness", t0() - 1min);
    tracker.record_start("r1/witness", t0() - 1s); // in backoff now
    TickInput in;
    in.config = &config;
    in.rigs = {"r1"};
    in.snapshot = tmux::Snapshot{}; // every session missing
    in.tracker = &tracker;
    in.now = t0();
    in.requests = {make_request("r1/witness", state::LifecycleAction::cycle, t0(), "b"),
                   make_request("r1/witness", state::LifecycleAction::shutdown, t0() - 1s, "a")};
    auto d = decide(in);
    std::vector<Action> witness;
    for (const auto& a : d.actions) {
        if (a.id.str() == "r1/witness") {
            witness.push_back(a);
        }
    }
    ASSERT_EQ(witness.size(), 2u);
    EXPECT_EQ(witness[0].kind, ActionKind::collapse); // the earlier shutdown
    EXPECT_EQ(witness[0].superseded_by, "cycle request b");
    EXPECT_EQ(witness[1].kind, ActionKind::restart); // not `blocked`: asked for
    ASSERT_TRUE(witness[1].request);
    EXPECT_EQ(witness[1].request->id, "b");

    in.snapshot.reset(); // tmux unusable: the collapse still happens, the restart waits
    d = decide(in);
    std::size_t restarts = 0, collapses = 0;
    for (const auto& a : d.actions) {
        restarts += a.kind == ActionKind::restart;
        collapses += a.kind == ActionKind::collapse;
    }
    EXPECT_EQ(restarts, 0u);
    EXPECT_EQ(collapses, 1u);
}
