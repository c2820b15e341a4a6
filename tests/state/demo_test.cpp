// gt init --demo, at the library level.
#include "state/agent_state.hpp"
#include "state/config.hpp"
#include "state/demo.hpp"
#include "state/town.hpp"
#include "support/temp_dir.hpp"
#include "util/file.hpp"

#include <gtest/gtest.h>

using namespace gt::state;
using namespace std::chrono_literals;

TEST(DemoTown, ConfigParsesAndEveryRoleRunsTheSimulatedAgent) {
    gt::test::TempDir dir;
    std::string root = dir.path() + "/demo";
    std::string gt = "/opt/gt dir/bin/gt";
    auto st = init_demo_town(root, "demo", gt);
    ASSERT_TRUE(st.ok()) << st.error();
    auto cfg = load_town_config(root);
    ASSERT_TRUE(cfg.ok()) << cfg.error();
    std::vector<std::string> sim{gt, "agent", "simulate", "--report-every", "5s"};
    for (const char* role : {"deacon", "mayor", "witness", "refinery", "polecat", "crew"}) {
        EXPECT_EQ(cfg->command_for(role), sim) << role;
    }
    EXPECT_EQ(cfg->agent_command, sim);
    EXPECT_FALSE(cfg->role_enabled("mayor"));
    for (const char* role : {"deacon", "witness", "refinery", "polecat"}) {
        EXPECT_TRUE(cfg->role_enabled(role)) << role;
    }
    EXPECT_EQ(cfg->name, "demo");
    EXPECT_EQ(cfg->daemon.heartbeat_interval, 5s);
    EXPECT_EQ(cfg->daemon.start_grace, 20s);
    EXPECT_EQ(cfg->daemon.dead_agent_timeout, 1min);
    EXPECT_EQ(cfg->daemon.gupp_timeout, 2min);
    EXPECT_EQ(cfg->daemon.deacon_stale, 1min);
    EXPECT_EQ(cfg->daemon.deacon_kill, 2min);
    EXPECT_EQ(cfg->daemon.restart.initial_backoff, 2s);
}

TEST(DemoTown, HasRigDemoAndTwoHookedPolecatsAndRefusesOverwrite) {
    gt::test::TempDir dir;
    std::string root = dir.path() + "/demo";
    ASSERT_TRUE(init_demo_town(root, "", "/usr/bin/gt").ok());
    auto rigs = load_rigs(root);
    ASSERT_TRUE(rigs.ok());
    ASSERT_EQ(rigs->size(), 1u);
    EXPECT_EQ((*rigs)[0].name, "demo");
    EXPECT_TRUE(gt::util::path_exists(root + "/demo/witness"));
    for (auto [name, hook] : {std::pair{"nux", "demo-task-1"}, std::pair{"slit", "demo-task-2"}}) {
        EXPECT_TRUE(gt::util::path_exists(root + "/demo/polecats/" + name));
        auto s = read_agent_state(root + "/agents/demo/polecats/" + name + ".json");
        ASSERT_TRUE(s.ok()) << s.error();
        EXPECT_EQ(s->hook, hook);
        EXPECT_EQ(s->status, AgentStatus::idle);
    }
    std::string before = *gt::util::read_file(TownPaths(root).town_json());
    EXPECT_FALSE(init_demo_town(root, "", "/usr/bin/gt").ok());
    EXPECT_EQ(*gt::util::read_file(TownPaths(root).town_json()), before);
}
