#include "state/config.hpp"

#include <gtest/gtest.h>

using namespace gt::state;
using namespace std::chrono_literals;

TEST(Config, DefaultsWhenEmptyObject) {
    auto c = parse_town_config("{}", "town.json");
    ASSERT_TRUE(c.ok()) << c.error();
    EXPECT_EQ(c->daemon.heartbeat_interval, 3min);
    EXPECT_EQ(c->daemon.dead_agent_timeout, 15min);
    EXPECT_EQ(c->daemon.restart.crash_loop_count, 5);
    EXPECT_FALSE(c->role_enabled("mayor"));
    EXPECT_TRUE(c->role_enabled("witness"));
    EXPECT_EQ(c->command_for("witness").front(), "claude");
}

TEST(Config, DefaultFileParsesToDefaults) {
    auto c = parse_town_config(default_town_json("t"), "town.json");
    ASSERT_TRUE(c.ok()) << c.error();
    EXPECT_EQ(c->name, "t");
    EXPECT_EQ(c->daemon.stop_timeout, 10s);
    EXPECT_EQ(c->daemon.log.max_size, 10u * 1024 * 1024);
    EXPECT_EQ(c->process_names, (std::vector<std::string>{"node", "claude"}));
}

TEST(Config, ReadsEveryField) {
    auto c = parse_town_config(
        R"({"daemon":{"heartbeat_interval":"300ms","restart":{"initial_backoff":"1s",
        "multiplier":3,"crash_loop_count":2}},"agent":{"command":["gt","agent","simulate"],
        "process_names":["x"]},"roles":{"mayor":{"enabled":true},"witness":{"command":"sleep 100"}},
        "tmux":{"socket":"s1"}})",
        "town.json");
    ASSERT_TRUE(c.ok()) << c.error();
    EXPECT_EQ(c->daemon.heartbeat_interval, 300ms);
    EXPECT_EQ(c->daemon.restart.initial_backoff, 1s);
    EXPECT_EQ(c->daemon.restart.multiplier, 3.0);
    EXPECT_TRUE(c->role_enabled("mayor"));
    EXPECT_EQ(c->command_for("witness"), (std::vector<std::string>{"sleep", "100"}));
    EXPECT_EQ(c->command_for("refinery"), (std::vector<std::string>{"gt", "agent", "simulate"}));
    EXPECT_EQ(c->tmux_socket, "s1");
}

TEST(Config, ErrorsNameFileFieldAndReason) {
    struct Case {
        const char* text;
        const char* field;
        const char* reason;
    };
    for (auto c :
         {Case{"not json", "", "not valid JSON"}, Case{"", "", "empty"},
          Case{"[1]", "", "expected a JSON object"},
          Case{R"({"daemon":{"heartbeat_interval":"soon"}})", "daemon.heartbeat_interval",
               "not a duration"},
          Case{R"({"daemon":{"heartbeat_interval":5}})", "daemon.heartbeat_interval", "got number"},
          Case{R"({"daemon":{"heartbeat_interval":"1ms"}})", "daemon.heartbeat_interval",
               "at least"},
          Case{R"({"daemon":"fast"})", "daemon", "expected an object"},
          Case{R"({"daemon":{"restart":{"crash_loop_count":"five"}}})",
               "daemon.restart.crash_loop_count", "integer"},
          Case{R"({"daemon":{"deacon_stale":"1h","deacon_kill":"1m"}})", "daemon.deacon_kill",
               "deacon_stale"},
          Case{R"({"agent":{"command":[]}})", "agent.command", "empty"},
          Case{R"({"agent":{"process_names":"node"}})", "agent.process_names", "array"},
          Case{R"({"roles":{"boss":{}}})", "roles.boss", "unknown role"},
          Case{R"({"roles":{"mayor":{"enabled":"yes"}}})", "roles.mayor.enabled", "true or false"},
          Case{R"({"daemon":{"log":{"max_size":"huge"}}})", "daemon.log.max_size", "size"}}) {
        auto r = parse_town_config(c.text, "/t/mayor/town.json");
        ASSERT_FALSE(r.ok()) << c.text;
        EXPECT_EQ(r.error().rfind("/t/mayor/town.json: ", 0), 0u) << r.error();
        EXPECT_NE(r.error().find(c.field), std::string::npos) << r.error();
        EXPECT_NE(r.error().find(c.reason), std::string::npos) << r.error();
    }
}
