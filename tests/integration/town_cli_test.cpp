// Town commands and input validation through the real binary.

#include "support/harness.hpp"

#include "util/file.hpp"

#include <fstream>
#include <gtest/gtest.h>

using namespace gt::test;

TEST(TownCli, HostileRigNamesAreRefusedWithExit2) {
    TownFixture t;
    for (const std::string& bad : std::vector<std::string>{"../x", "a;b", "$(id)", "a b",
                                                           std::string(200, 'a'), "a-b", ""}) {
        auto r = t.gt({"rig", "add", bad});
        EXPECT_EQ(r.exit_code, 2) << bad << ": " << r.err;
        EXPECT_TRUE(has(r.err, "invalid rig name")) << r.err;
    }
    EXPECT_FALSE(gt::util::path_exists(t.root() + "/../x"));
    auto list = t.gt({"rig", "list"});
    EXPECT_EQ(list.exit_code, 0);
    EXPECT_EQ(list.out, "");
}

TEST(TownCli, RigAddListRemove) {
    TownFixture t;
    EXPECT_EQ(t.gt({"rig", "add", "gastown"}).exit_code, 0);
    EXPECT_TRUE(has(t.gt({"rig", "list"}).out, "gastown"));
    EXPECT_EQ(t.gt({"rig", "add", "gastown"}).exit_code, 1);
    EXPECT_EQ(t.gt({"rig", "remove", "gastown"}).exit_code, 0);
    EXPECT_FALSE(has(t.gt({"rig", "list"}).out, "gastown"));
}

TEST(TownCli, OutsideATownExits2) {
    TempDir dir;
    auto r = run_gt({"--town", dir.path(), "daemon", "status"});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_TRUE(has(r.err, "not in a Gas Town workspace")) << r.err;
    auto bad_flag = run_gt({"daemon", "stop", "--timeout", "soon"}, {"GT_TOWN_ROOT=" + dir.path()});
    EXPECT_EQ(bad_flag.exit_code, 2);
    auto unknown = run_gt({"frobnicate"});
    EXPECT_EQ(unknown.exit_code, 2);
}

TEST(TownCli, InitRefusesToOverwrite) {
    TownFixture t;
    auto r = run_gt({"init", t.root()});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_TRUE(has(r.err, "refusing")) << r.err;
}

TEST(TownCli, BadTownJsonStopsStartAndNamesFileFieldReason) {
    struct Case {
        std::string content;
        std::string field;
        std::string reason;
    };
    for (const auto& c : {Case{"this is not json", "", "not valid JSON"},
                          Case{R"({"daemon":{"heartbeat_interval":"soon"}})",
                               "daemon.heartbeat_interval", "not a duration"},
                          Case{R"({"daemon":{"heartbeat_interval":true}})",
                               "daemon.heartbeat_interval", "expected a duration string"},
                          Case{R"({"daemon":{"restart":{"multiplier":"x2"}}})",
                               "daemon.restart.multiplier", "expected a number"}}) {
        TownFixture t;
        std::string path = t.root() + "/mayor/town.json";
        { std::ofstream(path, std::ios::trunc) << c.content; }
        auto r = t.gt({"daemon", "start"});
        EXPECT_NE(r.exit_code, 0) << c.content;
        EXPECT_TRUE(has(r.err, path)) << r.err;
        EXPECT_TRUE(has(r.err, c.field)) << r.err;
        EXPECT_TRUE(has(r.err, c.reason)) << r.err;
        EXPECT_EQ(slurp(path), c.content);
        EXPECT_TRUE(daemon_pids(t.root()).empty());
        auto run = t.gt({"daemon", "run"});
        EXPECT_EQ(run.exit_code, 1);
        EXPECT_TRUE(has(run.err, c.field)) << run.err;
    }
}

TEST(TownCli, RigNamesOfTheTownsOwnDirectoriesAreRefusedWithExit2) {
    TownFixture t;
    std::string rigs = slurp(t.root() + "/mayor/rigs.json");
    for (const char* reserved :
         {"daemon", "agents", "mayor", "mail", "deacon", "Daemon", "MAYOR", "Deacon"}) {
        auto r = t.gt({"rig", "add", reserved});
        EXPECT_EQ(r.exit_code, 2) << reserved << ": " << r.err;
        EXPECT_TRUE(has(r.err, "reserved by gt's town layout")) << r.err;
    }
    for (const char* inside : {"witness", "refinery", "crew", "polecats"}) {
        for (const char* top : {"daemon", "agents", "mayor", "mail", "deacon"}) {
            std::string path = t.root() + "/" + top + "/" + inside;
            EXPECT_FALSE(gt::util::path_exists(path)) << path;
        }
    }
    EXPECT_EQ(slurp(t.root() + "/mayor/rigs.json"), rigs);
    EXPECT_EQ(t.gt({"rig", "list"}).out, "");
    auto polecat = t.gt({"polecat", "add", "daemon", "nux"});
    EXPECT_EQ(polecat.exit_code, 2) << polecat.err;
    EXPECT_FALSE(gt::util::path_exists(t.root() + "/daemon/polecats"));
    auto report = t.gt({"agent", "report", "--as", "mail/witness", "--state", "idle"});
    EXPECT_EQ(report.exit_code, 2) << report.err;
    EXPECT_FALSE(gt::util::path_exists(t.root() + "/agents/mail"));
}
