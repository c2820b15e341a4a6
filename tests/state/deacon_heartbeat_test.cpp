// The deacon's heartbeat file (deacon/heartbeat.json): its cycle count, the agents it counts,
// corrupt files and concurrent beats.
#include "state/agent_state.hpp"
#include "state/town.hpp"
#include "support/temp_dir.hpp"
#include "util/time.hpp"

#include <fstream>
#include <gtest/gtest.h>
#include <string>
#include <sys/stat.h>
#include <thread>
#include <vector>

// Not `using namespace gt::state`: its DeaconHeartbeat struct would clash with the fixture.
using gt::state::AgentStatus;
using gt::state::beat_deacon;
using gt::state::init_town;
using gt::state::parse_identity;
using gt::state::read_deacon_heartbeat;
using gt::state::report_agent_state;
using gt::state::TownPaths;

namespace {

mode_t mode_of(const std::string& path) {
    struct stat st {};
    ::stat(path.c_str(), &st);
    return st.st_mode & 07777;
}

/// A fresh town in a temporary directory.
class DeaconHeartbeat : public ::testing::Test {
protected:
    void SetUp() override {
        root = dir.path() + "/town";
        ASSERT_TRUE(init_town(root, "t").ok());
    }

    gt::test::TempDir dir;
    std::string root;
};

} // namespace

TEST_F(DeaconHeartbeat, DeaconHeartbeatCountsCyclesAndAgents) {
    EXPECT_FALSE(read_deacon_heartbeat(root).ok());
    for (long cycle = 1; cycle <= 3; ++cycle) {
        auto b = beat_deacon(root, "patrol " + std::to_string(cycle));
        ASSERT_TRUE(b.ok()) << b.error();
        EXPECT_EQ(b->cycle, cycle);
    }
    auto back = read_deacon_heartbeat(root);
    ASSERT_TRUE(back.ok()) << back.error();
    EXPECT_EQ(back->cycle, 3);
    EXPECT_EQ(back->last_action, "patrol 3");
    EXPECT_LE(back->timestamp, gt::util::now());
    EXPECT_EQ(mode_of(TownPaths(root).deacon_heartbeat()), 0600u);

    auto id = [](const char* s) { return *parse_identity(s); };
    ASSERT_TRUE(report_agent_state(root, id("deacon"), AgentStatus::running, {}, {}).ok());
    ASSERT_TRUE(report_agent_state(root, id("g/witness"), AgentStatus::idle, {}, {}).ok());
    ASSERT_TRUE(report_agent_state(root, id("g/refinery"), AgentStatus::stuck, {}, {}).ok());
    ASSERT_TRUE(report_agent_state(root, id("g/polecats/a"), AgentStatus::stopped, {}, {}).ok());
    std::ofstream(root + "/agents/mayor.json") << "garbage";
    auto b = beat_deacon(root, "");
    ASSERT_TRUE(b.ok()) << b.error();
    EXPECT_EQ(b->healthy_agents, 2);
    EXPECT_EQ(b->unhealthy_agents, 2);
}

TEST_F(DeaconHeartbeat, DeaconHeartbeatSurvivesCorruptPreviousFile) {
    std::string path = TownPaths(root).deacon_heartbeat();
    for (const std::string& bad :
         {std::string("{\"cycle\": 41"), std::string("\0\1\2", 3), std::string("[]"),
          std::string(R"({"cycle":"41","timestamp":"2026-11-22T10:00:00Z"})"),
          std::string(R"({"cycle":-5,"timestamp":"2026-11-22T10:00:00Z"})"),
          std::string(R"({"cycle":41})"), std::string(2 << 20, '1')}) {
        std::ofstream(path, std::ios::trunc | std::ios::binary) << bad;
        EXPECT_FALSE(read_deacon_heartbeat(root).ok());
        auto b = beat_deacon(root, "after corruption");
        ASSERT_TRUE(b.ok()) << b.error();
        EXPECT_EQ(b->cycle, 1) << bad.substr(0, 40);
    }
    std::ofstream(path, std::ios::trunc) << R"({"cycle":41,"timestamp":"2026-11-22T10:00:00Z"})";
    EXPECT_EQ(beat_deacon(root, "")->cycle, 42);
}

TEST_F(DeaconHeartbeat, ConcurrentDeaconBeatsLoseNoCycle) {
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&] {
            for (int i = 0; i < 25; ++i) {
                EXPECT_TRUE(beat_deacon(root, "x").ok());
            }
        });
    }
    for (auto& t : threads) {
        t.join();
    }
    EXPECT_EQ(read_deacon_heartbeat(root)->cycle, 100);
}
