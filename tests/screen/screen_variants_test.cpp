// Variants of wording and time, screens that must not match, evidence, town patterns, hostile
// screens.
#include "screen/screen_helpers.hpp"

using namespace gt;
using namespace gt::screen;
using namespace gt::screen_test;
using namespace std::chrono_literals;
using namespace std::string_literals;

namespace {

// --- other wordings ---

struct Variant {
    AgentKind kind;
    const char* screen;
    Condition condition;
};

void expect_variants(const std::vector<Variant>& variants) {
    for (const Variant& v : variants) {
        auto readings = live(v.screen, v.kind);
        EXPECT_EQ(first(readings), v.condition)
            << kind_name(v.kind) << ": " << v.screen << " -> " << condition_name(first(readings));
        expect_sane(readings);
    }
}

TEST(ScreenVariants, UsageLimits) {
    expect_variants({
        {AgentKind::claude, "⎿  Claude usage limit reached. Your limit will reset at 5pm.",
         Condition::usage_limited},
        {AgentKind::claude, "  ⎿  5-hour limit reached ∙ resets 3pm\n❯ \n",
         Condition::usage_limited},
        {AgentKind::claude, "⎿  API Error: Request rejected (429) · this may be temporary",
         Condition::usage_limited},
        {AgentKind::codex, "■ exceeded retry limit, last status: 429 Too Many Requests",
         Condition::usage_limited},
        {AgentKind::gemini, "✕ You have exhausted your daily quota on this model.",
         Condition::usage_limited},
        {AgentKind::gemini, "✕ [API Error: RESOURCE_EXHAUSTED]", Condition::usage_limited},
        {AgentKind::gemini, "⚡ You have reached your daily gemini-2.5-pro quota limit.",
         Condition::usage_limited},
        {AgentKind::generic,
         "Rate limit reached for gpt-5 in organization org-x on tokens per min (TPM).",
         Condition::usage_limited},
        {AgentKind::gemini,
         "✕ [API Error: You have exhausted your capacity on this model. Your quota will reset "
         "after 8h44m7s.]",
         Condition::usage_limited},
        {AgentKind::gemini, "✕ [Backend Error] Too many requests (HTTP 429)",
         Condition::usage_limited},
    });
}

TEST(ScreenVariants, UsageLimitResetTimes) {
    auto reset_of = [](const char* screen, AgentKind kind, const ReadContext& ctx) {
        auto r = find(builtin_matcher().read_live(screen, kind, ctx), Condition::usage_limited);
        return r ? r->resets_at : std::nullopt;
    };
    ReadContext ctx = capture_ctx();
    EXPECT_EQ(reset_of("⎿  You've hit your weekly limit · resets Nov 26, 7:58pm (UTC)",
                       AgentKind::claude, ctx),
              utc_at(2026, 11, 26, 19, 58));
    EXPECT_EQ(reset_of("✕ [API Error: Quota exceeded for quota metric 'Generate Content API "
                       "requests per minute'. Please retry in 1m30s.]",
                       AgentKind::gemini, ctx),
              ctx.now + 90s);
    EXPECT_EQ(reset_of("✕ [API Error: You have exhausted your capacity on this model. Your quota "
                       "will reset after 8h44m7s.]",
                       AgentKind::gemini, ctx),
              ctx.now + 8h + 44min + 7s);
    // The phrase wrapped onto the next line of a narrow pane.
    EXPECT_EQ(reset_of("■ You've hit your usage limit. Upgrade to Pro, or\ntry again in 2 days 17 "
                       "hours.\n",
                       AgentKind::codex, ctx),
              ctx.now + 65h);
    EXPECT_EQ(reset_of("■ You've hit your usage limit.\n\n\n\ntry again at 10:04 PM.",
                       AgentKind::codex, ctx),
              std::nullopt); // more than two lines below: not this banner's
}

TEST(ScreenVariants, UsageLimitInNamedZone) {
    if (!util::TimeZone::load("America/Chicago").ok()) {
        GTEST_SKIP() << "no zoneinfo for America/Chicago";
    }
    ReadContext ctx = capture_ctx();
    ctx.zones = [](std::string_view name) -> std::optional<util::TimeZone> {
        auto z = util::TimeZone::load(name);
        return z.ok() ? std::optional(*z) : std::nullopt;
    };
    auto readings = builtin_matcher().read_live(
        "⎿  Claude usage limit reached. Your limit will reset at 5pm (America/Chicago).",
        AgentKind::claude, ctx);
    ASSERT_EQ(first(readings), Condition::usage_limited);
    EXPECT_EQ(readings[0].resets_at, utc_at(2026, 11, 23, 23, 0)); // CST is UTC-6
}

TEST(ScreenVariants, AuthFailures) {
    expect_variants({
        {AgentKind::claude, "⎿  OAuth token has expired. Please obtain a new token.",
         Condition::auth_failed},
        {AgentKind::claude, "⎿  OAuth token revoked · Please run /login", Condition::auth_failed},
        {AgentKind::claude, "⎿  Invalid API key · Please run /login", Condition::auth_failed},
        {AgentKind::claude, "Not logged in · Please run /login", Condition::auth_failed},
        {AgentKind::claude,
         "⎿  API Error: 401 {\"type\":\"error\",\"error\":{\"type\":\"authentication_error\"}}",
         Condition::auth_failed},
        {AgentKind::claude, "⎿  Your credit balance is too low to access the Anthropic API.",
         Condition::auth_failed},
        {AgentKind::codex, "■ You exceeded your current quota, please check your plan.",
         Condition::auth_failed},
        {AgentKind::codex, "■ Your access token could not be refreshed. Please log in again.",
         Condition::auth_failed},
        {AgentKind::gemini, "✕ [API Error: API key not valid. Please pass a valid API key.]",
         Condition::auth_failed},
        {AgentKind::gemini, "✕ Request failed with status code 401", Condition::auth_failed},
        {AgentKind::generic, "Error: Unauthorized", Condition::auth_failed},
        {AgentKind::generic, "Authentication failed: bad credentials", Condition::auth_failed},
        {AgentKind::gemini,
         "✕ [API Error: {\"error\":{\"code\":400,\"message\":\"API key not valid. Please pass "
         "a valid API key.\",\"status\":\"INVALID_ARGUMENT\"}}]",
         Condition::auth_failed},
        {AgentKind::codex,
         "■ Provided authentication token is expired. Please try signing in again.",
         Condition::auth_failed},
        {AgentKind::codex, "■ stream error: unexpected status 429: insufficient_quota",
         Condition::usage_limited},
    });
}

TEST(ScreenVariants, StartupPrompts) {
    expect_variants({
        {AgentKind::codex, "  Do you trust the contents of this directory?\n› 1. Yes, continue",
         Condition::startup_blocked},
        {AgentKind::codex, "  1. Yes, allow Codex to work in this folder without asking",
         Condition::startup_blocked},
        {AgentKind::gemini,
         "│ How would you like to authenticate for this project? │\n"
         "│ ● 1. Login with Google │",
         Condition::startup_blocked},
        {AgentKind::claude, " Select login method:\n ❯ 1. Claude account with subscription",
         Condition::startup_blocked},
        {AgentKind::claude,
         " Browser didn't open? Use the url below to sign in\n"
         " Paste code here if prompted >",
         Condition::startup_blocked},
        {AgentKind::claude,
         " Choose the text style that looks best with your terminal:", Condition::startup_blocked},
        {AgentKind::claude,
         " Detected a custom API key in your environment\n"
         " Do you want to use this API key?\n ❯ 1. Yes\n   2. No",
         Condition::startup_blocked},
        {AgentKind::codex,
         "  ✨ Update available! 0.169.0 -> 0.170.0\n"
         "› 1. Update now (runs `npm install -g @openai/codex`)\n"
         "  2. Skip\n  3. Skip until next version\n  Press enter to continue",
         Condition::startup_blocked},
    });
    // A banner that does not wait for anyone.
    auto readings = live("✨ Update available! 0.169.0 -> 0.170.0 Run npm i -g @openai/codex\n"
                         "› Ask Codex to do anything\n",
                         AgentKind::codex);
    EXPECT_EQ(first(readings), Condition::idle);
}

TEST(ScreenVariants, PermissionPrompts) {
    expect_variants({
        {AgentKind::claude, " Do you want to make this edit to app.py?\n ❯ 1. Yes\n   2. No",
         Condition::waiting_input},
        {AgentKind::claude, " Do you want to create notes.txt?", Condition::waiting_input},
        {AgentKind::codex, "  Would you like to make the following edits?",
         Condition::waiting_input},
        {AgentKind::gemini, "│ Allow execution of: 'rm -rf build'? │\n│ ● 1. Allow once │",
         Condition::waiting_input},
        {AgentKind::gemini, "│ Apply this change? │", Condition::waiting_input},
        {AgentKind::gemini, "⠏ Waiting for user confirmation...", Condition::waiting_input},
        {AgentKind::generic, "Overwrite existing file? (y/N)", Condition::waiting_input},
    });
}

TEST(ScreenVariants, Offline) {
    expect_variants({
        {AgentKind::codex,
         "■ stream disconnected before completion: error sending request for url (https://x)",
         Condition::offline},
        {AgentKind::gemini, "✕ [API Error: fetch failed]", Condition::offline},
        {AgentKind::gemini, "Error: getaddrinfo ENOTFOUND generativelanguage.googleapis.com",
         Condition::offline},
        {AgentKind::claude, "⎿  API Error: Connection error.", Condition::offline},
        {AgentKind::generic, "curl: (6) Could not resolve host: example.com", Condition::offline},
    });
}

TEST(ScreenVariants, WorkingAndIdle) {
    expect_variants({
        {AgentKind::gemini, "⠏ Thinking about it (esc to cancel, 12s)\n│ > Type your message │",
         Condition::working},
        {AgentKind::generic, "⠏ Thinking about it (esc to cancel, 1m 5s)", Condition::working},
        {AgentKind::claude, "✻ Thinking… (12s · ↑ 1.2k tokens)", Condition::working},
        {AgentKind::codex, "• Working (1m 02s)", Condition::working},
        {AgentKind::gemini, "│ >   Type your message or @path/to/file │", Condition::idle},
        {AgentKind::generic, "some output\n> \n", Condition::idle},
        {AgentKind::codex, "› Explain this codebase\n\n  100% context left · ? for shortcuts",
         Condition::idle},
    });
    // Claude's permission prompt says "Esc to cancel": not Gemini's spinner.
    EXPECT_EQ(first(live("⠏ Thinking about it (esc to cancel, 12s)", AgentKind::claude)),
              Condition::unknown);
    EXPECT_EQ(
        first(live(" Do you want to proceed?\n Esc to cancel · Tab to amend", AgentKind::gemini)),
        Condition::waiting_input);
}

TEST(ScreenVariants, QuotaWarningIsNotALimit) {
    auto readings = live("• Done.\n  ⚠ 5h limit: only <1% left · resets at 22:04 · /status\n"
                         "› Ask Codex to do anything\n  ? for shortcuts\n",
                         AgentKind::codex);
    EXPECT_EQ(first(readings), Condition::idle);
    EXPECT_FALSE(find(readings, Condition::usage_limited));
}

// --- what agents write about their work must not read as a condition ---

TEST(ScreenNegatives, AgentProseAndCodeAreNotConditions) {
    const char* lines[] = {
        "● Added a rate limiter: limit 100 requests per minute, resets every 60s",
        "  12 +  const usageLimit = 5; // resets daily",
        "● I've updated test_401_handler.py and tests/fixtures/401.json",
        "  14 +    if (!user) return res.status(401).json({ error: 'unauthorized' });",
        "  15 +    throw new UnauthorizedError('unauthorized access');",
        "● Both services now trust each other's certificates; trust is set up at startup.",
        "● The session limit in the config is now 30 minutes.",
        "● Retry limit reached in the exporter is now configurable.",
        "● Context limit reached · /compact or /clear to continue",
        "  20 +  if token expired: refresh()",
        "● Added a login check: users who are not logged in are sent to /login.",
        "● Docs: the 'Do you trust the files?' dialog appears on first run.",
        "  21 +  # Authentication failed for 'https://github.com/x/y.git'",
        "● Wrote a quota checker that warns before the daily quota is used up.",
        // Test output and tool errors: the agent's work, not its own condition.
        "  ⎿  ✓ returns status 429 when rate limited",
        "  ⎿  ✓ returns 429 Too Many Requests after 100 calls",
        "  ⎿  Error: expected 200, got 429",
        "  ⎿  Error: Request failed with status code 401",
        "● The handler now returns error 401 for bad tokens.",
        "● I added a check for a missing API key.",
        "● The banner says 'when you have reached your usage limit' in bold now.",
        "● If the access token has expired, the client refreshes it.",
        "  ⎿  FAIL test/auth.test.js › rejects an invalid API key",
        "  31 +    raise QuotaExceeded('quota exceeded for tenant')",
        "  32 +  // RESOURCE_EXHAUSTED from the server means back off",
        "  ⎿  authentication_error is mapped to 403 in the proxy",
        "● Users now see 'Please log in again' when their session ends.",
        "● The rate limit reached warning now resets after a minute.",
        // List items, comments, tool output and continuation lines of the agent's own work.
        "  - Invalid API key now returns 401",
        "  * Rate limit exceeded responses are retried",
        "  ⎿  Unauthorized",
        "  ⎿  Error: invalid API key",
        "  └ Error: Unauthorized",
        "  // token expired",
        "  45 +  if code == 'insufficient_quota':",
        "  ✓ rejects an expired API key",
        "  # Not logged in users are redirected",
    };
    for (AgentKind kind :
         {AgentKind::claude, AgentKind::codex, AgentKind::gemini, AgentKind::generic}) {
        for (const char* line : lines) {
            auto readings = live(std::string(line) + "\n❯ \n  ? for shortcuts\n", kind);
            EXPECT_EQ(first(readings), Condition::idle) << kind_name(kind) << ": " << line;
            for (Condition c :
                 {Condition::usage_limited, Condition::auth_failed, Condition::startup_blocked}) {
                EXPECT_FALSE(find(readings, c))
                    << kind_name(kind) << ": " << condition_name(c) << ": " << line;
            }
        }
    }
}

TEST(ScreenNegatives, NothingRecognisedIsEmpty) {
    EXPECT_TRUE(live("hello\nworld\n").empty());
    EXPECT_TRUE(live("").empty());
}

// --- evidence ---

TEST(ScreenEvidence, TrimsGlyphsBordersAndBlankRuns) {
    auto readings = live(" │ ● Do you trust the files in   this folder?        │\n");
    ASSERT_FALSE(readings.empty());
    EXPECT_EQ(readings[0].evidence, "Do you trust the files in this folder?");
    readings = live("  ⎿  Invalid API key · Fix external API key\n");
    ASSERT_FALSE(readings.empty());
    EXPECT_EQ(readings[0].evidence, "Invalid API key · Fix external API key");
}

TEST(ScreenEvidence, MostRecentOccurrence) {
    auto readings = live("⎿  API Error: fetch failed (old)\n● Fine again.\n"
                         "⎿  API Error: Connection error.\n");
    ASSERT_FALSE(readings.empty());
    EXPECT_EQ(readings[0].evidence, "API Error: Connection error.");
}

TEST(ScreenEvidence, CutTo200BytesOnACharacterBoundary) {
    std::string line = "Invalid API key ";
    for (int i = 0; i < 300; ++i) {
        line += "é";
    }
    auto readings = live(line);
    ASSERT_EQ(first(readings), Condition::auth_failed);
    EXPECT_LE(readings[0].evidence.size(), 200u);
    EXPECT_GE(readings[0].evidence.size(), 198u);
    EXPECT_TRUE(valid_utf8(readings[0].evidence));
}

// --- the town's patterns ---

Matcher make_or_fail(const std::vector<UserPattern>& user, bool builtin = true) {
    auto m = Matcher::make(user, builtin);
    EXPECT_TRUE(m.ok()) << m.error();
    return m.ok() ? *m : *Matcher::make({});
}

TEST(MatcherUserPatterns, TownPatternWinsOverBuiltIn) {
    Matcher m = make_or_fail({{std::nullopt, Condition::idle, "esc to interrupt"}});
    auto readings =
        m.read_live(fixture("claude-2.1.197-busy-streaming"), AgentKind::claude, capture_ctx());
    ASSERT_GE(readings.size(), 2u);
    EXPECT_EQ(readings[0].condition, Condition::idle);
    EXPECT_EQ(readings[0].evidence, "esc to interrupt · ← for agents");
    EXPECT_EQ(readings[1].condition, Condition::working);
}

TEST(MatcherUserPatterns, InTheirOrderBeforeBuiltIns) {
    Matcher m = make_or_fail({{std::nullopt, Condition::waiting_input, "^pick a colou?r"},
                              {std::nullopt, Condition::offline, "vpn (is )?down"}});
    auto readings = m.read_live("VPN is down\nPick a colour\nesc to interrupt\n",
                                AgentKind::generic, capture_ctx());
    ASSERT_EQ(readings.size(), 3u);
    EXPECT_EQ(readings[0].condition, Condition::waiting_input);
    EXPECT_EQ(readings[0].evidence, "Pick a colour");
    EXPECT_EQ(readings[1].condition, Condition::offline);
    EXPECT_EQ(readings[2].condition, Condition::working);
}

TEST(MatcherUserPatterns, KindRestrictedAppliesOnlyToThatKind) {
    Matcher m = make_or_fail({{AgentKind::codex, Condition::usage_limited, "credits? exhausted"}});
    const char* screen = "Credits exhausted for this workspace\n";
    EXPECT_EQ(first(m.read_live(screen, AgentKind::codex, capture_ctx())),
              Condition::usage_limited);
    EXPECT_EQ(first(m.read_live(screen, AgentKind::claude, capture_ctx())), Condition::unknown);
    EXPECT_EQ(first(m.read_live(screen, AgentKind::generic, capture_ctx())), Condition::unknown);
}

TEST(MatcherUserPatterns, UsageLimitPatternGetsResetTime) {
    Matcher m = make_or_fail({{std::nullopt, Condition::usage_limited, "out of tokens"}});
    auto readings =
        m.read_live("Out of tokens, resets at 22:30\n", AgentKind::generic, capture_ctx());
    ASSERT_EQ(first(readings), Condition::usage_limited);
    EXPECT_EQ(readings[0].resets_at, utc_at(2026, 11, 23, 22, 30));
}

TEST(MatcherUserPatterns, InvalidRegexIsAnError) {
    auto m = Matcher::make(
        {{std::nullopt, Condition::idle, "ok"}, {std::nullopt, Condition::offline, "(unclosed["}});
    ASSERT_FALSE(m.ok());
    EXPECT_NE(m.error().find("screens.patterns[1]: "), std::string::npos) << m.error();
}

TEST(MatcherUserPatterns, ExitedIsAnError) {
    auto m = Matcher::make({{std::nullopt, Condition::exited, "bye"}});
    ASSERT_FALSE(m.ok());
    EXPECT_EQ(m.error().rfind("screens.patterns[0]: ", 0), 0u) << m.error();
}

TEST(MatcherUserPatterns, BuiltinFalseLeavesOnlyTownPatterns) {
    std::string busy = fixture("claude-2.1.197-busy-streaming");
    Matcher none = make_or_fail({}, false);
    EXPECT_TRUE(none.read_live(busy, AgentKind::claude, capture_ctx()).empty());
    Matcher own = make_or_fail({{std::nullopt, Condition::waiting_input, "long story"}}, false);
    auto readings = own.read_live(busy, AgentKind::claude, capture_ctx());
    ASSERT_EQ(readings.size(), 1u);
    EXPECT_EQ(readings[0].condition, Condition::waiting_input);
    EXPECT_EQ(readings[0].evidence, "write a long story");
}

TEST(MatcherUserPatterns, DeadCauseFromTownPattern) {
    Matcher m = make_or_fail(
        {{std::nullopt, Condition::offline, "vpn down"}, {std::nullopt, Condition::idle, "bye"}});
    Reading r = m.read_dead("VPN down\nbye\nPane is dead (status 1, Mon Nov 23 19:50:40 2026)\n",
                            AgentKind::generic, capture_ctx());
    EXPECT_EQ(r.cause, Condition::offline);
    EXPECT_EQ(r.evidence, "VPN down");
}

// --- hostile screens ---

TEST(ScreenHostile, EmptyAndBlank) {
    for (const char* screen : {"", "\n", "   \n\n\t\n", "\r\n\r\n"}) {
        EXPECT_TRUE(live(screen).empty());
        Reading r = builtin_matcher().read_dead(screen, AgentKind::generic, capture_ctx());
        EXPECT_EQ(r.condition, Condition::exited);
        EXPECT_EQ(r.cause, Condition::unknown);
        EXPECT_EQ(r.evidence, "");
    }
}

TEST(ScreenHostile, HundredThousandLinesReadsOnlyTheTail) {
    std::string screen = "⎿  Invalid API key\n";
    for (int i = 0; i < 100'000; ++i) {
        screen += "line " + std::to_string(i) + "\n";
    }
    screen += "? for shortcuts\n";
    auto readings = live(screen);
    ASSERT_EQ(readings.size(), 1u);
    EXPECT_EQ(readings[0].condition, Condition::idle);
}

TEST(ScreenHostile, OneMegabyteLine) {
    std::string screen(1 << 20, 'a');
    EXPECT_TRUE(live(screen).empty());
    std::string busy;
    while (busy.size() < (1u << 20)) {
        busy += "esc to interrupt · ";
    }
    auto readings = live(busy);
    ASSERT_EQ(first(readings), Condition::working);
    expect_sane(readings);
    // A town pattern that backtracks on every character still sees at most 1,024 bytes.
    Matcher m = make_or_fail({{std::nullopt, Condition::offline, "(a|b)*c"}});
    EXPECT_TRUE(m.read_live(screen, AgentKind::generic, capture_ctx()).empty());
}

TEST(ScreenHostile, CatastrophicTownPatternsRunInLinearTime) {
    // On a backtracking engine each of these takes exponential time in the line: "(a+)+$" on
    // 30 a's and a b ran for minutes. RE2 reads 200 lines of 1,024 bytes in milliseconds; a
    // hang here is the failure (the suite's timeout).
    std::string screen;
    for (int i = 0; i < 200; ++i) {
        screen += std::string(1000, 'a') + "b\n";
    }
    for (const char* pattern :
         {"(a+)+$", "(a|a)*c$", "(a|aa)+c$", "(.*a){20}c$", "^(a?){25}a{25}$"}) {
        Matcher m = make_or_fail({{std::nullopt, Condition::offline, pattern}});
        EXPECT_TRUE(m.read_live(screen, AgentKind::generic, capture_ctx()).empty()) << pattern;
    }
}

TEST(ScreenHostile, BuiltInPatternsOnLinesMadeOfTheirOwnWords) {
    // Lines that are nothing but the words the built-in expressions look for, repeated: each
    // line is still read once per pattern (on a backtracking engine "limit reached .*resets"
    // went quadratic: 0.7 s a screen).
    std::string screen;
    for (const char* words : {"limit reached ", "api error 429 ", "you've hit your ",
                              "do you want to ", "api key invalid "}) {
        std::string line;
        while (line.size() < 1000) {
            line += words;
        }
        for (int i = 0; i < 40; ++i) {
            screen += line + "\n";
        }
    }
    auto readings = live(screen);
    expect_sane(readings);
}

TEST(MatcherUserPatterns, LookaroundIsRefusedWithTheReason) {
    auto m = Matcher::make({{std::nullopt, Condition::idle, "ready(?! now)"}});
    ASSERT_FALSE(m.ok());
    EXPECT_NE(m.error().find("screens.patterns[0]: invalid regular expression"), std::string::npos)
        << m.error();
    EXPECT_NE(m.error().find("RE2"), std::string::npos) << m.error();
}

TEST(ScreenHostile, InvalidUtf8ControlsAndNuls) {
    // Hostile bytes before a line's words make it no CLI error line (see AgentProse…), so they
    // come after the words here, and on the line before.
    std::string screen = "\xff\xfe\xc3\x00\x1b[31m\n"
                         "Invalid API key \xff\xfe\xc3 \x00\x01\x1b[31m \xe2\x82 \xed\xa0\x80"
                         " \xf8\x88\x80\x80\x80 \xc0\xaf end\xe2\n"s;
    auto readings = live(screen);
    ASSERT_EQ(first(readings), Condition::auth_failed);
    expect_sane(readings);
    EXPECT_NE(readings[0].evidence.find("Invalid API key"), std::string::npos);
    EXPECT_EQ(readings[0].evidence.find('\0'), std::string::npos);
    Reading dead = builtin_matcher().read_dead(screen, AgentKind::generic, capture_ctx());
    EXPECT_TRUE(valid_utf8(dead.evidence));
}

TEST(ScreenHostile, BidiControlsDoNotReachTheEvidence) {
    // U+202E (right-to-left override) and U+2066 (left-to-right isolate) would make the line
    // shown in `agent list` or a mail subject read differently from what the agent printed.
    auto readings = live("Invalid API key \u202Etxt.exe\u2066 \u200F\n"s);
    ASSERT_EQ(first(readings), Condition::auth_failed);
    for (const char* bidi : {"\u202E", "\u2066", "\u200F"}) {
        EXPECT_EQ(readings[0].evidence.find(bidi), std::string::npos) << readings[0].evidence;
    }
}

TEST(ScreenHostile, RandomBytesNeverCrash) {
    std::mt19937 rng(42);
    std::uniform_int_distribution<int> byte(0, 255);
    std::uniform_int_distribution<int> length(0, 4000);
    Matcher m = make_or_fail({{std::nullopt, Condition::idle, "x+y"}});
    for (int round = 0; round < 300; ++round) {
        std::string screen(static_cast<std::size_t>(length(rng)), '\0');
        for (char& c : screen) {
            c = static_cast<char>(byte(rng));
        }
        expect_sane(m.read_live(screen, AgentKind::generic, capture_ctx()));
        Reading r = m.read_dead(screen, AgentKind::claude, capture_ctx());
        EXPECT_LE(r.evidence.size(), 200u);
        EXPECT_TRUE(valid_utf8(r.evidence));
    }
}

} // namespace

TEST(ScreenNegatives, ALineFarAboveTheBottomIsHistory) {
    // A failing test's output, then twenty lines of the agent's later work, then its prompt.
    std::string screen = "● Bash(npm test)\n  ⎿  AssertionError: expected status 401 but got 200\n"
                         "     3 failed with ECONNREFUSED\n  + Do you want to save changes?\n";
    for (int i = 0; i < 20; ++i) {
        screen += "● Fixed handler " + std::to_string(i) + "\n";
    }
    screen += "❯ \n  ? for shortcuts\n";
    auto readings = live(screen, AgentKind::claude);
    EXPECT_EQ(first(readings), Condition::idle);
    EXPECT_FALSE(find(readings, Condition::auth_failed));
    EXPECT_FALSE(find(readings, Condition::offline));
    EXPECT_FALSE(find(readings, Condition::waiting_input));
}
