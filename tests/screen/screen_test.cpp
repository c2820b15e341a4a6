// The built-in screen patterns on the captured screens, names and kinds, dead panes.
#include "screen/screen_helpers.hpp"

using namespace gt;
using namespace gt::screen;
using namespace gt::screen_test;
using namespace std::chrono_literals;
using namespace std::string_literals;

namespace {

TEST(ScreenNames, ConditionNamesRoundTrip) {
    for (Condition c :
         {Condition::working, Condition::idle, Condition::waiting_input, Condition::startup_blocked,
          Condition::auth_failed, Condition::usage_limited, Condition::offline, Condition::exited,
          Condition::unknown}) {
        EXPECT_EQ(parse_condition(condition_name(c)), c) << condition_name(c);
    }
    EXPECT_STREQ(condition_name(Condition::usage_limited), "usage_limited");
    EXPECT_EQ(parse_condition("Working"), std::nullopt);
    EXPECT_EQ(parse_condition(""), std::nullopt);
    EXPECT_EQ(parse_condition("busy"), std::nullopt);
}

TEST(ScreenNames, KindNamesRoundTrip) {
    for (AgentKind k :
         {AgentKind::generic, AgentKind::claude, AgentKind::codex, AgentKind::gemini}) {
        EXPECT_EQ(parse_kind(kind_name(k)), k) << kind_name(k);
    }
    EXPECT_STREQ(kind_name(AgentKind::gemini), "gemini");
    EXPECT_EQ(parse_kind("Claude"), std::nullopt);
    EXPECT_EQ(parse_kind("aider"), std::nullopt);
}

TEST(ScreenKindOfCommand, PlainNamesAndPaths) {
    EXPECT_EQ(kind_of_command({"claude", "--resume", "x"}), AgentKind::claude);
    EXPECT_EQ(kind_of_command({"/usr/local/bin/codex"}), AgentKind::codex);
    EXPECT_EQ(kind_of_command({"gemini", "-y"}), AgentKind::gemini);
}

TEST(ScreenKindOfCommand, SkipsEnvAssignmentsOptionsAndLaunchers) {
    EXPECT_EQ(kind_of_command({"env", "FOO=1", "claude"}), AgentKind::claude);
    EXPECT_EQ(kind_of_command({"/usr/bin/env", "-i", "HOME=/x", "codex"}), AgentKind::codex);
    EXPECT_EQ(kind_of_command({"npx", "-y", "@openai/codex@0.169.0"}), AgentKind::codex);
    EXPECT_EQ(kind_of_command({"bunx", "@anthropic-ai/claude-code"}), AgentKind::claude);
    EXPECT_EQ(kind_of_command({"npx", "@google/gemini-cli"}), AgentKind::gemini);
    EXPECT_EQ(kind_of_command({"node", "/usr/lib/node_modules/@google/gemini-cli/dist/index.js"}),
              AgentKind::gemini);
    EXPECT_EQ(kind_of_command({"node", "--no-warnings", "/opt/codex/bin/codex.js"}),
              AgentKind::codex);
    EXPECT_EQ(kind_of_command({"exec", "claude"}), AgentKind::claude);
}

TEST(ScreenKindOfCommand, GenericOtherwise) {
    EXPECT_EQ(kind_of_command({}), AgentKind::generic);
    EXPECT_EQ(kind_of_command({"env", "A=1"}), AgentKind::generic);
    EXPECT_EQ(kind_of_command({"aider", "--model", "claude"}), AgentKind::generic);
    EXPECT_EQ(kind_of_command({"bash", "-c", "claude"}), AgentKind::generic);
    EXPECT_EQ(kind_of_command({"claudette"}), AgentKind::generic);
    EXPECT_EQ(kind_of_command({"npx", "@openai/codex-fork"}), AgentKind::generic);
}

// --- the real captures ---

struct FixtureCase {
    const char* file;
    AgentKind kind;
    bool dead;
    Condition condition; ///< live: the first reading; dead: the cause
    const char* evidence;
    std::optional<util::TimePoint> resets_at = std::nullopt;
    std::vector<Condition> also = {};   ///< further live readings expected
    std::vector<Condition> absent = {}; ///< live readings that must not be there
};

std::ostream& operator<<(std::ostream& os, const FixtureCase& c) {
    return os << c.file;
}

class ScreenFixture : public testing::TestWithParam<FixtureCase> {};

TEST_P(ScreenFixture, ReadsAsCaptured) {
    const FixtureCase& c = GetParam();
    std::string screen = fixture(c.file);
    for (AgentKind kind : {c.kind, AgentKind::generic}) {
        SCOPED_TRACE(kind_name(kind));
        if (c.dead) {
            Reading r = builtin_matcher().read_dead(screen, kind, capture_ctx());
            EXPECT_EQ(r.condition, Condition::exited);
            EXPECT_EQ(r.cause, c.condition) << condition_name(r.cause);
            EXPECT_EQ(r.evidence, c.evidence);
            EXPECT_EQ(r.resets_at, c.resets_at);
            continue;
        }
        auto readings = live(screen, kind);
        ASSERT_FALSE(readings.empty());
        EXPECT_EQ(readings[0].condition, c.condition) << condition_name(readings[0].condition);
        EXPECT_EQ(readings[0].evidence, c.evidence);
        EXPECT_EQ(readings[0].resets_at, c.resets_at);
        for (Condition also : c.also) {
            EXPECT_TRUE(find(readings, also)) << "missing " << condition_name(also);
        }
        for (Condition absent : c.absent) {
            EXPECT_FALSE(find(readings, absent)) << "unexpected " << condition_name(absent);
        }
        expect_sane(readings);
    }
}

const char* const k_credit_line =
    "Credit balance too low · Add funds: https://platform.claude.com/settings/billing";

INSTANTIATE_TEST_SUITE_P(
    ScreenFixtures, ScreenFixture,
    testing::Values(
        FixtureCase{"claude-2.1.197-idle-fresh", AgentKind::claude, false, Condition::idle,
                    "? for shortcuts · ← for agents ● high · /effort"},
        FixtureCase{"claude-2.1.197-idle-after-reply", AgentKind::claude, false, Condition::idle,
                    "? for shortcuts · ← for agents"},
        FixtureCase{"claude-2.1.197-busy-streaming",
                    AgentKind::claude,
                    false,
                    Condition::working,
                    "esc to interrupt · ← for agents",
                    std::nullopt,
                    {Condition::idle}},
        FixtureCase{"claude-2.1.197-ratelimit429-retrying-1",
                    AgentKind::claude,
                    false,
                    Condition::working,
                    "esc to interrupt · ← for agents",
                    std::nullopt,
                    {},
                    {Condition::usage_limited, Condition::offline}},
        FixtureCase{"claude-2.1.197-permission-bash", AgentKind::claude, false,
                    Condition::waiting_input, "Do you want to proceed?"},
        FixtureCase{"claude-2.1.197-usage-limit-max",
                    AgentKind::claude,
                    false,
                    Condition::usage_limited,
                    "You've hit your session limit · resets 9:57pm (UTC)",
                    utc_at(2026, 11, 23, 21, 57),
                    {Condition::waiting_input}},
        FixtureCase{"claude-2.1.197-auth401",
                    AgentKind::claude,
                    false,
                    Condition::auth_failed,
                    "Invalid API key · Fix external API key",
                    std::nullopt,
                    {Condition::idle}},
        FixtureCase{"claude-2.1.197-offline-midsession-final",
                    AgentKind::claude,
                    false,
                    Condition::offline,
                    "API Error: Unable to connect to API (ConnectionRefused)",
                    std::nullopt,
                    {Condition::idle}},
        FixtureCase{"claude-2.1.197-onboarding-trust-folder", AgentKind::claude, false,
                    Condition::startup_blocked, "1. Yes, I trust this folder"},
        FixtureCase{"claude-2.1.197-startup-preflight-offline", AgentKind::claude, true,
                    Condition::offline, "Unable to connect to Anthropic services"},
        FixtureCase{"claude-2.1.197-slash-exit", AgentKind::claude, true, Condition::auth_failed,
                    k_credit_line},
        FixtureCase{"codex-0.169.0-signin",
                    AgentKind::codex,
                    false,
                    Condition::startup_blocked,
                    "Choose how you want to use Codex.",
                    std::nullopt,
                    {Condition::waiting_input}},
        FixtureCase{"codex-0.169.0-startup-welcome", AgentKind::codex, false, Condition::idle,
                    "Ask Codex to do anything"},
        FixtureCase{"codex-0.169.0-busy-thinking", AgentKind::codex, false, Condition::working,
                    "Working (6s • esc to interrupt)"},
        FixtureCase{
            "codex-0.169.0-usage-limit", AgentKind::codex, false, Condition::usage_limited,
            "You've hit your usage limit. Upgrade to Pro (https://chatgpt.com/explore/pro), "
            "visit https://chatgpt.com/settings/",
            utc_at(2026, 11, 23, 22, 4)},
        FixtureCase{"codex-0.169.0-permission-exec", AgentKind::codex, false,
                    Condition::waiting_input, "Press enter to confirm or esc to cancel"},
        FixtureCase{"codex-0.169.0-auth401",
                    AgentKind::codex,
                    false,
                    Condition::auth_failed,
                    "unexpected status 401 Unauthorized: Incorrect API key provided (mock), url: "
                    "http://127.0.0.1:8790/v1/responses",
                    std::nullopt,
                    {Condition::idle},
                    {Condition::usage_limited}},
        FixtureCase{"gemini-0.61.0-trust-folder", AgentKind::gemini, false,
                    Condition::startup_blocked, "Do you trust the files in this folder?"}),
    [](const testing::TestParamInfo<FixtureCase>& info) {
        std::string name = info.param.file;
        for (char& ch : name) {
            ch = std::isalnum(static_cast<unsigned char>(ch)) ? ch : '_';
        }
        return name;
    });

TEST(ScreenDead, ExitWithoutCauseShowsLastMeaningfulLine) {
    std::string screen = fixture("claude-2.1.197-slash-exit");
    auto at = screen.find(k_credit_line);
    ASSERT_NE(at, std::string::npos);
    screen.erase(at, std::string_view(k_credit_line).size());
    Reading r = builtin_matcher().read_dead(screen, AgentKind::claude, capture_ctx());
    EXPECT_EQ(r.condition, Condition::exited);
    EXPECT_EQ(r.cause, Condition::unknown);
    EXPECT_EQ(r.evidence, "claude --resume b02dd086-f7b7-4a9e-8a99-03d92b32e853");
}

TEST(ScreenDead, SkipsBordersBlanksAndTmuxLine) {
    Reading r =
        builtin_matcher().read_dead("building...\nlast words here\n\n────────────\n│        │\n\n"
                                    "Pane is dead (status 2, Mon Nov 23 19:50:40 2026)\n\n",
                                    AgentKind::generic, capture_ctx());
    EXPECT_EQ(r.condition, Condition::exited);
    EXPECT_EQ(r.cause, Condition::unknown);
    EXPECT_EQ(r.evidence, "last words here");
}

TEST(ScreenDead, UsageLimitCauseCarriesResetTime) {
    Reading r = builtin_matcher().read_dead(
        "⎿  You've hit your weekly limit · resets Nov 26, 7:58pm (UTC)\n✻ Worked for 0s\n"
        "Pane is dead (status 1, Mon Nov 23 19:50:40 2026)\n",
        AgentKind::claude, capture_ctx());
    EXPECT_EQ(r.cause, Condition::usage_limited);
    EXPECT_EQ(r.resets_at, utc_at(2026, 11, 26, 19, 58));
}

TEST(ScreenDead, NeverWorkingOrIdle) {
    Reading r = builtin_matcher().read_dead(fixture("claude-2.1.197-busy-streaming"),
                                            AgentKind::claude, capture_ctx());
    EXPECT_EQ(r.condition, Condition::exited);
    EXPECT_EQ(r.cause, Condition::unknown);
    EXPECT_FALSE(r.evidence.empty());
}

} // namespace
