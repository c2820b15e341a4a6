// daemon/storms.json (design §17.3): the storm, the deaths and the starts read back as saved;
// a bad file is an error that names it, never a crash.
#include "executor/storm_memory.hpp"

#include "support/fixed_time.hpp"

#include <gtest/gtest.h>

using namespace gt;
using namespace gt::executor;
using gt::test::t0;
using namespace std::chrono_literals;

TEST(StormMemory, WhatIsSavedReadsBack) {
    policy::StormState s;
    s.dead["deacon"] = {t0(), true, "signal 9", "Killed"};
    s.dead["r1/polecats/p1"] = {t0() + 1s, false, "", ""};
    s.storm = policy::Storm{t0(), {"deacon", "r1/polecats/p1"}, "the tmux server is gone"};
    s.starts = {t0() + 2s, t0() + 3s};
    auto back = parse_storms(storms_json(s), "storms.json");
    ASSERT_TRUE(back) << back.error();
    EXPECT_EQ(back->starts, s.starts);
    ASSERT_EQ(back->dead.size(), 2u);
    EXPECT_EQ(back->dead.at("deacon").at, t0());
    EXPECT_TRUE(back->dead.at("deacon").server_gone);
    EXPECT_EQ(back->dead.at("deacon").exit, "signal 9");
    EXPECT_EQ(back->dead.at("deacon").screen, "Killed");
    ASSERT_TRUE(back->storm);
    EXPECT_EQ(back->storm->since, t0());
    EXPECT_EQ(back->storm->agents, s.storm->agents);
    EXPECT_EQ(back->storm->cause, "the tmux server is gone");
    EXPECT_EQ(storms_json(*back), storms_json(s));

    auto none = parse_storms(storms_json({}), "storms.json");
    ASSERT_TRUE(none) << none.error();
    EXPECT_FALSE(none->storm);
    EXPECT_TRUE(none->dead.empty() && none->starts.empty());
}

TEST(StormMemory, BadFilesAreErrorsThatNameThemAndStrangeKeysAreDropped) {
    for (const char* text : {"", "[]", "{\"starts\": 3}", "{\"starts\": [\"yesterday\"]}",
                             "{\"storm\": {\"since\": \"x\"}}", "{\"dead\": []}", "\x01\x02"}) {
        auto r = parse_storms(text, "/t/daemon/storms.json");
        ASSERT_FALSE(r) << text;
        EXPECT_EQ(r.error().rfind("/t/daemon/storms.json", 0), 0u) << r.error();
    }
    auto r = parse_storms(R"({"dead": {"../x": {"at": "2026-01-01T00:00:00Z"}, "deacon": 3,
                                        "mayor": {"at": "2026-01-01T00:00:00Z"}}})",
                          "storms.json");
    ASSERT_TRUE(r) << r.error();
    ASSERT_EQ(r->dead.size(), 1u);
    EXPECT_TRUE(r->dead.count("mayor"));
}
