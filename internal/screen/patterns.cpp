#include "patterns.hpp"

#include <iterator>

namespace gt::screen::detail {

namespace {

constexpr unsigned k_claude = 1;
constexpr unsigned k_codex = 2;
constexpr unsigned k_gemini = 4;
constexpr unsigned k_all = 7;

using C = Condition;

// One row of the table: the regex (on the lowered line) runs only when the literal is present,
// so most lines cost a handful of substring searches.
struct Spec {
    unsigned kinds;
    Condition condition;
    const char* literal;
    const char* regex = nullptr;
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

// Most telling first within a condition does not matter: every row of a condition is tried.
// Wording is matched by meaning, with context where a bare word would catch an agent's own
// prose or code (a "401" must follow "status"/"error"; "unauthorized" must follow "error:").
const Spec k_specs[] = {
    // working
    {k_all, C::working, "esc to interrupt"},
    {k_codex, C::working, "working (", R"(^\W*working \(\d)"},
    {k_gemini, C::working, "(esc to cancel, ", R"(\(esc to cancel, \d)"},
    {k_claude, C::working, "\xE2\x80\xA6 (", "^\\W*[a-z]+\xE2\x80\xA6 \\(\\d+[smh]"},

    // usage_limited; a warning such as "5h limit: only <1% left" is not one
    {k_all, C::usage_limited, "your ",
     R"(\b(hit|reached|exceeded) your (?!context)([^ ]+ ){0,3}limit)"},
    {k_all, C::usage_limited, "usage limit ", R"(usage limit (reached|exceeded))"},
    {k_all, C::usage_limited, "limit reached",
     R"(limit reached.*\b(resets?|try again)\b|^(?!.*(now using|switching))\W*([^ ]+ ){0,2}(usage|session|weekly|daily|hourly|monthly|\d+-?h(ou)?r?|opus|sonnet|plan|message|request|rate) limit reached)"},
    {k_all, C::usage_limited, "quota exceeded"},
    {k_all, C::usage_limited, "exhausted",
     R"(exhausted (your|the) ([^ ]+ ){0,3}quota|quota (has been |is )?exhausted)"},
    {k_all, C::usage_limited, "resource_exhausted"},
    {k_all, C::usage_limited, "resource has been exhausted"},
    {k_all, C::usage_limited, "rate limit reached for"},
    {k_all, C::usage_limited, "429",
     R"(\b(status|error)[: ]{0,3}(code[: ]{0,3})?429\b|\b429 too many requests|rejected \(429\))"},

    // auth_failed; billing ("credit balance too low") too: only a person can fix either
    {k_all, C::auth_failed, "api",
     R"((invalid|incorrect|expired|revoked|missing) (x-)?api[ _-]?key|api[ _-]?key\b.{0,40}\b(invalid|not valid|expired|revoked|incorrect))"},
    {k_all, C::auth_failed, "/login", R"(\brun /login\b|/login to (sign|log) ?in)"},
    {k_all, C::auth_failed, "401",
     R"(\b(status|error)[: ]{0,3}(code[: ]{0,3})?401\b|rejected \(401\))"},
    {k_all, C::auth_failed, "unauthori", R"(\berror[: ]{1,3}unauthori[sz]ed\b)"},
    {k_all, C::auth_failed, "authenticat",
     R"(authentication (failed|error)(?! for )|authentication_error|failed to authenticate)"},
    {k_all, C::auth_failed, "token",
     R"((oauth|access|auth|refresh|api|session|your) token (has |is )?(expired|been revoked|revoked)|token (could not|couldn't) be refreshed)"},
    {k_all, C::auth_failed, "not logged in", R"(^\W*not logged in\b)"},
    {k_all, C::auth_failed, "in again", R"(please (log|sign) ?in again)"},
    {k_all, C::auth_failed, "failed to login"},
    {k_all, C::auth_failed, "credit balance", R"(credit balance (is )?too low)"},
    {k_all, C::auth_failed, "insufficient", R"(insufficient[_ ](quota|credits?|balance|funds))"},
    {k_all, C::auth_failed, "exceeded your current quota"},
    {k_all, C::auth_failed, "out of credits"},

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
    {k_all, C::idle, "", nullptr, bare_prompt},
};

std::vector<Builtin> compile_all() {
    std::vector<Builtin> out;
    out.reserve(std::size(k_specs));
    for (const Spec& s : k_specs) {
        Builtin b;
        b.kinds = s.kinds;
        b.condition = s.condition;
        b.literal = s.literal;
        b.test = s.test;
        if (s.regex) {
            b.regex.emplace(s.regex, std::regex::ECMAScript | std::regex::nosubs);
        }
        out.push_back(std::move(b));
    }
    return out;
}

} // namespace

const std::vector<Builtin>& builtins() {
    static const std::vector<Builtin> k_builtins = compile_all();
    return k_builtins;
}

bool matches(const Builtin& b, std::string_view lower) {
    if (!b.literal.empty() && lower.find(b.literal) == std::string_view::npos) {
        return false;
    }
    if (b.test) {
        return b.test(lower);
    }
    if (b.regex) {
        try {
            return std::regex_search(lower.begin(), lower.end(), *b.regex);
        } catch (const std::regex_error&) {
            return false; // too complex for this line: not a match
        }
    }
    return true;
}

} // namespace gt::screen::detail
