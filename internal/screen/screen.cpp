#include "screen.hpp"

#include "patterns.hpp"

#include <algorithm>
#include <array>
#include <re2/re2.h>

namespace gt::screen {

namespace {

constexpr std::array k_conditions = {
    std::pair{Condition::working, "working"},
    std::pair{Condition::idle, "idle"},
    std::pair{Condition::waiting_input, "waiting_input"},
    std::pair{Condition::startup_blocked, "startup_blocked"},
    std::pair{Condition::auth_failed, "auth_failed"},
    std::pair{Condition::usage_limited, "usage_limited"},
    std::pair{Condition::offline, "offline"},
    std::pair{Condition::exited, "exited"},
    std::pair{Condition::unknown, "unknown"},
};

constexpr std::array k_kinds = {
    std::pair{AgentKind::generic, "generic"},
    std::pair{AgentKind::claude, "claude"},
    std::pair{AgentKind::codex, "codex"},
    std::pair{AgentKind::gemini, "gemini"},
};

constexpr std::array k_packages = {
    std::pair{std::string_view{"@anthropic-ai/claude-code"}, AgentKind::claude},
    std::pair{std::string_view{"@openai/codex"}, AgentKind::codex},
    std::pair{std::string_view{"@google/gemini-cli"}, AgentKind::gemini},
};

std::string_view base_name(std::string_view word) {
    auto slash = word.rfind('/');
    return slash == std::string_view::npos ? word : word.substr(slash + 1);
}

bool is_assignment(std::string_view word) {
    auto eq = word.find('=');
    if (eq == std::string_view::npos || eq == 0) {
        return false;
    }
    return std::all_of(word.begin(), word.begin() + eq, [](char c) {
        return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
               (c >= '0' && c <= '9');
    });
}

bool is_launcher(std::string_view word) {
    std::string_view name = base_name(word);
    return name == "env" || name == "npx" || name == "node" || name == "bunx" || name == "exec";
}

AgentKind kind_of_word(std::string_view word) {
    for (auto [package, kind] : k_packages) {
        auto at = word.find(package);
        if (at != std::string_view::npos) {
            std::string_view rest = word.substr(at + package.size());
            if (rest.empty() || rest.front() == '@' || rest.front() == '/') {
                return kind;
            }
        }
    }
    std::string_view name = base_name(word);
    if (auto at = name.find('@'); at != std::string_view::npos && at > 0) {
        name = name.substr(0, at); // codex@0.169.0
    }
    for (std::string_view ext : {".js", ".mjs", ".cjs", ".exe"}) {
        if (name.ends_with(ext)) {
            name.remove_suffix(ext.size());
        }
    }
    for (auto [kind, text] : k_kinds) {
        if (kind != AgentKind::generic && name == text) {
            return kind;
        }
    }
    return AgentKind::generic;
}

} // namespace

namespace {

/// The name of `value` in a table of (value, name) pairs, or `fallback`.
template <typename Table, typename E>
const char* name_in(const Table& table, E value, const char* fallback) {
    for (auto [v, name] : table) {
        if (v == value) {
            return name;
        }
    }
    return fallback;
}

/// The value named `text` in a table of (value, name) pairs.
template <typename Table>
auto value_in(const Table& table, std::string_view text)
    -> std::optional<decltype(table[0].first)> {
    for (auto [value, name] : table) {
        if (text == name) {
            return value;
        }
    }
    return std::nullopt;
}

} // namespace

const char* condition_name(Condition c) {
    return name_in(k_conditions, c, "unknown");
}

std::optional<Condition> parse_condition(std::string_view text) {
    return value_in(k_conditions, text);
}

const char* kind_name(AgentKind k) {
    return name_in(k_kinds, k, "generic");
}

std::optional<AgentKind> parse_kind(std::string_view text) {
    return value_in(k_kinds, text);
}

AgentKind kind_of_command(const std::vector<std::string>& argv) {
    for (const std::string& word : argv) {
        if (word.empty() || word.front() == '-' || is_assignment(word) || is_launcher(word)) {
            continue;
        }
        return kind_of_word(word);
    }
    return AgentKind::generic;
}

} // namespace gt::screen

namespace gt::screen {

struct Matcher::Compiled {
    struct User {
        std::optional<AgentKind> kind;
        Condition condition = Condition::unknown;
        std::shared_ptr<const re2::RE2> regex;
    };
    std::vector<User> user;
    bool builtin = true;
};

namespace {

using detail::Line;

constexpr std::size_t k_none = static_cast<std::size_t>(-1);
constexpr std::size_t k_condition_count = k_conditions.size();

constexpr std::array k_live_order = {
    Condition::working,       Condition::usage_limited,
    Condition::auth_failed,   Condition::startup_blocked,
    Condition::waiting_input, Condition::offline,
    Condition::idle,
};

constexpr std::array k_causes = {
    Condition::usage_limited, Condition::auth_failed, Condition::startup_blocked,
    Condition::waiting_input, Condition::offline,
};

std::size_t index_of(Condition c) {
    return static_cast<std::size_t>(c);
}

/// How many non-blank lines may follow a built-in match of a condition other than working or
/// idle: a 401 in test output, a question in a diff or an old banner further up is history,
/// not what the agent faces now (every captured screen has its line within 10 of the bottom).
constexpr std::size_t k_recent_lines = 15;

// The last run of lines that show a condition with only blank lines between them: one
// occurrence, however many lines it was spelled out over; its first line is the headline.
struct Run {
    std::size_t first = k_none;
    std::size_t last = k_none;
    bool found() const { return last != k_none; }
};

struct Scan {
    /// filled[i]: how many of the lines before line i are not blank.
    std::vector<std::size_t> filled;
    std::array<Run, k_condition_count> user;
    std::array<Run, k_condition_count> builtin;
    std::array<std::size_t, k_condition_count> user_order; ///< first user pattern index that hit

    explicit Scan(const std::vector<Line>& lines) {
        user_order.fill(k_none);
        filled.reserve(lines.size() + 1);
        filled.push_back(0);
        for (const Line& line : lines) {
            bool blank = line.text.find_first_not_of(' ') == std::string::npos;
            filled.push_back(filled.back() + (blank ? 0 : 1));
        }
    }

    void extend(Run& run, std::size_t i) const {
        if (run.last == i) {
            return;
        }
        if (run.last == k_none || filled[i] != filled[run.last + 1]) {
            run.first = i;
        }
        run.last = i;
    }

    /// Whether a built-in run of `c` is near enough the bottom to describe the agent now.
    bool recent(Condition c) const {
        const Run& run = builtin[index_of(c)];
        if (!run.found()) {
            return false;
        }
        if (c == Condition::working || c == Condition::idle) {
            return true;
        }
        return filled.back() - filled[run.last + 1] <= k_recent_lines;
    }

    /// Conditions the town's patterns found, in the order of those patterns.
    std::vector<Condition> user_conditions() const {
        std::vector<Condition> out;
        for (std::size_t c = 0; c < k_condition_count; ++c) {
            if (user_order[c] != k_none) {
                out.push_back(static_cast<Condition>(c));
            }
        }
        std::sort(out.begin(), out.end(), [this](Condition a, Condition b) {
            return user_order[index_of(a)] < user_order[index_of(b)];
        });
        return out;
    }
};

bool user_matches(const re2::RE2& re, const std::string& text) {
    return re2::RE2::PartialMatch(re2::StringPiece(text.data(), text.size()), re);
}

void scan_line(const Matcher::Compiled& m, const Line& line, std::size_t i, AgentKind kind,
               Scan& s) {
    for (std::size_t j = 0; j < m.user.size(); ++j) {
        const auto& u = m.user[j];
        if ((!u.kind || *u.kind == kind) && user_matches(*u.regex, line.text)) {
            std::size_t c = index_of(u.condition);
            s.extend(s.user[c], i);
            s.user_order[c] = std::min(s.user_order[c], j);
        }
    }
    if (!m.builtin) {
        return;
    }
    unsigned bits = detail::kind_bits(kind);
    for (const detail::Builtin& b : detail::builtins()) {
        Run& run = s.builtin[index_of(b.condition)];
        if ((b.kinds & bits) != 0 && run.last != i && detail::matches(b, line.lower)) {
            s.extend(run, i);
        }
    }
}

Scan scan(const Matcher::Compiled& m, const std::vector<Line>& lines, AgentKind kind) {
    Scan s(lines);
    for (std::size_t i = 0; i < lines.size(); ++i) {
        scan_line(m, lines[i], i, kind, s);
    }
    return s;
}

// The reset time a limit's lines state: the phrase may be on the line or wrapped onto the next
// two.
std::optional<util::TimePoint> reset_near(const std::vector<Line>& lines, const Run& run,
                                          const ReadContext& ctx) {
    for (std::size_t start : {run.first, run.last}) {
        std::string text;
        for (std::size_t j = start; j < lines.size() && j <= start + 2; ++j) {
            text += lines[j].text;
            text += ' ';
        }
        if (auto t = parse_reset_time(text, ctx)) {
            return t;
        }
    }
    return std::nullopt;
}

Reading reading_of(Condition c, const Run& run, const std::vector<Line>& lines,
                   const ReadContext& ctx) {
    Reading r;
    r.condition = c;
    r.evidence = detail::evidence_of(lines[run.first]);
    if (c == Condition::usage_limited) {
        r.resets_at = reset_near(lines, run, ctx);
    }
    return r;
}

std::string last_meaningful(const std::vector<Line>& lines) {
    for (auto it = lines.rbegin(); it != lines.rend(); ++it) {
        std::string e = detail::trim_evidence(it->text);
        if (!e.empty()) {
            return e;
        }
    }
    return "";
}

} // namespace

util::Result<Matcher> Matcher::make(const std::vector<UserPattern>& user, bool builtin) {
    auto c = std::make_shared<Compiled>();
    c->builtin = builtin;
    for (std::size_t i = 0; i < user.size(); ++i) {
        const UserPattern& p = user[i];
        std::string where = "screens.patterns[" + std::to_string(i) + "]: ";
        if (p.condition == Condition::exited || p.condition == Condition::unknown) {
            return util::err(where + "condition " + condition_name(p.condition) +
                             " cannot be matched on a screen");
        }
        if (p.match.empty()) {
            return util::err(where + "empty match");
        }
        // RE2: matching is linear in the line whatever the town writes, so no pattern can
        // stall a heartbeat the way a backtracking engine does on "(a+)+$".
        auto re = detail::compile_regex(p.match, true);
        if (!re->ok()) {
            return util::err(where + "invalid regular expression '" + p.match + "': " +
                             re->error() + " (RE2 syntax: no backreferences or lookaround)");
        }
        c->user.push_back({p.kind, p.condition, std::move(re)});
    }
    return Matcher(std::move(c));
}

std::vector<Reading> Matcher::read_live(std::string_view screen, AgentKind kind,
                                        const ReadContext& ctx) const {
    std::vector<Line> lines = detail::tail_lines(screen);
    Scan s = scan(*m_c, lines, kind);
    std::vector<Reading> out;
    std::array<bool, k_condition_count> done{};
    for (Condition c : s.user_conditions()) {
        out.push_back(reading_of(c, s.user[index_of(c)], lines, ctx));
        done[index_of(c)] = true;
    }
    for (Condition c : k_live_order) {
        if (!done[index_of(c)] && s.recent(c)) {
            out.push_back(reading_of(c, s.builtin[index_of(c)], lines, ctx));
        }
    }
    return out;
}

Reading Matcher::read_dead(std::string_view screen, AgentKind kind, const ReadContext& ctx) const {
    std::vector<Line> lines = detail::tail_lines(screen);
    std::erase_if(lines, detail::is_pane_dead_line);
    Scan s = scan(*m_c, lines, kind);
    std::optional<Reading> cause;
    for (Condition c : s.user_conditions()) {
        if (c != Condition::working && c != Condition::idle) {
            cause = reading_of(c, s.user[index_of(c)], lines, ctx);
            break;
        }
    }
    for (std::size_t k = 0; !cause && k < k_causes.size(); ++k) {
        if (s.recent(k_causes[k])) {
            cause = reading_of(k_causes[k], s.builtin[index_of(k_causes[k])], lines, ctx);
        }
    }
    Reading r;
    r.condition = Condition::exited;
    if (cause) {
        r.cause = cause->condition;
        r.evidence = std::move(cause->evidence);
        r.resets_at = cause->resets_at;
    } else {
        r.evidence = last_meaningful(lines);
    }
    return r;
}

} // namespace gt::screen
