// Reading agents' screens inside a pass: how many tmux calls, what is remembered, what is done.
#include "executor/recovery.hpp"

#include "executor/screen_memory.hpp"
#include "state/restart_state.hpp"
#include "support/executor_town.hpp"
#include "support/fixed_time.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

using namespace gt;
using namespace std::chrono_literals;
using test::ExecutorTown;

namespace {

const std::vector<std::string> k_sessions{"gt-deacon", "gt-r1-witness", "gt-r1-refinery"};

} // namespace

TEST(ExecutorScreens, QuietPanesAreCapturedInOneCallAndNotAgainUntilTheyPrint) {
    ExecutorTown t;
    t.show(k_sessions, t.now - 1min);
    t.screens("❯ \n  ? for shortcuts\n");
    auto out = t.pass();
    EXPECT_EQ(t.runner.count("capture-pane"), 1u);
    EXPECT_EQ(out.screens_captured, 3u);
    EXPECT_EQ(t.events_of("condition"), 3u);

    t.now += 3min; // nothing printed since
    t.pass();
    EXPECT_EQ(t.runner.count("capture-pane"), 1u);

    t.show(k_sessions, t.now - 30s); // printed, and quiet again
    t.pass();
    EXPECT_EQ(t.runner.count("capture-pane"), 2u);
    EXPECT_EQ(t.events_of("condition"), 3u); // still idle: no new event
}

TEST(ExecutorScreens, BusyPanesCostNoCapture) {
    ExecutorTown t;
    t.show(k_sessions);
    for (int i = 0; i < 5; ++i) {
        t.now += 1s;
        t.show(k_sessions);
        t.pass();
    }
    EXPECT_EQ(t.runner.count("capture-pane"), 0u);
    EXPECT_EQ(t.runner.count("list-panes"), 5u);
}

TEST(ExecutorScreens, ADeadPaneIsReadBeforeItIsReplacedAndItsReasonKept) {
    ExecutorTown t;
    t.show({"gt-deacon", "gt-r1-refinery"});
    t.runner.on(
        "list-panes",
        test::ok_reply("gt-deacon\t0\t" + std::to_string(::getpid()) + "\t0\t0\t0\t" +
                       std::to_string(util::SystemClock::to_time_t(t.now)) + "\t1\t" + t.mark() +
                       "\tclaude\n" + "gt-r1-refinery\t0\t" + std::to_string(::getpid()) +
                       "\t0\t0\t0\t" + std::to_string(util::SystemClock::to_time_t(t.now)) +
                       "\t1\t" + t.mark() + "\tclaude\n" +
                       "gt-r1-witness\t0\t999999\t1\t1\t0\t0\t1\t" + t.mark() + "\tclaude\n"),
        1);
    t.screens(" Unable to connect to Anthropic services\n\n Please check your internet\n\n"
              "Pane is dead (status 1, Mon Nov 23 19:50:40 2026)\n");
    t.pass();
    auto argvs = t.runner.argvs();
    auto first = [&](const std::string& sub) {
        for (std::size_t i = 0; i < argvs.size(); ++i) {
            if (test::tmux_subcommand(argvs[i]) == sub) {
                return i;
            }
        }
        return argvs.size();
    };
    ASSERT_LT(first("capture-pane"), argvs.size());
    EXPECT_LT(first("capture-pane"), first("kill-session"));
    const state::RestartRecord* r = t.recovery.tracker().find("r1/witness");
    ASSERT_NE(r, nullptr);
    EXPECT_EQ(r->last_exit_status, 1);
    EXPECT_EQ(r->last_exit_reason, "Unable to connect to Anthropic services");
    EXPECT_NE(t.events_text().find("exit 1: Unable to connect to Anthropic services"),
              std::string::npos);
}

TEST(ExecutorScreens, TheResumeTextIsTypedOnceAfterTheResetAndItsDeliveryNoted) {
    ExecutorTown t;
    t.now = test::t0(); // 10:00 UTC
    const util::TimePoint printed = t.now - 1min;
    t.show(k_sessions, printed);
    t.screens("❯ hello\n  ⎿  You've hit your session limit · resets 10:30am (UTC)\n❯ \n");
    t.pass();
    EXPECT_EQ(t.runner.count("send-keys"), 0u);

    t.now += 32min; // past the reset and the margin
    t.pass();
    auto keys = t.runner.calls_of("send-keys");
    // The text, then Enter as a key of its own: each one call for all three. No Escape: no
    // menu is open, and a program that reads lines would take it as text.
    ASSERT_EQ(keys.size(), 2u);
    // Each pane is looked at before, between and after: nothing in the way and an empty input
    // line, the text in it and nothing else before Enter, and not left there after it.
    EXPECT_EQ(t.runner.count("display-message"), 3u * 3u);
    EXPECT_EQ(keys[0].argv.back(), "continue");
    EXPECT_EQ(std::count(keys[0].argv.begin(), keys[0].argv.end(), "continue"), 3);
    EXPECT_EQ(keys[1].argv.back(), "Enter");
    EXPECT_EQ(t.events_of("resume_sent"), 3u);

    t.now += 5s;
    t.pass(); // the screens did not change yet: not typed again
    EXPECT_EQ(t.runner.count("send-keys"), 2u);

    // The agents answer and work on: busy, their screens are read until the delivery is seen.
    t.show(k_sessions, t.now);
    t.screens("❯ hello\n  ⎿  You've hit your session limit · resets 10:30am (UTC)\n❯ continue\n"
              "● Picking up where I left off.\n");
    std::size_t captures = t.runner.count("capture-pane");
    t.pass();
    EXPECT_GT(t.runner.count("capture-pane"), captures);
    EXPECT_EQ(t.events_of("resumed"), 3u);
    EXPECT_EQ(t.runner.count("send-keys"), 2u);

    // Delivered: busy panes are working again without a look.
    t.now += 10s;
    t.show(k_sessions, t.now);
    captures = t.runner.count("capture-pane");
    t.pass();
    EXPECT_EQ(t.runner.count("capture-pane"), captures);
    EXPECT_EQ(t.events_of("resumed"), 3u);
}

TEST(ExecutorScreens, ARestartedDaemonRemembersTheResumeItTyped) {
    ExecutorTown t;
    t.now = test::t0(); // 10:00 UTC
    t.show(k_sessions, t.now - 1min);
    const std::string banner =
        "❯ hello\n  ⎿  You've hit your session limit · resets 10:30am (UTC)\n";
    t.screens(banner + "❯ \n");
    t.pass();
    t.now += 32min;
    t.pass();
    ASSERT_EQ(t.events_of("resume_sent"), 3u);
    const std::string path = t.dir.path() + "/daemon/screens.json";
    auto saved = executor::load_screens(path);
    ASSERT_TRUE(saved) << saved.error();
    ASSERT_EQ(saved->size(), 3u);
    EXPECT_TRUE(saved->at("r1/witness").resume_sent_at);
    // Written when what it keeps changes, not every pass (each write is a new file).
    auto inode = [&] {
        struct stat st {};
        return ::stat(path.c_str(), &st) == 0 ? st.st_ino : 0;
    };
    const auto written = inode();
    t.now += 5s;
    t.pass(); // nothing new on any screen
    EXPECT_EQ(inode(), written);

    // The agents answered and went quiet, the old banner still in view; then the daemon is
    // replaced. The new one reads the banner as history: nothing is typed a second time.
    t.now += 1min;
    t.show(k_sessions, t.now - 30s);
    t.screens(banner + "❯ continue\n● Done.\n❯ \n  ? for shortcuts\n");
    auto restarted = [&] {
        return std::make_unique<executor::Recovery>(t.dir.path(), t.runner, t.events, "", t.clock(),
                                                    "/usr/bin/gt");
    };
    auto second = restarted();
    second->run(t.config, {"r1"});
    EXPECT_EQ(t.events_of("resumed"), 3u);
    for (int day = 0; day < 2; ++day) {
        t.now += 24h; // past every later 10:30
        t.show(k_sessions, t.now - 24h);
        second->run(t.config, {"r1"});
    }
    EXPECT_EQ(t.events_of("resume_sent"), 3u);
    EXPECT_EQ(t.runner.count("send-keys"), 2u);

    // Without that memory the same screen reads as a limit (the control for the above).
    auto limits = [&] {
        std::size_t n = 0;
        std::string text = t.events_text();
        for (auto at = text.find("\"detail\":\"usage_limited"); at != std::string::npos;
             at = text.find("\"detail\":\"usage_limited", at + 1)) {
            ++n;
        }
        return n;
    };
    std::size_t before = limits();
    ASSERT_EQ(::unlink(path.c_str()), 0);
    auto forgetful = restarted();
    forgetful->run(t.config, {"r1"});
    EXPECT_EQ(limits(), before + 3);
}

// design §19.3: with a client attached nothing is typed, unless the town allows it
// (daemon.type_when_attached); then the input line is still checked.
TEST(ExecutorScreens, AnAttachedClientHoldsTheResumeUnlessTheTownAllowsIt) {
    for (bool allowed : {false, true}) {
        ExecutorTown t;
        t.config.daemon.type_when_attached = allowed;
        t.now = test::t0();
        t.show(k_sessions, t.now - 1min);
        t.screens("❯ hello\n  ⎿  You've hit your session limit · resets 10:30am (UTC)\n❯ \n");
        t.input({"", "❯ ", ""}, 2, 1, 1);
        t.pass();
        t.now += 32min;
        t.pass();
        EXPECT_EQ(t.events_of("resume_sent"), allowed ? 3u : 0u) << allowed;
        EXPECT_EQ(t.events_of("typing_held"), allowed ? 0u : 3u) << allowed;
    }
}
