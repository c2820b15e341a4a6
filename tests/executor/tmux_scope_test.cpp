// Where a tmux server the daemon starts lives (design §18.1): the exact commands gt runs, through
// the recording runner, for each `tmux.scope` and service-manager case.
#include "executor/recovery.hpp"
#include "support/executor_town.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

using namespace gt;
using test::ExecutorTown;

namespace {

/// Every tmux call says there is no server, as after a reboot or a `tmux kill-server`.
void no_server(ExecutorTown& t) {
    t.runner.on("list-panes", test::failed_reply(1, "no server running on /tmp/tmux-0/default"));
}

std::vector<std::string> head(const std::vector<std::string>& argv, std::size_t n) {
    return {argv.begin(), argv.begin() + static_cast<long>(std::min(n, argv.size()))};
}

std::vector<std::vector<std::string>> new_sessions(const ExecutorTown& t) {
    std::vector<std::vector<std::string>> out;
    for (const auto& c : t.runner.calls_of("new-session")) {
        out.push_back(c.argv);
    }
    return out;
}

} // namespace

TEST(TmuxScope, UnderSystemdTheFirstStartOfADownServerRunsInAScopeOfItsOwn) {
    ExecutorTown t;
    no_server(t);
    t.recovery.set_under_systemd(true);
    t.pass();
    auto starts = new_sessions(t);
    ASSERT_EQ(starts.size(), 3u);
    auto secs = std::chrono::duration_cast<std::chrono::seconds>(t.now.time_since_epoch()).count();
    // Only the start that brings the server up needs the scope: the server is then in it.
    EXPECT_EQ(head(starts[0], 11),
              (std::vector<std::string>{"systemd-run", "--user", "--scope", "--quiet", "--collect",
                                        "--unit=gt-tmux-default-" + std::to_string(secs) + "-" +
                                            std::to_string(::getpid()) + "-1",
                                        "--description=tmux server of the gt town " + t.dir.path(),
                                        "--", "tmux", "new-session", "-d"}));
    EXPECT_EQ(head(starts[1], 2), (std::vector<std::string>{"tmux", "new-session"}));
    EXPECT_EQ(head(starts[2], 2), (std::vector<std::string>{"tmux", "new-session"}));
    EXPECT_EQ(t.runner.count("new-session"), 3u);
}

TEST(TmuxScope, ARunningServerOrNoServiceManagerOrScopeNoneRunsTmuxAlone) {
    struct Case {
        state::TmuxScope scope;
        bool under_systemd;
        bool server_down;
    };
    for (auto c :
         {Case{state::TmuxScope::automatic, false, true}, Case{state::TmuxScope::none, true, true},
          Case{state::TmuxScope::automatic, true, false},
          Case{state::TmuxScope::systemd, false, false}}) {
        ExecutorTown t;
        t.config.tmux_scope = c.scope;
        t.recovery.set_under_systemd(c.under_systemd);
        if (c.server_down) {
            no_server(t);
        } else {
            t.show({"gt-deacon"}); // the server runs; two agents are missing
        }
        t.pass();
        auto starts = new_sessions(t);
        ASSERT_EQ(starts.size(), c.server_down ? 3u : 2u);
        for (const auto& argv : starts) {
            EXPECT_EQ(argv[0], "tmux") << static_cast<int>(c.scope) << c.under_systemd;
        }
    }
}

TEST(TmuxScope, ScopeSystemdAsksForTheScopeWithoutAServiceManagerToo) {
    ExecutorTown t;
    t.config.tmux_scope = state::TmuxScope::systemd;
    t.config.tmux_socket = "work";
    no_server(t);
    t.pass();
    auto starts = new_sessions(t);
    ASSERT_EQ(starts.size(), 3u);
    EXPECT_EQ(starts[0][0], "systemd-run");
    EXPECT_EQ(starts[0][5].rfind("--unit=gt-tmux-work-", 0), 0u) << starts[0][5];
    EXPECT_EQ(head({starts[0].begin() + 7, starts[0].end()}, 4),
              (std::vector<std::string>{"--", "tmux", "-L", "work"}));
}

TEST(TmuxScope, WhenSystemdRunFailsTheSessionIsStartedWithoutItAndThatIsRecordedOnce) {
    for (bool missing : {false, true}) {
        ExecutorTown t;
        no_server(t);
        t.recovery.set_under_systemd(true);
        auto is_launcher = [](const std::vector<std::string>& argv) {
            return argv[0] == "systemd-run";
        };
        if (missing) {
            t.runner.fail_to_start(is_launcher,
                                   "cannot run systemd-run: No such file or directory");
        } else {
            t.runner.on(is_launcher,
                        test::failed_reply(1, "Failed to connect to bus: No medium found"));
        }
        auto out = t.pass();
        auto argvs = t.runner.argvs();
        std::vector<std::string> programs;
        for (const auto& argv : argvs) {
            if (test::tmux_subcommand(argv) == "new-session") {
                programs.push_back(argv[0]);
            }
        }
        // The launcher once, then the same session without it; the others without it.
        EXPECT_EQ(programs, (std::vector<std::string>{"systemd-run", "tmux", "tmux", "tmux"}))
            << missing;
        EXPECT_EQ(out.counters.restarts, 3u);
        EXPECT_EQ(t.started_sessions(),
                  (std::vector<std::string>{"gt-deacon", "gt-deacon", "gt-r1-witness",
                                            "gt-r1-refinery"}));
        t.now += std::chrono::minutes(10);
        t.pass(); // the server is still down: the same failure, not told again
        EXPECT_GE(t.runner.count("new-session"), 5u);
        EXPECT_EQ(t.events_of("tmux_unscoped"), 1u) << t.events_text();
    }
}

TEST(TmuxScope, ARestartThatKilledASessionAsksForTheScopeAgain) {
    // tmux exits with its last session: after the kill the start may bring a server up again.
    ExecutorTown t;
    t.recovery.set_under_systemd(true);
    const std::string now = std::to_string(util::SystemClock::to_time_t(t.now));
    t.runner.on("list-panes",
                test::ok_reply("gt-r1-witness\t0\t" + std::to_string(::getpid()) + "\t1\t1\t0\t" +
                               now + "\t1\t" + t.mark() + "\tclaude\n"));
    t.pass();
    auto argvs = t.runner.argvs();
    std::vector<std::string> steps;
    for (const auto& argv : argvs) {
        std::string sub = test::tmux_subcommand(argv);
        if (sub == "kill-session" || sub == "new-session") {
            steps.push_back(argv[0] + " " + sub);
        }
    }
    // The dead witness is replaced; deacon and refinery are missing and started as well.
    ASSERT_GE(steps.size(), 2u);
    auto kill = std::find(steps.begin(), steps.end(), "tmux kill-session");
    ASSERT_NE(kill, steps.end()) << ::testing::PrintToString(steps);
    ASSERT_NE(kill + 1, steps.end());
    EXPECT_EQ(*(kill + 1), "systemd-run new-session") << ::testing::PrintToString(steps);
}

TEST(TmuxScope, AFailureOfTmuxItselfUnderTheLauncherIsNotRetriedWithoutIt) {
    ExecutorTown t;
    no_server(t);
    t.recovery.set_under_systemd(true);
    t.runner.on([](const std::vector<std::string>& argv) { return argv[0] == "systemd-run"; },
                test::failed_reply(1, "duplicate session: gt-deacon"));
    t.pass();
    auto starts = new_sessions(t);
    ASSERT_GE(starts.size(), 1u);
    EXPECT_EQ(starts[0][0], "systemd-run");
    // The server still counts as down: the next start asks for the scope again.
    ASSERT_GE(starts.size(), 2u);
    EXPECT_EQ(starts[1][0], "systemd-run");
}
