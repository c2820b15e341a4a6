// The executor, driven one pass at a time with a recording fake runner (no tmux runs) and a
// fixed clock: it carries out what the policy decides, and only that.
#include "executor/recovery.hpp"

#include "fakes/recording_runner.hpp"
#include "state/agent_state.hpp"
#include "state/polecat.hpp"
#include "state/restart_state.hpp"
#include "state/town.hpp"
#include "support/executor_town.hpp"
#include "util/file.hpp"

#include <algorithm>
#include <fstream>
#include <gtest/gtest.h>
#include <thread>
#include <unistd.h>

using namespace gt;
using namespace std::chrono_literals;
using gt::test::RecordingRunner;

using test::ExecutorTown;
using test::ident;

TEST(Executor, AHealthyTownRunsOneSnapshotAndNothingElse) {
    ExecutorTown t;
    auto out = t.pass();
    EXPECT_EQ(t.runner.calls().size(), 1u);
    EXPECT_EQ(t.runner.count("list-panes"), 1u);
    EXPECT_EQ(out.supervised, 3u);
    EXPECT_EQ(out.healthy, 3u);
    EXPECT_EQ(out.pane_pids.size(), 3u);
    EXPECT_FALSE(out.degraded);
}

TEST(Executor, AMissingSessionIsStartedWithStartingWrittenAtTheClocksTime) {
    ExecutorTown t;
    t.show({"gt-deacon", "gt-r1-refinery"});
    auto out = t.pass();
    EXPECT_EQ(t.started_sessions(), std::vector<std::string>{"gt-r1-witness"});
    EXPECT_EQ(t.runner.count("kill-session"), 0u);
    EXPECT_EQ(out.counters.restarts, 1u);
    auto s = state::read_agent_state(t.dir.path() + "/agents/r1/witness.json");
    ASSERT_TRUE(s) << s.error();
    EXPECT_EQ(s->raw_state, "starting");
    EXPECT_EQ(s->started_by_daemon_at, t.now);
    // The first start is no restart: nothing to back off from.
    EXPECT_EQ(t.recovery.tracker().find("r1/witness")->restart_count, 0);
    EXPECT_NE(t.events_text().find("\"kind\":\"started\""), std::string::npos);
    // Sessions changed during the pass: one more snapshot for the new pane processes.
    EXPECT_EQ(t.runner.count("list-panes"), 2u);
}

TEST(Executor, ARequestedRestartSkipsTheBackoffAndIsNotCountedAsACrash) {
    ExecutorTown t;
    t.request(state::LifecycleAction::restart);
    auto out = t.pass();
    ASSERT_EQ(t.runner.count("kill-session"), 1u);
    EXPECT_EQ(t.started_sessions(), std::vector<std::string>{"gt-r1-witness"});
    EXPECT_EQ(out.counters.lifecycle_done, 1u);
    EXPECT_EQ(out.counters.kills, 1u);
    EXPECT_EQ(t.recovery.tracker().find("r1/witness"), nullptr); // no restart history
    EXPECT_TRUE(t.claimed().empty());
    EXPECT_NE(t.events_text().find("\"kind\":\"lifecycle\""), std::string::npos);
}

TEST(Executor, AFailedRequestIsTriedThreeTimesThenGivenUp) {
    ExecutorTown t;
    t.request(state::LifecycleAction::restart);
    t.runner.on("new-session", test::failed_reply(1, "server exited unexpectedly"));
    for (int attempt = 1; attempt < policy::k_request_attempts; ++attempt) {
        auto out = t.pass();
        EXPECT_EQ(t.claimed().size(), 1u) << attempt; // kept for another try
        ASSERT_TRUE(out.wake_at) << attempt;
        EXPECT_EQ(*out.wake_at, t.now + policy::k_request_retry);
    }
    auto out = t.pass();
    EXPECT_TRUE(t.claimed().empty());
    EXPECT_EQ(out.counters.lifecycle_done, 0u);
    EXPECT_NE(t.events_text().find("\"kind\":\"lifecycle_failed\""), std::string::npos);
    EXPECT_EQ(t.runner.count("new-session"), static_cast<std::size_t>(policy::k_request_attempts));
}

TEST(Executor, AShutdownRecordsStoppedThenKillsAndTheAgentStaysDown) {
    ExecutorTown t;
    t.request(state::LifecycleAction::shutdown);
    t.pass();
    EXPECT_EQ(t.runner.count("kill-session"), 1u);
    EXPECT_EQ(t.runner.count("new-session"), 0u);
    auto s = state::read_agent_state(t.dir.path() + "/agents/r1/witness.json");
    ASSERT_TRUE(s);
    EXPECT_EQ(s->raw_state, "stopped");
    t.show({"gt-deacon", "gt-r1-refinery"});
    t.runner.clear_calls();
    t.pass();
    EXPECT_EQ(t.runner.count("new-session"), 0u);
}

TEST(Executor, APolecatThatCannotBeStartedIsReportedToItsWitnessOnce) {
    ExecutorTown t;
    ASSERT_TRUE(state::add_polecat(t.dir.path(), "r1", "nux", "work-1"));
    t.runner.on("new-session", test::failed_reply(1, "create window failed"));
    t.pass();
    t.now += 1min;
    t.pass();
    auto mail = state::list_mail(t.dir.path(), ident("r1/witness"));
    ASSERT_TRUE(mail) << mail.error();
    ASSERT_EQ(mail->size(), 1u);
    EXPECT_EQ((*mail)[0].kind, "CRASHED_POLECAT");
    EXPECT_EQ((*mail)[0].subject, "CRASHED_POLECAT: r1/nux restart failed");
}

TEST(Executor, ACrashRestartIsRecordedAndSavedWithItsBackoff) {
    ExecutorTown t;
    t.show({"gt-deacon", "gt-r1-refinery"});
    t.pass(); // the first start
    t.now += 1min;
    auto out = t.pass(); // still missing: a restart
    EXPECT_EQ(out.counters.restarts, 1u);
    const auto* r = t.recovery.tracker().find("r1/witness");
    ASSERT_NE(r, nullptr);
    EXPECT_EQ(r->restart_count, 1);
    auto saved = state::RestartStateFile(state::TownPaths(t.dir.path())).load();
    ASSERT_TRUE(saved) << saved.error();
    EXPECT_EQ(saved->at("r1/witness").restart_count, 1);
    // Held back by the backoff now, and woken for when it ends.
    t.runner.clear_calls();
    t.now += 1s;
    out = t.pass();
    EXPECT_EQ(t.runner.count("new-session"), 0u);
    ASSERT_TRUE(out.wake_at);
    EXPECT_EQ(*out.wake_at, *r->backoff_until);
}

TEST(Executor, WithoutTmuxNothingIsStartedOrKilledAndRequestsWait) {
    ExecutorTown t;
    t.request(state::LifecycleAction::restart);
    t.runner.fail_to_start(test::tmux_subcommand_is("list-panes"), "No such file or directory");
    auto out = t.pass();
    EXPECT_TRUE(out.degraded);
    EXPECT_EQ(t.runner.count("new-session"), 0u);
    EXPECT_EQ(t.runner.count("kill-session"), 0u);
    EXPECT_EQ(t.claimed().size(), 1u);
}

TEST(Executor, EveryStartCarriesThePaneDiedHookNamingTheAgent) {
    ExecutorTown t;
    t.show({"gt-deacon", "gt-r1-refinery"});
    t.pass();
    auto calls = t.runner.calls_of("new-session");
    ASSERT_EQ(calls.size(), 1u);
    std::string argv;
    for (const auto& a : calls[0].argv) {
        argv += a + "\n";
    }
    EXPECT_NE(argv.find("pane-died"), std::string::npos) << argv;
    EXPECT_NE(argv.find("'/usr/bin/gt' '--town' '" + t.dir.path() + "'"), std::string::npos)
        << argv;
    EXPECT_NE(argv.find("'--agent' 'r1/witness'"), std::string::npos) << argv;
    EXPECT_NE(argv.find("GT_ROLE=witness"), std::string::npos) << argv;
}

// A report that has not changed is kept, not read again (design §15; util::StampedCache's
// tests count the reads); a change shows at the next pass however the file was rewritten,
// even in place with the same size.
TEST(Executor, AKeptReportShowsAChangeAtTheNextPass) {
    ExecutorTown t;
    t.report("r1/witness", "working", t.now);
    const std::string path = t.dir.path() + "/agents/r1/witness.json";
    auto state_of = [](const executor::HeartbeatSummary& out) {
        for (const auto& row : out.agents) {
            if (row.id.str() == "r1/witness") {
                return row.state;
            }
        }
        return std::string("(no row)");
    };
    std::this_thread::sleep_for(util::k_stamp_settle + 100ms); // settled: kept once read
    EXPECT_EQ(state_of(t.pass()), "working");
    const auto kept = t.recovery.reports_kept();
    EXPECT_EQ(state_of(t.pass()), "working");
    EXPECT_GT(t.recovery.reports_kept(), kept) << "the report was read again";

    auto text = util::read_file(path);
    ASSERT_TRUE(text);
    auto at = text->find("\"working\"");
    ASSERT_NE(at, std::string::npos);
    std::ofstream(path, std::ios::in | std::ios::out).seekp(static_cast<long>(at))
        << "\"stopped\""; // the same size, the same inode
    EXPECT_EQ(state_of(t.pass()), "stopped");

    // A file new in a directory listed before is found: the directory's stamp moved.
    t.report("r1/crew/max", "working", t.now);
    auto out = t.pass();
    EXPECT_TRUE(std::any_of(out.agents.begin(), out.agents.end(),
                            [](const auto& row) { return row.id.str() == "r1/crew/max"; }));
}

// design §19.1: a session created under the same name between the kill and the start is
// replaced only when it is the town's own; another town's is never killed.
TEST(Executor, ASessionThatAppearsBeforeARestartIsKilledOnlyWhenItIsTheTowns) {
    for (bool ours : {true, false}) {
        ExecutorTown t;
        t.request(state::LifecycleAction::restart);
        t.runner.on("new-session", test::failed_reply(1, "duplicate session: gt-r1-witness"), 1);
        t.runner.on("show-options",
                    test::ok_reply((ours ? t.mark() : tmux::town_mark("/another/town")) + "\n"));
        t.pass();
        EXPECT_EQ(t.runner.count("show-options"), 1u);
        EXPECT_EQ(t.runner.count("kill-session"), ours ? 2u : 1u) << ours;
        EXPECT_EQ(t.runner.count("new-session"), ours ? 2u : 1u) << ours;
    }
}

// design §19.1: an unmarked agent session is asked about (show-environment) once per pane
// process; the one whose environment names this town is marked, the other left foreign.
TEST(Executor, AnUnmarkedSessionIsAskedAboutOncePerPaneProcess) {
    ExecutorTown t;
    const std::string pid = std::to_string(::getpid());
    const std::string at = std::to_string(util::SystemClock::to_time_t(t.now));
    auto show = [&](const std::string& witness_pid) {
        t.runner.on("list-panes",
                    test::ok_reply("gt-deacon\t0\t" + pid + "\t0\t0\t0\t" + at + "\t1\t\tclaude\n" +
                                   "gt-r1-witness\t0\t" + witness_pid + "\t0\t0\t0\t" + at +
                                   "\t1\t\tclaude\n" + "gt-r1-refinery\t0\t" + pid + "\t0\t0\t0\t" +
                                   at + "\t1\t" + t.mark() + "\tclaude\n"));
    };
    show(pid);
    t.runner.on_call("show-environment", [&](const std::vector<std::string>& argv) {
        bool deacon = std::find(argv.begin(), argv.end(), "=gt-deacon:") != argv.end();
        return test::ok_reply("GT_TOWN_ROOT=" + (deacon ? t.dir.path() : "/elsewhere") + "\n");
    });
    t.pass();
    EXPECT_EQ(t.runner.count("show-environment"), 2u);
    ASSERT_EQ(t.runner.count("set-option"), 1u);
    EXPECT_EQ(t.runner.calls_of("set-option")[0].argv,
              (std::vector<std::string>{"tmux", "set-option", "-t", "=gt-deacon:", "@gt_town",
                                        t.mark()}));
    EXPECT_EQ(t.events_of("session_adopted"), 1u);
    EXPECT_EQ(t.events_of("session_conflict"), 1u);
    EXPECT_EQ(t.runner.count("new-session"), 0u);
    EXPECT_EQ(t.runner.count("kill-session"), 0u);
    // tmux has not got the mark yet in this fake; the witness is still unmarked. Neither is
    // asked again while their pane processes are the same.
    t.runner.clear_calls();
    t.now += 1min;
    t.pass();
    EXPECT_EQ(t.runner.count("show-environment"), 0u);
    EXPECT_EQ(t.events_of("session_conflict"), 1u);
    // A new process in the witness's session is asked about again.
    show("1");
    t.runner.clear_calls();
    t.pass();
    EXPECT_EQ(t.runner.count("show-environment"), 1u);
}

// design §19.2: tmux.socket changed under a running daemon (SIGHUP) while the server it used
// still holds the town's agents: nothing is started on the new one, SERVER_CHANGED is told once.
TEST(Executor, ANewSocketWhileTheOldServerHoldsTheAgentsStartsNothing) {
    ExecutorTown t;
    t.config.tmux_socket = "first";
    t.pass();
    const std::string first = tmux::socket_path("first");
    EXPECT_EQ(t.pass().server.socket, first);

    t.config.tmux_socket = "second";
    auto on = [](const std::string& flag, const std::string& socket) {
        return [=](const std::vector<std::string>& argv) {
            return test::tmux_subcommand(argv) == "list-panes" && argv.size() > 2 &&
                   argv[1] == flag && argv[2] == socket;
        };
    };
    // No server there in the three passes before the move; the look after its starts shows them.
    t.runner.on(on("-L", "second"), test::failed_reply(1, "no server running on /x/second"), 3);
    // The first server answers as ExecutorTown's list-panes rule does: the three agents.
    t.runner.clear_calls();
    t.now += 1min;
    auto out = t.pass();
    EXPECT_EQ(t.runner.count("new-session"), 0u);
    EXPECT_EQ(t.events_of("server_changed"), 1u);
    EXPECT_EQ(t.events_of("mass_death"), 0u);
    EXPECT_EQ(out.server.socket, first) << "the record stays where the agents are";
    EXPECT_NE(out.server_changed.find("3 of this town's sessions run on the tmux server " + first),
              std::string::npos)
        << out.server_changed;
    ASSERT_EQ(t.runner.calls_of("list-panes").size(), 2u);
    EXPECT_EQ(t.runner.calls_of("list-panes")[1].argv[1], "-S");
    t.now += 1min;
    t.pass();
    EXPECT_EQ(t.events_of("server_changed"), 1u) << "told once";

    // The first server is gone: the town moves, its agents start on the second.
    t.runner.on(on("-S", first), test::failed_reply(1, "no server running on " + first));
    t.now += 1min;
    out = t.pass();
    EXPECT_EQ(t.runner.count("new-session"), 3u);
    EXPECT_EQ(out.server_changed, "");
    EXPECT_EQ(out.server.socket, tmux::socket_path("second"));
}

// Issue 22 point 6: one `lifecycle restart` a second used up the start budget, and a crashed
// agent stayed dead for as long as the requests came.
TEST(Executor, RequestedRestartsDoNotUseUpTheStartBudget) {
    ExecutorTown t;
    t.config.daemon.start_budget = 2;
    t.config.daemon.start_budget_window = 10s;
    t.show({"gt-r1-witness", "gt-r1-refinery"});
    t.pass(); // the deacon's first start: one of the two
    t.show({"gt-deacon", "gt-r1-witness", "gt-r1-refinery"});
    for (int i = 0; i < 3; ++i) {
        t.request(state::LifecycleAction::restart); // the witness asks; the clock moves to it
        t.pass();
    }
    EXPECT_EQ(t.runner.count("new-session"), 4u);
    // The deacon dies: it is started at once, within the same window.
    t.show({"gt-r1-witness", "gt-r1-refinery"});
    t.runner.clear_calls();
    t.now += 100ms;
    auto out = t.pass();
    EXPECT_EQ(t.started_sessions(), std::vector<std::string>{"gt-deacon"});
    EXPECT_EQ(out.budget_left, 0);
}
