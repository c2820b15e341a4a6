#include "patterns.hpp"

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstdlib>
#include <iterator>
#include <re2/re2.h>

namespace gt::screen::detail {

namespace {

constexpr unsigned k_claude = 1;
constexpr unsigned k_codex = 2;
constexpr unsigned k_gemini = 4;
constexpr unsigned k_all = 7;

using C = Condition;

/// The memory one expression may compile to: a town pattern that needs more is refused when the
/// town is loaded.
constexpr std::int64_t k_max_regex_mem = 1 << 20;

// One row of the table: the regex (RE2, on the lowered line) runs only when the literal is
// present, so most lines cost a handful of substring searches; a line holding any `unless`
// literal never matches (RE2 has no lookaround).
struct Spec {
    unsigned kinds;
    Condition condition;
    const char* literal;
    const char* regex = nullptr;
    std::array<const char*, 2> unless{};
    bool (*test)(std::string_view lower) = nullptr;
};

// A line holding nothing but prompt marks (❯ › >) and blanks: an empty input line.
bool bare_prompt(std::string_view lower) {
    static constexpr std::string_view k_marks[] = {"\xE2\x9D\xAF", "\xE2\x80\xBA", ">"};
    bool seen = false;
    for (std::size_t i = 0; i < lower.size();) {
        if (lower[i] == ' ') {
            ++i;
            continue;
        }
        std::size_t before = i;
        for (std::string_view mark : k_marks) {
            if (lower.substr(i).starts_with(mark)) {
                i += mark.size();
                seen = true;
                break;
            }
        }
        if (i == before) {
            return false;
        }
    }
    return seen;
}

// Where an agent CLI prints its own errors. A condition a person must act on (a usage limit, a
// failed sign-in) is matched only there, or after an "API Error", or on Codex's error mark ■:
// the agent's own work (test output, diffs, list items, comments) puts the same words anywhere
// else ("✓ returns status 429 when rate limited", "- Invalid API key now returns 401").
// GT_MARKS: what may stand before such a line's words: blanks, the error marks of the CLIs
// (■ ✕ ✗ ✘ × ⚠ ⚡ ❌), box borders (│ ┃) and "[" ("✕ [API Error: …]").
#define GT_MARKS                                                                                   \
    R"([\s\x{25A0}\x{2715}\x{2717}\x{2718}\x{00D7}\x{26A0}\x{26A1}\x{274C}\x{2502}\x{2503}\[])"
// GT_ERROR_START: those marks and an optional "Error:", "API Error:" or "Backend Error";
// or Claude's ⎿, which starts its own banners and errors ("⎿  You've hit your session limit",
// "⎿  API Error: …") but also every tool result, so after ⎿ only "API Error" may come first.
#define GT_ERROR_START                                                                             \
    R"(^(\s*\x{23BF}\s*(api error\W*)?|)" GT_MARKS R"(*((api |backend )?error\W*)?))"
#define GT_API_ERROR R"(\b(api|backend) error\b.*)"
#define GT_CODEX_ERROR R"(^\s*\x{25A0} )"

// Most telling first within a condition does not matter: every row of a condition is tried.
const Spec k_specs[] = {
    // working
    {k_all, C::working, "esc to interrupt"},
    {k_codex, C::working, "working (", R"(^\W*working \(\d)"},
    {k_gemini, C::working, "(esc to cancel, ", R"(\(esc to cancel, \d)"},
    {k_claude, C::working, "\xE2\x80\xA6 (", "^\\W*[a-z]+\xE2\x80\xA6 \\(\\d+[smh]"},

    // usage_limited; a warning such as "5h limit: only <1% left" is not one
    {k_all,
     C::usage_limited,
     "your ",
     GT_ERROR_START R"(you('ve| have)? (hit|reached|exceeded) your (\w[\w.-]* ){0,3}limit)",
     {"your context"}},
    {k_all, C::usage_limited, "limit reached",
     GT_ERROR_START R"((\w[\w.-]* ){0,3}limit reached\b.*\b(resets?|try again)\b)"},
    {k_all,
     C::usage_limited,
     "limit ",
     GT_ERROR_START
     R"((\w[\w.-]* ){0,2}(usage|session|weekly|daily|hourly|monthly|\d+-?h(ou)?r?|opus|sonnet|plan|message|request|rate) limit (reached|exceeded)\b)",
     {"now using", "switching"}},
    {k_all, C::usage_limited, "quota exceeded", GT_ERROR_START R"(quota exceeded)"},
    {k_all, C::usage_limited, "quota exceeded", GT_API_ERROR R"(\bquota exceeded)"},
    {k_all, C::usage_limited, "exhausted",
     GT_ERROR_START
     R"((you('ve| have) exhausted (your|the) (\w[\w.-]* ){0,3}(quota|capacity)|(\w[\w.-]* ){0,3}quota (has been |is )?exhausted|resource has been exhausted))"},
    {k_all, C::usage_limited, "resource_exhausted", GT_API_ERROR R"(resource_exhausted)"},
    {k_all, C::usage_limited, "429", GT_API_ERROR R"(\b429\b)"},
    {k_all, C::usage_limited, "429",
     "^" GT_MARKS R"(*(unexpected status|exceeded retry limit|stream error)\b.{0,80}\b429\b)"},
    {k_codex, C::usage_limited, "429", GT_CODEX_ERROR R"(.*\b429\b)"},

    // auth_failed; billing ("credit balance too low") too: only a person can fix either
    {k_all, C::auth_failed, "api",
     "^" GT_MARKS
     R"(*(\x{23BF}\s*)?((invalid|incorrect|expired|revoked) (x-)?api[ _-]?key|api[ _-]?key\b.{0,40}\b(invalid|not valid|expired|revoked|incorrect)))"},
    {k_all, C::auth_failed, "api",
     GT_API_ERROR R"(\b(api key not valid|(invalid|incorrect) api key|api_key_invalid))"},
    {k_all, C::auth_failed, "/login", R"(\brun /login\b|/login to (sign|log) ?in)"},
    {k_all, C::auth_failed, "401", GT_API_ERROR R"(\b401\b)"},
    {k_all, C::auth_failed, "401", "^" GT_MARKS R"(*unexpected status 401\b)"},
    {k_codex, C::auth_failed, "401", GT_CODEX_ERROR R"(.*\b401\b)"},
    {k_gemini, C::auth_failed, "401", GT_ERROR_START R"(request failed with status code 401\b)"},
    {k_all, C::auth_failed, "unauthori", "^" GT_MARKS R"(*(api )?error\W*unauthori[sz]ed\b)"},
    {k_all,
     C::auth_failed,
     "authenticat",
     GT_ERROR_START R"((authentication (failed|error)|failed to authenticate)\b)",
     {"authentication failed for ", "authentication error for "}},
    {k_all, C::auth_failed, "authentication_error", GT_API_ERROR R"(authentication_error)"},
    {k_all, C::auth_failed, "token",
     GT_ERROR_START
     R"((provided )?(your |the )?(oauth |access |auth |authentication |refresh |api |session )?token (has |is )?(expired|been revoked|revoked|(could not|couldn't) be refreshed))"},
    {k_all, C::auth_failed, "not logged in", GT_ERROR_START R"(not logged in\b)"},
    {k_all, C::auth_failed, "in again",
     GT_ERROR_START R"(please (try )?(log|sign)(ging)? ?in again)"},
    {k_all, C::auth_failed, "failed to login", GT_ERROR_START R"(failed to login)"},
    {k_all, C::auth_failed, "credit balance",
     GT_ERROR_START R"((your )?credit balance (is )?too low)"},
    {k_all, C::auth_failed, "insufficient",
     GT_ERROR_START R"(insufficient[_ ](quota|credits?|balance|funds))"},
    {k_all, C::auth_failed, "insufficient_quota",
     R"((\b(api|backend) error\b|^\s*\x{25A0} |^)" GT_MARKS
     R"(*(unexpected status|stream error)).*insufficient_quota)"},
    {k_all, C::auth_failed, "exceeded your current quota",
     GT_ERROR_START R"(you exceeded your current quota)"},
    {k_all, C::auth_failed, "out of credits", GT_ERROR_START R"((\w[\w.-]* ){0,3}out of credits)"},

    // startup_blocked: trust, sign-in, onboarding and update prompts
    {k_all, C::startup_blocked, "do you trust",
     R"(^\W*do you trust (the (files|contents|authors)|this (folder|directory|workspace|project)))"},
    {k_all, C::startup_blocked, "project you created or one you trust"},
    {k_all, C::startup_blocked, "i trust this folder"},
    {k_codex, C::startup_blocked, "allow codex to work in this folder"},
    {k_all, C::startup_blocked, "sign in with chatgpt"},
    {k_all, C::startup_blocked, "choose how you want to use codex"},
    {k_all, C::startup_blocked, "select login method"},
    {k_all, C::startup_blocked, "login with google"},
    {k_all, C::startup_blocked, "paste code here"},
    {k_all, C::startup_blocked, "how would you like to authenticate"},
    {k_all, C::startup_blocked, "waiting for auth"},
    {k_all, C::startup_blocked, "choose the text style"},
    {k_all, C::startup_blocked, "theme", R"(^\W*(select|choose) (a |your )?(color )?theme\b)"},
    {k_all, C::startup_blocked, "update available", R"(update available.*would you like)"},
    {k_all, C::startup_blocked, "update now", R"(\d\. update now\b)"},
    {k_all, C::startup_blocked, "skip until next version"},
    {k_claude, C::startup_blocked, "detected a custom api key"},
    {k_claude, C::startup_blocked, "do you want to use this api key"},
    {k_all, C::startup_blocked, "yes, i accept"},
    {k_claude, C::startup_blocked, "security notes:", R"(^\W*security notes:)"},
    {k_claude, C::startup_blocked, "terminal setup?"},

    // waiting_input: permission prompts and questions
    {k_all, C::waiting_input, "do you want to", R"(^\W*do you want to .*\?\W*$)"},
    {k_all, C::waiting_input, "would you like to",
     R"(would you like to (run|make|apply|allow|grant|proceed|execute|create|edit|delete|overwrite)\b)"},
    {k_all, C::waiting_input, "enter to confirm"},
    {k_all, C::waiting_input, "allow once"},
    {k_all, C::waiting_input, "apply this change?"},
    {k_all, C::waiting_input, "allow execution"},
    {k_all, C::waiting_input, "allow command?"},
    {k_all, C::waiting_input, "waiting for user confirmation"},
    {k_all, C::waiting_input, "(y/n)"},
    {k_all, C::waiting_input, "[y/n]"},
    {k_all, C::waiting_input, "press enter to continue", R"(^\W*press enter to continue\W*$)"},

    // offline
    {k_all, C::offline, "unable to connect"},
    {k_all, C::offline, "failed to connect"},
    {k_all, C::offline, "connectionrefused"},
    {k_all, C::offline, "connection refused"},
    {k_all, C::offline, "connection error"},
    {k_all, C::offline, "econnrefused"},
    {k_all, C::offline, "econnreset"},
    {k_all, C::offline, "etimedout"},
    {k_all, C::offline, "enotfound"},
    {k_all, C::offline, "getaddrinfo"},
    {k_all, C::offline, "network error"},
    {k_all, C::offline, "network is unreachable"},
    {k_all, C::offline, "fetch failed"},
    {k_all, C::offline, "could not resolve host"},
    {k_all, C::offline, "stream disconnected before completion"},
    {k_all, C::offline, "error sending request"},
    {k_all, C::offline, "check your internet connection"},
    {k_all, C::offline, "no internet connection"},

    // idle
    {k_all, C::idle, "? for shortcuts"},
    {k_codex, C::idle, "ask codex to do anything"},
    {k_gemini, C::idle, "type your message"},
    {k_codex | k_gemini, C::idle, "context left"},
    {k_claude, C::idle, "shift+tab to cycle"},
    {k_all, C::idle, "", nullptr, {}, bare_prompt},
};

#undef GT_MARKS
#undef GT_ERROR_START
#undef GT_API_ERROR
#undef GT_CODEX_ERROR

std::shared_ptr<const re2::RE2> compile_builtin(const char* pattern) {
    auto re = compile_regex(pattern, false); // matched on the lowered line
    if (!re->ok()) {
        // A built-in pattern is part of the program: a broken one is a bug, caught by every test.
        std::fprintf(stderr, "gt: bad built-in screen pattern %s: %s\n", pattern,
                     re->error().c_str());
        std::abort();
    }
    return re;
}

std::vector<Builtin> compile_all() {
    std::vector<Builtin> out;
    out.reserve(std::size(k_specs));
    for (const Spec& s : k_specs) {
        Builtin b;
        b.kinds = s.kinds;
        b.condition = s.condition;
        b.literal = s.literal;
        b.test = s.test;
        for (const char* u : s.unless) {
            if (u) {
                b.unless.emplace_back(u);
            }
        }
        if (s.regex) {
            b.regex = compile_builtin(s.regex);
        }
        out.push_back(std::move(b));
    }
    return out;
}

} // namespace

std::shared_ptr<const re2::RE2> compile_regex(const std::string& pattern, bool ignore_case) {
    re2::RE2::Options opts;
    opts.set_case_sensitive(!ignore_case);
    opts.set_never_capture(true);
    opts.set_log_errors(false);
    opts.set_max_mem(k_max_regex_mem);
    return std::make_shared<const re2::RE2>(pattern, opts);
}

const std::vector<Builtin>& builtins() {
    static const std::vector<Builtin> k_builtins = compile_all();
    return k_builtins;
}

namespace {

/// A line that starts with the mark an agent CLI puts before its own words (Claude's ●, Codex's
/// •, Gemini's ✦): the agent's prose or tool call, never the CLI's own error.
bool agent_prose(std::string_view lower) {
    static constexpr std::string_view k_bullets[] = {"\xE2\x97\x8F", "\xE2\x80\xA2",
                                                     "\xE2\x9C\xA6"};
    std::size_t start = lower.find_first_not_of(' ');
    if (start == std::string_view::npos) {
        return false;
    }
    return std::any_of(std::begin(k_bullets), std::end(k_bullets),
                       [&](std::string_view b) { return lower.substr(start).starts_with(b); });
}

} // namespace

bool matches(const Builtin& b, std::string_view lower) {
    if (!b.literal.empty() && lower.find(b.literal) == std::string_view::npos) {
        return false;
    }
    if ((b.condition == Condition::usage_limited || b.condition == Condition::auth_failed) &&
        agent_prose(lower)) {
        return false;
    }
    if (b.test) {
        return b.test(lower);
    }
    for (std::string_view u : b.unless) {
        if (lower.find(u) != std::string_view::npos) {
            return false;
        }
    }
    return !b.regex ||
           re2::RE2::PartialMatch(re2::StringPiece(lower.data(), lower.size()), *b.regex);
}

} // namespace gt::screen::detail
