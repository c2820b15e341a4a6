// The executor, driven one pass at a time with a recording fake runner (no tmux runs) and a
// fixed clock: it carries out what the policy decides, and only that.
#include "executor/recovery.hpp"

#include "client/request_writer.hpp"
#include "fakes/recording_runner.hpp"
#include "state/agent_state.hpp"
#include "state/polecat.hpp"
#include "state/restart_state.hpp"
#include "state/town.hpp"
#include "support/temp_dir.hpp"
#include "util/file.hpp"

#include <algorithm>
#include <gtest/gtest.h>
#include <unistd.h>

using namespace gt;
using namespace std::chrono_literals;
using gt::test::RecordingRunner;

namespace {

state::Identity ident(const std::string& text) {
    return *state::parse_identity(text);
}

/// A town with rig r1 (deacon, witness and refinery supervised), an event log, and a runner
/// whose `list-panes` shows the sessions listed in `alive`.
struct Town {
    test::TempDir dir{"gt-executor"};
    state::TownConfig config;
    RecordingRunner runner;
    executor::EventLog events{dir.path() + "/daemon/events.jsonl", 1 << 20, 2};
    util::TimePoint now = util::now();
    executor::Recovery recovery{dir.path(),   runner, events, "", [this] { return now; },
                                "/usr/bin/gt"};

    Town() {
        EXPECT_TRUE(state::init_town(dir.path(), "t"));
        EXPECT_TRUE(state::add_rig(dir.path(), "r1"));
        EXPECT_TRUE(util::make_dirs(dir.path() + "/daemon/requests", 0700, true));
        EXPECT_TRUE(events.open());
        show({"gt-deacon", "gt-r1-witness", "gt-r1-refinery"});
    }
    /// Sessions whose agent is alive (the pane process is this test: it exists, and its
    /// command is not a shell).
    void show(const std::vector<std::string>& sessions) {
        std::string out;
        for (const auto& s : sessions) {
            out += s + "\t0\t" + std::to_string(::getpid()) + "\t0\t0\t0\tclaude\n";
        }
        runner.on("list-panes", test::ok_reply(out));
    }
    executor::HeartbeatSummary pass() { return recovery.run(config, {"r1"}); }
    std::vector<std::string> started_sessions() const {
        std::vector<std::string> out;
        for (const auto& c : runner.calls_of("new-session")) {
            auto it = std::find(c.argv.begin(), c.argv.end(), "-s");
            out.push_back(it != c.argv.end() ? *(it + 1) : "?");
        }
        return out;
    }
    std::string events_text() const {
        auto text = util::read_file(dir.path() + "/daemon/events.jsonl");
        return text ? *text : "";
    }
    /// Queues a lifecycle request from r1/witness, and sets the clock to its time.
    void request(state::LifecycleAction action) {
        auto req =
            client::write_request(dir.path() + "/daemon/requests", ident("r1/witness"), action);
        ASSERT_TRUE(req) << req.error();
        now = req->timestamp;
    }
    std::vector<std::string> claimed() const {
        std::vector<std::string> names;
        if (auto entries = util::list_dir(dir.path() + "/daemon/requests/claimed")) {
            for (const auto& e : *entries) {
                names.push_back(e.name);
            }
        }
        return names;
    }
};

} // namespace

TEST(Executor, AHealthyTownRunsOneSnapshotAndNothingElse) {
    Town t;
    auto out = t.pass();
    EXPECT_EQ(t.runner.calls().size(), 1u);
    EXPECT_EQ(t.runner.count("list-panes"), 1u);
    EXPECT_EQ(out.supervised, 3u);
    EXPECT_EQ(out.healthy, 3u);
    EXPECT_EQ(out.pane_pids.size(), 3u);
    EXPECT_FALSE(out.degraded);
}

TEST(Executor, AMissingSessionIsStartedWithStartingWrittenAtTheClocksTime) {
    Town t;
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
    Town t;
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
    Town t;
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
    Town t;
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
    Town t;
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
    Town t;
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
    Town t;
    t.request(state::LifecycleAction::restart);
    t.runner.fail_to_start(test::tmux_subcommand_is("list-panes"), "No such file or directory");
    auto out = t.pass();
    EXPECT_TRUE(out.degraded);
    EXPECT_EQ(t.runner.count("new-session"), 0u);
    EXPECT_EQ(t.runner.count("kill-session"), 0u);
    EXPECT_EQ(t.claimed().size(), 1u);
}

TEST(Executor, EveryStartCarriesThePaneDiedHookNamingTheAgent) {
    Town t;
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
