#pragma once

#include "util/result.hpp"
#include "util/time.hpp"
#include "util/timezone.hpp"

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gt::screen {

/// What an agent is doing, as its screen (and its pane) shows it (design §16).
enum class Condition {
    working,         ///< producing output, or showing that it works ("esc to interrupt")
    idle,            ///< at its prompt
    waiting_input,   ///< a permission or question prompt waits for a person
    startup_blocked, ///< a trust, sign-in, onboarding or update prompt
    auth_failed,     ///< 401, "/login", an invalid or expired key or token
    usage_limited,   ///< a usage limit; `resets_at` when the screen says when it resets
    offline,         ///< cannot reach its service
    exited,          ///< the pane's process ended
    unknown,         ///< nothing recognised: neither healthy nor dead
};

/// "working", "idle", "waiting_input", "startup_blocked", "auth_failed", "usage_limited",
/// "offline", "exited", "unknown".
const char* condition_name(Condition c);
/// The inverse of condition_name(); nullopt for anything else.
std::optional<Condition> parse_condition(std::string_view text);

/// Which agent CLI draws the screen: selects the built-in patterns.
enum class AgentKind { generic, claude, codex, gemini };

/// "generic", "claude", "codex", "gemini".
const char* kind_name(AgentKind k);
std::optional<AgentKind> parse_kind(std::string_view text);

/// The kind of agent a command runs: the first word (skipping `env`, `VAR=value` words, options,
/// `npx`, `node`, `bunx`, `exec`) whose file name is `claude`, `codex` or `gemini` (also as a
/// package: `@openai/codex`, `@google/gemini-cli`, `@anthropic-ai/claude-code`); generic
/// otherwise.
AgentKind kind_of_command(const std::vector<std::string>& argv);

/// The text in an agent's input line as the visible screen `lines` shows it with the cursor at
/// cell `x` of line `y` (design §19.3): the cursor's line (and, inside an input box drawn
/// between two rules, the lines above it up to the box's top), the prompt mark and box borders
/// taken off, blanks squeezed, the placeholder text agents show in an empty box (Codex's `Ask
/// Codex to do anything`, Claude Code's `Resend your message to try again` and `Try "…"`, Gemini
/// CLI's `Type your message or @path/to/file`) taken as empty. "" when the line is empty.
std::string typed_text(const std::vector<std::string>& lines, int x, int y);

/// True when line `y` is an option of a numbered menu (`❯ 1. Stop and wait for limit to reset`).
bool menu_open(const std::vector<std::string>& lines, int y);

/// True when `typed` (typed_text()) is `text` and nothing else, blanks squeezed.
bool holds_only(const std::string& typed, const std::string& text);

/// A pattern added by the town (town.json `screens.patterns`).
struct UserPattern {
    std::optional<AgentKind> kind;            ///< nullopt: agents of every kind
    Condition condition = Condition::unknown; ///< not `exited` (a pane's death says that)
    std::string match; ///< RE2 regular expression, case-insensitive, matched per line
};

/// What a screen says.
struct Reading {
    Condition condition = Condition::unknown;
    /// The line that says so, trimmed of blanks and box-drawing borders, at most 200 bytes of
    /// valid UTF-8 ("" for unknown).
    std::string evidence;
    /// usage_limited (or exited with cause usage_limited): when the limit resets, when the
    /// screen states it.
    std::optional<util::TimePoint> resets_at;
    /// exited: what the last lines say the agent died of (offline, auth_failed, usage_limited,
    /// …), `unknown` when nothing was recognised (the evidence is then the last meaningful line).
    Condition cause = Condition::unknown;
    bool operator==(const Reading&) const = default;
};

/// Finds a time zone by IANA name (cached by the caller; nullopt when unknown).
using ZoneLookup = std::function<std::optional<util::TimeZone>(std::string_view name)>;

/// What reading a screen needs besides the text: the time it was captured, the zone of times
/// that name none, and how to find a named zone.
struct ReadContext {
    util::TimePoint now{};
    util::TimeZone local = util::TimeZone::utc();
    ZoneLookup zones; ///< empty: no IANA name is known (see parse_reset_time for the others)
};

/// The first reset time stated in `text` ("resets 3pm", "resets 9:57pm (UTC)", "resets 5pm
/// (America/Los_Angeles)", "resets Nov 26, 7:58pm (UTC)", "resets 3pm tomorrow", "resets at 9am
/// on Nov 27 (PST)", "try again at 6:44 PM", "try again after 14:00 tomorrow", "try again in 2
/// days 17 hours", "resets in 4h 12m", "tomorrow at 9am", …). The date may come before or after
/// the time; a time of day without one is its next occurrence after `ctx.now`; a relative time
/// counts from `ctx.now`. The zone is the one named after the time or its date, else
/// `ctx.local`: anything in parentheses, an IANA Area/City (through `ctx.zones`), UTC, GMT, Z,
/// UTC±N or ±HH:MM up to ±14:00, or in upper case one of PST PDT MST MDT CST CDT EST EDT AKST
/// AKDT HST CET CEST EET EEST WET WEST BST JST KST AEST AEDT NZST NZDT (fixed offsets). nullopt
/// when the text states no time, when the first time stated names a zone that cannot be
/// resolved (unknown, ambiguous such as IST, AST or PT, beyond ±14:00: no time is better than
/// one hours off), or when that time is more than 8 days after `ctx.now`; a time in the past is
/// returned as it is.
std::optional<util::TimePoint> parse_reset_time(std::string_view text, const ReadContext& ctx);

/// The compiled patterns: built-in ones per kind (design §16) and the town's own, which are
/// tried first and win over the built-in ones. Immutable once made; safe to share between
/// threads.
class Matcher {
public:
    /// Compiles `user` (an invalid expression, or a pattern for `exited`, is an error naming the
    /// pattern by index); `builtin` false leaves only the town's patterns.
    static util::Result<Matcher> make(const std::vector<UserPattern>& user, bool builtin = true);

    /// Reads the screen of a live pane (`screen`: `capture-pane -p` text, any size; only its
    /// last 200 lines are read, each at most 1,024 bytes). Every condition the screen shows, most
    /// telling first: a user pattern's, then working, usage_limited, auth_failed,
    /// startup_blocked, waiting_input, offline, idle; empty when nothing matches (unknown).
    /// Kind `generic` uses the built-in patterns of every kind.
    std::vector<Reading> read_live(std::string_view screen, AgentKind kind,
                                   const ReadContext& ctx) const;

    /// Reads the last screen of a dead pane: condition `exited`, the `cause` its last lines show
    /// (usage_limited with its reset time, auth_failed, offline, startup_blocked, …; never
    /// working or idle), and as evidence the line that shows it, else the last meaningful line
    /// (not blank, not tmux's "Pane is dead" line, not a border or rule).
    Reading read_dead(std::string_view screen, AgentKind kind, const ReadContext& ctx) const;

    struct Compiled; ///< screen.cpp

private:
    explicit Matcher(std::shared_ptr<const Compiled> c) : m_c(std::move(c)) {}
    std::shared_ptr<const Compiled> m_c;
};

} // namespace gt::screen
