// daemon/screens.json: what the daemon keeps of the agents' screens across its restarts.
#include "executor/screen_memory.hpp"

#include "support/fixed_time.hpp"
#include "support/temp_dir.hpp"
#include "util/file.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

using namespace gt;
using namespace std::chrono_literals;
using executor::ScreenStates;
using screen::Condition;

TEST(ScreenMemory, RoundTripsWhatACaptureCannotTellAgain) {
    ScreenStates states;
    policy::ScreenState& s = states["r1/polecats/nux"];
    s.pane_pid = 4242;
    s.condition = Condition::usage_limited;
    s.evidence = "You've hit your session limit · resets 9:57pm (UTC)";
    s.since = test::t0() - 5min;
    s.resets_at = test::t0() + 1h;
    s.resume_sent_at = test::t0();
    s.resumed_evidence = s.evidence;
    s.resume_echo_seen = true;
    s.activity = test::t0() - 5min; // not kept
    policy::ScreenState& d = states["deacon"];
    d.pane_pid = 7;
    d.condition = Condition::exited;
    d.cause = Condition::offline;
    d.since = test::t0();

    auto back = executor::parse_screens(executor::screens_json(states), "screens.json");
    ASSERT_TRUE(back) << back.error();
    ASSERT_EQ(back->size(), 2u);
    const policy::ScreenState& r = back->at("r1/polecats/nux");
    EXPECT_EQ(r.pane_pid, 4242);
    EXPECT_EQ(r.condition, Condition::usage_limited);
    EXPECT_EQ(r.evidence, s.evidence);
    EXPECT_EQ(r.since, s.since);
    EXPECT_EQ(r.resets_at, s.resets_at);
    EXPECT_EQ(r.resume_sent_at, s.resume_sent_at);
    EXPECT_EQ(r.resumed_evidence, s.resumed_evidence);
    EXPECT_TRUE(r.resume_echo_seen);
    EXPECT_EQ(r.activity, util::TimePoint{});
    EXPECT_EQ(back->at("deacon").cause, Condition::offline);
}

TEST(ScreenMemory, EntriesOfTheWrongShapeAreSkippedAndNamed) {
    std::vector<std::string> skipped;
    auto back = executor::parse_screens(R"({
        "deacon": {"pane_pid": 5, "condition": "idle", "since": "2026-11-23T10:00:00Z"},
        "../x": {"pane_pid": 5, "condition": "idle"},
        "a;b": {"pane_pid": 5, "condition": "idle"},
        "r1/witness": {"pane_pid": 5, "condition": "sleeping"},
        "r1/refinery": {"pane_pid": -1, "condition": "idle"},
        "mayor": [1, 2],
        "r1/polecats/nux": {"pane_pid": 5, "condition": "idle", "evidence": 12},
        "r1/polecats/slit": {"pane_pid": 5, "resume_sent_at": "yesterday"}
    })",
                                        "screens.json", &skipped);
    ASSERT_TRUE(back) << back.error();
    EXPECT_EQ(back->size(), 1u);
    EXPECT_EQ(back->count("deacon"), 1u);
    EXPECT_EQ(skipped.size(), 7u);
}

TEST(ScreenMemory, WhatIsNoObjectIsAnErrorNamingTheFile) {
    for (const char* text : {"", "[]", "nul", "{\"deacon\":", "\xff\xfe"}) {
        auto back = executor::parse_screens(text, "/t/daemon/screens.json");
        ASSERT_FALSE(back) << text;
        EXPECT_EQ(back.error().rfind("/t/daemon/screens.json", 0), 0u) << back.error();
    }
}

TEST(ScreenMemory, AMissingFileIsEmptyAFileThatIsNoFileAnError) {
    test::TempDir dir("gt-screen-memory");
    auto missing = executor::load_screens(dir.path() + "/screens.json");
    ASSERT_TRUE(missing) << missing.error();
    EXPECT_TRUE(missing->empty());

    ASSERT_EQ(::mkfifo((dir.path() + "/fifo").c_str(), 0600), 0);
    ASSERT_EQ(::mkdir((dir.path() + "/dir").c_str(), 0700), 0);
    ASSERT_EQ(::symlink("/dev/zero", (dir.path() + "/zero").c_str()), 0);
    ASSERT_EQ(::symlink("loop", (dir.path() + "/loop").c_str()), 0);
    for (const char* name : {"fifo", "dir", "zero", "loop"}) {
        auto bad = executor::load_screens(dir.path() + "/" + name);
        ASSERT_FALSE(bad) << name;
        EXPECT_NE(bad.error().find(name), std::string::npos) << bad.error();
    }
}
