// The screen watch: when a pane is captured, and what its condition is between captures.
#include "policy/screen_watch.hpp"

#include "support/fixed_time.hpp"

#include <gtest/gtest.h>

using namespace gt;
using namespace gt::policy;
using gt::test::t0;
using namespace std::chrono_literals;
using screen::Condition;

namespace {

const char* k_idle = "╭──╮\n│ hi │\n╰──╯\n❯ \n  ? for shortcuts\n";
const char* k_limited = "❯ hello\n  ⎿  You've hit your session limit · resets 9:57pm (UTC)\n"
                        "❯ \n  ? for shortcuts\n";
const char* k_asks = "● Bash(rm -rf x)\n Do you want to proceed?\n ❯ 1. Yes\n   2. No\n";

struct Watch {
    ScreenWatch watch;
    state::ScreenConfig cfg;
    util::TimePoint now = t0();
    PaneSeen pane{100, false, t0() - 1min};

    bool needs() const { return watch.needs_capture("r1/witness", pane, now, cfg); }
    ScreenWatch::Change look(const std::optional<std::string>& text = std::nullopt) {
        screen::ReadContext ctx{now, util::TimeZone::utc(), {}};
        return watch.observe("r1/witness", pane, text, cfg.matcher(), screen::AgentKind::claude,
                             ctx, cfg);
    }
    const ScreenState& state() const { return *watch.find("r1/witness"); }
    /// At a limit, the resume text typed, and 20 s later the pane busy.
    void resumed_and_busy() {
        look(std::string(k_limited));
        watch.resume_sent("r1/witness", now);
        now += 20s;
        pane.activity = now - 1s;
    }
};

} // namespace

TEST(ScreenWatch, ABusyPaneIsWorkingWithoutACapture) {
    Watch w;
    w.pane.activity = w.now - 2s;
    EXPECT_FALSE(w.needs());
    EXPECT_TRUE(w.look().condition_changed);
    EXPECT_EQ(w.state().condition, Condition::working);
    EXPECT_EQ(w.state().since, w.now);
    w.now += 10s;
    w.pane.activity = w.now - 1s;
    EXPECT_FALSE(w.needs());
    EXPECT_FALSE(w.look().condition_changed);
    EXPECT_EQ(w.state().since, t0()); // still the same stretch of work
}

TEST(ScreenWatch, APaneThatWentQuietIsCapturedOnceAndKeepsItsCondition) {
    Watch w;
    w.pane.activity = w.now - 1s;
    w.look();
    w.now += 1min; // no output since
    ASSERT_TRUE(w.needs());
    EXPECT_TRUE(w.look(std::string(k_idle)).condition_changed);
    EXPECT_EQ(w.state().condition, Condition::idle);
    EXPECT_EQ(w.state().since, w.pane.activity); // idle since its last output
    EXPECT_EQ(w.state().looked_at, w.now);

    w.now += 3min;
    EXPECT_FALSE(w.needs()); // nothing printed since: the screen is what it was
    EXPECT_FALSE(w.look().condition_changed);
    EXPECT_EQ(w.state().condition, Condition::idle);

    w.pane.activity = w.now - 1min; // printed something, quiet again
    ASSERT_TRUE(w.needs());
    w.look(std::string(k_asks));
    EXPECT_EQ(w.state().condition, Condition::waiting_input);
    EXPECT_EQ(w.state().evidence, "Do you want to proceed?");
}

TEST(ScreenWatch, ADeadPaneIsReadOnceANewPaneAfresh) {
    Watch w;
    w.pane.dead = true;
    ASSERT_TRUE(w.needs());
    w.look(std::string("Unable to connect to Anthropic services\n\nPane is dead (status 1)\n"));
    EXPECT_EQ(w.state().condition, Condition::exited);
    EXPECT_EQ(w.state().cause, Condition::offline);
    EXPECT_FALSE(w.needs());
    w.now += 1s;
    EXPECT_FALSE(w.look().condition_changed); // not read again: what it said stands
    EXPECT_EQ(w.state().cause, Condition::offline);
    EXPECT_EQ(w.state().evidence, "Unable to connect to Anthropic services");

    w.pane = PaneSeen{101, false, w.now - 1min}; // restarted
    EXPECT_TRUE(w.needs());
    w.look(std::string(k_idle));
    EXPECT_EQ(w.state().condition, Condition::idle);
    EXPECT_EQ(w.state().pane_pid, 101);
}

TEST(ScreenWatch, ALimitWithoutAResetIsLookedAtEveryUsageProbe) {
    Watch w;
    ASSERT_TRUE(w.needs());
    w.look(std::string("■ usage limit reached\n"));
    ASSERT_EQ(w.state().condition, Condition::usage_limited);
    EXPECT_FALSE(w.state().resets_at);
    w.now += w.cfg.usage_probe - 1s;
    EXPECT_FALSE(w.needs());
    w.now += 1s;
    EXPECT_TRUE(w.needs());
}

TEST(ScreenWatch, ARelativeResetTimeDoesNotMoveWhenReadAgain) {
    Watch w;
    std::string text = "■ You've hit your usage limit. Try again in 2 hours.\n";
    w.look(text);
    ASSERT_EQ(w.state().condition, Condition::usage_limited);
    ASSERT_TRUE(w.state().resets_at);
    // Counted from when it was printed (the pane's last output), not from when it was read.
    const util::TimePoint resets = w.pane.activity + 2h;
    EXPECT_EQ(*w.state().resets_at, resets);
    w.now += 30min;
    w.pane.activity = w.now - 1min; // the screen was redrawn, same words
    w.look(text);
    EXPECT_EQ(*w.state().resets_at, resets);
}

TEST(ScreenWatch, AResetJustPassedIsTodaysNotTomorrows) {
    Watch w;
    w.pane.activity = t0(); // 10:00 UTC, the banner printed
    w.now = t0() + 31min;   // read after the reset
    w.look(std::string(k_limited).replace(std::string(k_limited).find("9:57pm"), 6, "10:30am"));
    ASSERT_EQ(w.state().condition, Condition::usage_limited);
    ASSERT_TRUE(w.state().resets_at);
    EXPECT_EQ(*w.state().resets_at, t0() + 30min);
}

TEST(ScreenWatch, AFailedCaptureLeavesThePaneToBeLookedAtAgain) {
    Watch w;
    w.look(std::string(k_idle));
    w.pane.activity = w.now - 30s; // printed a question, quiet again
    ASSERT_TRUE(w.needs());
    w.look(std::nullopt); // the capture failed
    EXPECT_EQ(w.state().condition, Condition::idle);
    EXPECT_TRUE(w.needs());
    w.look(std::string(k_asks));
    EXPECT_EQ(w.state().condition, Condition::waiting_input);
}

TEST(ScreenWatch, AfterTheResumeTheOldBannerIsHistory) {
    Watch w;
    w.look(std::string(k_limited));
    ASSERT_EQ(w.state().condition, Condition::usage_limited);
    w.watch.resume_sent("r1/witness", w.now);

    // The agent answers: output (the echo alone proves nothing), then quiet at its prompt with
    // the old banner still in view.
    w.now += 5s;
    w.pane.activity = w.now - 1s;
    EXPECT_FALSE(w.look().resumed);
    EXPECT_EQ(w.state().condition, Condition::working);
    w.now += 1min;
    ASSERT_TRUE(w.needs());
    EXPECT_TRUE(w.look(std::string(k_limited)).resumed);
    EXPECT_EQ(w.state().condition, Condition::idle);
}

TEST(ScreenWatch, ALimitHitAgainBelowTheTypedResumeTextCounts) {
    Watch w;
    w.look(std::string(k_limited));
    w.watch.resume_sent("r1/witness", w.now);
    w.now += 1min;
    w.pane.activity = w.now - 30s;
    // The old banner above the echo is history; the same words below it are a new limit.
    w.look(std::string(k_limited) + "❯ continue\n● Working on it.\n❯ \n  ? for shortcuts\n");
    EXPECT_EQ(w.state().condition, Condition::idle);
    w.pane.activity = w.now - 20s;
    w.look(std::string(k_limited) + "❯ continue\n" + k_limited);
    EXPECT_EQ(w.state().condition, Condition::usage_limited);
}

TEST(ScreenWatch, AgentsWhoseSessionIsGoneAreForgotten) {
    Watch w;
    w.look(std::string(k_idle));
    ASSERT_NE(w.watch.find("r1/witness"), nullptr);
    w.watch.keep_only({"deacon"});
    EXPECT_EQ(w.watch.find("r1/witness"), nullptr);
}

TEST(ScreenWatch, ABusyPaneIsLookedAtWhileItsResumeIsUnconfirmed) {
    Watch w;
    // The agent answers and works on without a pause: its screen is read while busy, so the
    // delivery is seen before the agent goes quiet (which may be at its next limit).
    w.resumed_and_busy();
    ASSERT_TRUE(w.needs());
    auto change = w.look(std::string(k_limited) + "❯ continue\n● Picking up where I left off.\n");
    EXPECT_TRUE(change.resumed);
    EXPECT_EQ(w.state().condition, Condition::working);
    EXPECT_FALSE(w.state().resume_sent_at);
    // Delivered: busy panes are not looked at again.
    w.now += 20s;
    w.pane.activity = w.now - 1s;
    EXPECT_FALSE(w.needs());
}

TEST(ScreenWatch, ALimitBelowTheTypedTextWithAPastResetIsTheSameLimit) {
    Watch w;
    // The text went in, and the agent answered with the limit it had, its reset already past
    // (the reset on screen was wrong): still limited, the resume unconfirmed (RESUME_FAILED).
    w.resumed_and_busy();
    ASSERT_TRUE(w.needs());
    auto change = w.look(std::string(k_limited) + "❯ continue\n" +
                         "  ⎿  You've hit your session limit · resets Nov 22, 9am (UTC)\n");
    EXPECT_FALSE(change.resumed);
    EXPECT_EQ(w.state().condition, Condition::usage_limited);
    EXPECT_TRUE(w.state().resume_sent_at);
}

TEST(ScreenWatch, ALimitBelowTheTypedTextThatResetsLaterIsANewOne) {
    Watch w;
    // The agent worked a while after the text and hit a limit again (same words: a daily
    // reset): waited for at its own, later reset, and typed for again then.
    w.resumed_and_busy();
    auto change = w.look(std::string(k_limited) + "❯ continue\n● Working.\n" + k_limited);
    EXPECT_TRUE(change.condition_changed);
    EXPECT_EQ(w.state().condition, Condition::usage_limited);
    EXPECT_FALSE(w.state().resume_sent_at);
    ASSERT_TRUE(w.state().resets_at);
    EXPECT_GT(*w.state().resets_at, w.now);
    // Read again: the reset stays where it was first read.
    auto first = *w.state().resets_at;
    w.now += 1min;
    w.pane.activity = w.now - 30s;
    w.look(std::string(k_limited) + "❯ continue\n● Working.\n" + k_limited);
    EXPECT_EQ(w.state().resets_at, first);
}

TEST(ScreenWatch, ASecondLimitAfterADeliveredResumeIsANewLimit) {
    Watch w;
    w.resumed_and_busy();
    w.look(std::string(k_limited) + "❯ continue\n● Working.\n");
    ASSERT_FALSE(w.state().resume_sent_at);
    ASSERT_TRUE(w.state().resume_echo_seen);

    // Hours of busy work scroll the echo (and the old banner above it) away unseen; then the
    // same words, and nothing else in view.
    w.now += 3h;
    w.pane.activity = w.now - 1min;
    ASSERT_TRUE(w.needs());
    w.look(std::string(k_limited));
    EXPECT_EQ(w.state().condition, Condition::usage_limited);
    EXPECT_TRUE(w.state().resets_at);
}

TEST(ScreenWatch, RestoredStateKeepsTheOldBannerHistory) {
    Watch w;
    w.look(std::string(k_limited));
    w.watch.resume_sent("r1/witness", w.now);
    ScreenState saved = w.state();

    // A new daemon: what the old one knew is restored; the screen still shows the old banner
    // above the typed text, and the agent is at its prompt.
    Watch fresh;
    fresh.now = w.now + 1h;
    fresh.pane = w.pane;
    saved.activity = {}; // not kept across restarts: the pane is read afresh
    fresh.watch.restore("r1/witness", saved);
    ASSERT_TRUE(fresh.needs());
    auto change =
        fresh.look(std::string(k_limited) + "❯ continue\n● Done.\n❯ \n  ? for shortcuts\n");
    EXPECT_TRUE(change.resumed);
    EXPECT_EQ(fresh.state().condition, Condition::idle);
}

TEST(ScreenWatch, ChangedOnlyWhenWhatIsRememberedChanges) {
    Watch w;
    w.look(std::string(k_idle));
    EXPECT_TRUE(w.watch.changed());
    w.watch.mark_saved();
    w.now += 1min; // quiet and read again: the same idle screen, a later look
    w.pane.activity = w.now - 30s;
    w.look(std::string(k_idle));
    EXPECT_FALSE(w.watch.changed());
    w.look(std::string(k_limited));
    EXPECT_TRUE(w.watch.changed());
    w.watch.mark_saved();
    w.watch.resume_sent("r1/witness", w.now);
    EXPECT_TRUE(w.watch.changed());
    w.watch.mark_saved();
    w.watch.keep_only({"deacon"});
    EXPECT_TRUE(w.watch.changed());
}
