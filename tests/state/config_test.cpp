#include "state/config.hpp"

#include <cstdlib>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

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

TEST(Config, DuplicateKeysAreErrorsNamingTheKeyPath) {
    struct Case {
        const char* text;
        const char* key;
    };
    for (auto c : {Case{R"({"name":"a","name":"b"})", "name"},
                   Case{R"({"daemon":{"heartbeat_interval":"1m","heartbeat_interval":"2m"}})",
                        "daemon.heartbeat_interval"},
                   Case{R"({"daemon":{"restart":{"multiplier":2,"multiplier":3}}})",
                        "daemon.restart.multiplier"},
                   Case{R"({"roles":{"witness":{},"witness":{"enabled":false}}})", "roles.witness"},
                   Case{R"({"agent":{"command":[{"a":1,"a":2}]}})", "agent.command[0].a"},
                   Case{R"({"daemon":{},"daemon":{}})", "daemon"}}) {
        auto r = parse_town_config(c.text, "/t/mayor/town.json");
        ASSERT_FALSE(r.ok()) << c.text;
        EXPECT_EQ(r.error(), std::string("/t/mayor/town.json: duplicate key '") + c.key + "'")
            << c.text;
    }
    // The same key in different objects is no duplicate.
    auto ok = parse_town_config(
        R"({"roles":{"witness":{"enabled":true},"refinery":{"enabled":true}},
            "daemon":{"log":{"max_files":3}},"agent":{"command":["a","a"]}})",
        "town.json");
    EXPECT_TRUE(ok.ok()) << ok.error();
}

TEST(Config, TmuxSocketMustBeAPlainFileName) {
    for (const std::string& good : std::vector<std::string>{"", "s1", "gt-test-12-3", "a.b_c-d",
                                                            "_x", std::string(64, 'a')}) {
        auto c = parse_town_config(R"({"tmux":{"socket":")" + good + R"("}})", "town.json");
        ASSERT_TRUE(c.ok()) << good << ": " << c.error();
        EXPECT_EQ(c->tmux_socket, good);
        EXPECT_TRUE(validate_tmux_socket_name("GT_TMUX_SOCKET", good).ok()) << good;
    }
    for (const std::string& bad :
         std::vector<std::string>{"../x", "a/b", "/tmp/s", ".", "..", ".hidden", "-x", "a b", "a;b",
                                  "$(id)", std::string(65, 'a')}) {
        auto c = parse_town_config(R"({"tmux":{"socket":")" + bad + R"("}})", "/t/town.json");
        ASSERT_FALSE(c.ok()) << bad;
        EXPECT_EQ(c.error().rfind("/t/town.json: tmux.socket: ", 0), 0u) << c.error();
        auto st = validate_tmux_socket_name("GT_TMUX_SOCKET", bad);
        ASSERT_FALSE(st.ok()) << bad;
        EXPECT_EQ(st.error().rfind("GT_TMUX_SOCKET: ", 0), 0u) << st.error();
        EXPECT_NE(st.error().find(bad), std::string::npos) << st.error();
    }
}

TEST(Config, TmuxSocketFromTheEnvironmentIsValidated) {
    ::setenv("GT_TMUX_SOCKET", "../x", 1);
    auto bad = tmux_socket_from_env();
    ::setenv("GT_TMUX_SOCKET", "gt-1", 1);
    auto good = tmux_socket_from_env();
    ::unsetenv("GT_TMUX_SOCKET");
    auto unset = tmux_socket_from_env();
    ASSERT_FALSE(bad.ok());
    EXPECT_EQ(bad.error().rfind("GT_TMUX_SOCKET: ", 0), 0u) << bad.error();
    ASSERT_TRUE(good.ok()) << good.error();
    EXPECT_EQ(*good, "gt-1");
    ASSERT_TRUE(unset.ok());
    EXPECT_EQ(*unset, "");
}

namespace {

/// The words of `command` given as a string in agent.command, or the error.
gt::util::Result<std::vector<std::string>> words(const std::string& command) {
    nlohmann::json doc = {{"agent", {{"command", command}}}};
    auto c = parse_town_config(doc.dump(), "town.json");
    if (!c) {
        return gt::util::err(c.error());
    }
    return c->agent_command;
}

using Words = std::vector<std::string>;

} // namespace

TEST(Config, CommandStringIsSplitLikeAShellWithoutExpansion) {
    struct Case {
        std::string text;
        Words expected;
    };
    for (const auto& c : std::vector<Case>{
             // Blanks separate words.
             {"claude --dangerously-skip-permissions",
              {"claude", "--dangerously-skip-permissions"}},
             {"  a \t b  ", {"a", "b"}},
             // Single quotes keep everything literal.
             {"claude --append-system-prompt 'be brief'",
              {"claude", "--append-system-prompt", "be brief"}},
             {R"(x 'a"b\c $x `y` ; | * # ~')", {"x", R"(a"b\c $x `y` ; | * # ~)"}},
             // Double quotes: literal but for a backslash before \ " $ ` and newline.
             {R"(x "a 'b' \"c\" \\ \$ \` \x")", {"x", R"(a 'b' "c" \ $ ` \x)"}},
             {"x \"a\\\nb\"", {"x", "ab"}},
             {R"(x "; & | < > ( ) * ? [ ~ #")", {"x", "; & | < > ( ) * ? [ ~ #"}},
             // A backslash outside quotes escapes the next character.
             {R"(x a\ b \; \' \" \$ \\)", {"x", "a b", ";", "'", "\"", "$", "\\"}},
             {"x a\\\nb", {"x", "ab"}},
             // Adjacent parts join into one word.
             {"x --x='a b'", {"x", "--x=a b"}},
             {R"(x a"b"'c'd\ e)", {"x", "abcd e"}},
             // Empty quotes make an empty word.
             {R"(x '' "" a'')", {"x", "", "", "a"}},
             // Special only at the start of a word.
             {"x a#b a~b --x=~ ]", {"x", "a#b", "a~b", "--x=~", "]"}},
             {"x '~/a' \\#b", {"x", "~/a", "#b"}},
         }) {
        auto w = words(c.text);
        ASSERT_TRUE(w.ok()) << c.text << ": " << w.error();
        EXPECT_EQ(*w, c.expected) << c.text;
    }
}

TEST(Config, CommandStringThatNeedsAShellIsRefused) {
    struct Case {
        std::string text;
        std::string what; ///< expected in the message
    };
    for (const auto& c : std::vector<Case>{
             {"claude 'be brief", "unterminated single quote at position 8"},
             {"claude \"be brief", "unterminated double quote at position 8"},
             {"claude \\", "position 8"},
             {"claude; rm -rf x", "';' at position 7"},
             {"a && b", "'&' at position 3"},
             {"a | b", "'|' at position 3"},
             {"a <in", "'<' at position 3"},
             {"a >out", "'>' at position 3"},
             {"(a)", "'(' at position 1"},
             {"a)", "')' at position 2"},
             {"a $HOME", "'$' at position 3"},
             {"a `id`", "'`' at position 3"},
             {"a \"x$HOME\"", "'$' at position 5"},
             {"a \"`id`\"", "'`' at position 4"},
             {"a *.txt", "'*' at position 3"},
             {"a b?", "'?' at position 4"},
             {"a x[ab]", "'[' at position 4"},
             {"a ~/x", "'~' at position 3"},
             {"a #comment", "'#' at position 3"},
             {"a\nb", "newline at position 2"},
         }) {
        auto w = words(c.text);
        ASSERT_FALSE(w.ok()) << c.text;
        EXPECT_EQ(w.error().rfind("town.json: agent.command: ", 0), 0u) << w.error();
        EXPECT_NE(w.error().find(c.what), std::string::npos) << c.text << ": " << w.error();
    }
    auto role = parse_town_config(R"({"roles":{"witness":{"command":"sleep 1 | cat"}}})",
                                  "/t/mayor/town.json");
    ASSERT_FALSE(role.ok());
    EXPECT_EQ(role.error().rfind("/t/mayor/town.json: roles.witness.command: ", 0), 0u)
        << role.error();
    EXPECT_NE(role.error().find("'|' at position 9"), std::string::npos) << role.error();
}

TEST(Config, ScreensKindsAndTownPatterns) {
    auto c = parse_town_config(
        R"({"daemon":{"screens":{"quiet_after":"5s","usage_probe":"2m","resume_margin":"0s",
        "resume_text":"go on","patterns":[{"kind":"codex","condition":"usage_limited",
        "match":"out of juice"},{"condition":"idle","match":"^READY>"}]}},
        "agent":{"command":"bash -c 'exec claude'","kind":"claude"},
        "roles":{"witness":{"command":"npx @openai/codex"},"refinery":{"kind":"gemini"}}})",
        "town.json");
    ASSERT_TRUE(c.ok()) << c.error();
    const ScreenConfig& s = c->daemon.screens;
    EXPECT_EQ(s.quiet_after, 5s);
    EXPECT_EQ(s.usage_probe, 2min);
    EXPECT_EQ(s.resume_margin, 0s);
    EXPECT_EQ(s.resume_text, "go on");
    ASSERT_EQ(s.patterns.size(), 2u);
    EXPECT_EQ(s.patterns[0].kind, gt::screen::AgentKind::codex);
    EXPECT_FALSE(s.patterns[1].kind);
    // Kinds: the role's own, else the town's, else the command's.
    EXPECT_EQ(c->kind_for("refinery"), gt::screen::AgentKind::gemini);
    EXPECT_EQ(c->kind_for("deacon"), gt::screen::AgentKind::claude);
    c->agent_kind.reset();
    EXPECT_EQ(c->kind_for("witness"), gt::screen::AgentKind::codex);
    // The town's patterns are compiled and read screens.
    gt::screen::ReadContext ctx;
    auto r = s.matcher().read_live("READY> \n", gt::screen::AgentKind::claude, ctx);
    ASSERT_FALSE(r.empty());
    EXPECT_EQ(r[0].condition, gt::screen::Condition::idle);
    EXPECT_EQ(
        s.matcher().read_live("out of juice\n", gt::screen::AgentKind::codex, ctx).at(0).condition,
        gt::screen::Condition::usage_limited);
}

TEST(Config, BadScreensSettingsNameTheField) {
    auto error = [](const std::string& daemon) {
        auto c = parse_town_config(R"({"daemon":)" + daemon + "}", "town.json");
        return c.ok() ? std::string("accepted") : c.error();
    };
    EXPECT_NE(error(R"({"screens":{"patterns":[{"condition":"exited","match":"x"}]}})")
                  .find("daemon.screens.patterns[0].condition"),
              std::string::npos);
    EXPECT_NE(error(R"({"screens":{"patterns":[{"condition":"idle","match":"("}]}})")
                  .find("daemon.screens.patterns"),
              std::string::npos);
    EXPECT_NE(error(R"({"screens":{"patterns":[{"kind":"vim","condition":"idle","match":"x"}]}})")
                  .find("unknown agent kind 'vim'"),
              std::string::npos);
    EXPECT_NE(error(R"({"screens":{"patterns":{"condition":"idle"}}})").find("expected an array"),
              std::string::npos);
    EXPECT_NE(error(R"({"screens":{"resume_text":"two\nlines"}})").find("resume_text"),
              std::string::npos);
    EXPECT_NE(error(R"({"screens":{"quiet_after":"10ms"}})").find("quiet_after"),
              std::string::npos);
    auto kind = parse_town_config(R"({"roles":{"witness":{"kind":"emacs"}}})", "town.json");
    ASSERT_FALSE(kind.ok());
    EXPECT_NE(kind.error().find("roles.witness.kind"), std::string::npos) << kind.error();
}
