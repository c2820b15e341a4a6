// The quoting of the pane-died hook, proved through a model of tmux's parser and format
// expansion followed by a real /bin/sh.
#include "tmux/hostile_values.hpp"
#include "tmux/tmux.hpp"

#include <algorithm>
#include <functional>
#include <gtest/gtest-spi.h>
#include <gtest/gtest.h>
#include <map>
#include <string>
#include <vector>

using namespace gt;
using namespace gt::tmux;
using namespace std::chrono_literals;
using gt::test::k_hostile;

namespace {

using Argv = std::vector<std::string>;

// --- A model of what happens to a pane-died hook after set-hook (tmux 3.3). ---

/// tmux's escapes inside double quotes and bare words (cmd-parse.y, yylex_token_escape).
char tmux_escape(char c) {
    switch (c) {
    case 'a':
        return '\a';
    case 'b':
        return '\b';
    case 'e':
        return '\033';
    case 'f':
        return '\f';
    case 's':
        return ' ';
    case 'v':
        return '\v';
    case 'r':
        return '\r';
    case 'n':
        return '\n';
    case 't':
        return '\t';
    default:
        if ((c >= '0' && c <= '7') || c == 'u' || c == 'U') {
            ADD_FAILURE() << "unexpected octal or unicode escape \\" << c;
        }
        return c;
    }
}

/// Splits one tmux command line into its words the way tmux's parser does for the forms
/// run_shell_hook may produce: bare words, "double quoted" (backslash escapes) and 'single
/// quoted'. Whatever tmux would expand or treat as syntax instead of text (`$`, `~`, a `#`
/// comment, `;`, `{`) fails the test: a correct hook leaves tmux nothing to interpret.
std::vector<std::string> tmux_words(const std::string& line) {
    std::vector<std::string> words;
    std::size_t i = 0;
    auto at_end = [&] { return i >= line.size(); };
    while (!at_end()) {
        if (line[i] == ' ' || line[i] == '\t') {
            ++i;
            continue;
        }
        std::string word;
        bool started = false;
        while (!at_end() && line[i] != ' ' && line[i] != '\t') {
            char c = line[i++];
            if (c == '"') {
                started = true;
                for (;;) {
                    if (at_end()) {
                        ADD_FAILURE() << "unterminated double quote in " << line;
                        return words;
                    }
                    char d = line[i++];
                    if (d == '"') {
                        break;
                    }
                    if (d == '\\') {
                        if (at_end()) {
                            ADD_FAILURE() << "trailing backslash in " << line;
                            return words;
                        }
                        word += tmux_escape(line[i++]);
                    } else if (d == '$') {
                        ADD_FAILURE() << "tmux would expand the variable at " << line.substr(i - 1);
                    } else if (d == '\n') {
                        ADD_FAILURE() << "a newline inside double quotes in " << line;
                    } else {
                        word += d;
                    }
                }
            } else if (c == '\'') {
                started = true;
                auto close = line.find('\'', i);
                if (close == std::string::npos) {
                    ADD_FAILURE() << "unterminated single quote in " << line;
                    return words;
                }
                word += line.substr(i, close - i);
                i = close + 1;
            } else if (c == '\\') {
                started = true;
                if (!at_end()) {
                    word += tmux_escape(line[i++]);
                }
            } else if (c == '$' || c == ';' || c == '{' || c == '}' || c == '\n' ||
                       (c == '#' && !started) || (c == '~' && !started)) {
                ADD_FAILURE() << "tmux would interpret '" << c << "' in " << line;
                started = true;
            } else {
                started = true;
                word += c;
            }
        }
        words.push_back(word);
    }
    return words;
}

/// tmux's format expansion of run-shell's command: `##` is `#`, `#{name}` is `values[name]`.
/// Any other `#` sequence would be an alias, a `#(command)` or a conditional to tmux: a correct
/// hook has none, so it fails the test.
std::string expand_formats(const std::string& text,
                           const std::map<std::string, std::string>& values) {
    std::string out;
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] != '#') {
            out += text[i];
            continue;
        }
        if (i + 1 < text.size() && text[i + 1] == '#') {
            out += '#';
            ++i;
            continue;
        }
        if (i + 1 < text.size() && text[i + 1] == '{') {
            auto close = text.find('}', i);
            std::string name = close == std::string::npos ? "" : text.substr(i + 2, close - i - 2);
            auto it = values.find(name);
            if (it == values.end()) {
                ADD_FAILURE() << "tmux would expand an unexpected format at " << text.substr(i);
                return out;
            }
            out += it->second;
            i = close;
            continue;
        }
        ADD_FAILURE() << "tmux would interpret '#' at " << text.substr(i);
        out += '#';
    }
    return out;
}

/// Runs `command` with `/bin/sh -c`, as tmux's run-shell does; returns its stdout.
std::string run_sh(const std::string& command) {
    proc::RealProcessRunner runner;
    auto r = runner.run({{"/bin/sh", "-c", command}, 10s});
    EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error());
    if (!r.ok()) {
        return "";
    }
    EXPECT_TRUE(r->success()) << r->describe() << ": " << r->err;
    return r->out;
}

/// A town path that every layer would mangle if it were not quoted for it: the shell's quotes,
/// `$`, command substitutions; tmux's `"`, `\`, `$`, formats, `#(…)` and separators.
const std::string k_hostile_town = "/tmp/gt town/it's $(id) `id` \"dq\" $HOME #1 ##2 #{pane_pid} "
                                   "#(id) #S a;b \\n back\\slash ~ {x} '' ;";

/// The hook's arguments as Recovery's pane-died hook passes them, with the gt binary replaced
/// by `printf '%s\n'` (one argument per line), a hostile town path, and every hostile value.
std::vector<HookArg> printf_hook_args() {
    std::vector<HookArg> args{{"printf"},      {"%s\\n"},
                              {"--town"},      {k_hostile_town},
                              {"daemon"},      {"notify"},
                              {"--agent"},     {"r1/witness"},
                              {"--exit-code"}, {"#{pane_dead_status}", true},
                              {"--signal"},    {"#{pane_dead_signal}", true},
                              {"--pane-pid"},  {"#{pane_pid}", true}};
    for (const auto& h : k_hostile) {
        args.push_back({h});
    }
    return args;
}

using HookBuilder = std::string (*)(const std::vector<HookArg>&);

/// Builds the hook for printf_hook_args() with `build`, lets the models of tmux's parser and
/// format expansion and a real /bin/sh run it, and expects printf to receive exactly the
/// arguments given (the formats filled in), both for a pane that exited and one killed.
void expect_delivered_intact(HookBuilder build) {
    std::string hook = build(printf_hook_args());
    auto words = tmux_words(hook);
    ASSERT_EQ(words.size(), 3u) << hook;
    EXPECT_EQ(words[0], "run-shell");
    EXPECT_EQ(words[1], "-b");
    for (const auto& [status, signal] :
         std::vector<std::pair<std::string, std::string>>{{"7", ""}, {"", "9"}}) {
        std::string command = expand_formats(
            words[2],
            {{"pane_dead_status", status}, {"pane_dead_signal", signal}, {"pane_pid", "4242"}});
        std::string expected;
        for (const std::string& arg :
             {std::string("--town"), k_hostile_town, std::string("daemon"), std::string("notify"),
              std::string("--agent"), std::string("r1/witness"), std::string("--exit-code"), status,
              std::string("--signal"), signal, std::string("--pane-pid"), std::string("4242")}) {
            expected += arg + "\n";
        }
        for (const auto& h : k_hostile) {
            expected += h + "\n";
        }
        EXPECT_EQ(run_sh(command), expected) << hook;
    }
}

/// How many test failures expect_delivered_intact(build) reports (without failing this test).
int failures_of(HookBuilder build) {
    ::testing::TestPartResultArray results;
    {
        ::testing::ScopedFakeTestPartResultReporter reporter(
            ::testing::ScopedFakeTestPartResultReporter::INTERCEPT_ONLY_CURRENT_THREAD, &results);
        expect_delivered_intact(build);
    }
    return results.size();
}

/// run_shell_hook's two layers, each switchable off, to prove the check notices each mistake.
struct Quoting {
    bool shell_quote_escape = true; ///< `'` → `'\''` inside the single quotes
    bool hash_doubling = true;      ///< `#` → `##` in literal text
    bool tmux_escape_backslash = true;
    bool tmux_escape_quote = true;
    bool tmux_escape_dollar = true;
    bool tmux_double_quotes = true; ///< the whole wrapped in "…" for tmux
};

std::string hook_with(const Quoting& q, const std::vector<HookArg>& args) {
    std::string sh;
    for (const auto& a : args) {
        sh += sh.empty() ? "'" : " '";
        for (char c : a.text) {
            if (c == '\'' && q.shell_quote_escape) {
                sh += "'\\''";
            } else if (c == '#' && !a.format && q.hash_doubling) {
                sh += "##";
            } else {
                sh += c;
            }
        }
        sh += '\'';
    }
    std::string out;
    for (char c : sh) {
        if ((c == '\\' && q.tmux_escape_backslash) || (c == '"' && q.tmux_escape_quote) ||
            (c == '$' && q.tmux_escape_dollar)) {
            out += '\\';
        }
        out += c;
    }
    return q.tmux_double_quotes ? "run-shell -b \"" + out + "\"" : "run-shell -b " + out;
}

std::string hook_as_intended(const std::vector<HookArg>& args) {
    return hook_with({}, args);
}
std::string hook_without_shell_quote_escape(const std::vector<HookArg>& args) {
    return hook_with({.shell_quote_escape = false}, args);
}
std::string hook_without_hash_doubling(const std::vector<HookArg>& args) {
    return hook_with({.hash_doubling = false}, args);
}
std::string hook_without_backslash_escape(const std::vector<HookArg>& args) {
    return hook_with({.tmux_escape_backslash = false}, args);
}
std::string hook_without_quote_escape(const std::vector<HookArg>& args) {
    return hook_with({.tmux_escape_quote = false}, args);
}
std::string hook_without_dollar_escape(const std::vector<HookArg>& args) {
    return hook_with({.tmux_escape_dollar = false}, args);
}
std::string hook_without_tmux_quotes(const std::vector<HookArg>& args) {
    return hook_with({.tmux_double_quotes = false}, args);
}
/// Double quotes for the shell (with `"`, `\` escaped): `$(id)` and backquotes would run.
std::string hook_with_shell_double_quotes(const std::vector<HookArg>& args) {
    std::string sh;
    for (const auto& a : args) {
        sh += sh.empty() ? "\"" : " \"";
        for (char c : a.text) {
            if (c == '"' || c == '\\') {
                sh += '\\';
            }
            sh += (c == '#' && !a.format) ? std::string("##") : std::string(1, c);
        }
        sh += '"';
    }
    std::string out;
    for (char c : sh) {
        if (c == '\\' || c == '"' || c == '$') {
            out += '\\';
        }
        out += c;
    }
    return "run-shell -b \"" + out + "\"";
}

} // namespace

TEST(TmuxHook, QuotingSurvivesTmuxFormatsAndTheShell) {
    expect_delivered_intact(&run_shell_hook);
}

TEST(TmuxHook, TheExactHookForSimpleArguments) {
    EXPECT_EQ(run_shell_hook({{"/usr/bin/gt"}, {"--exit-code"}, {"#{pane_dead_status}", true}}),
              "run-shell -b \"'/usr/bin/gt' '--exit-code' '#{pane_dead_status}'\"");
    EXPECT_EQ(run_shell_hook({{"it's"}, {"#1"}, {"$x"}, {"\"\\"}}),
              "run-shell -b \"'it'\\\\''s' '##1' '\\$x' '\\\"\\\\'\"");
}

TEST(TmuxHook, TheCheckFailsForEveryQuotingMistake) {
    // The check is only as good as its models: the intended quoting passes it, and each
    // mistake a change to run_shell_hook could make fails it.
    EXPECT_EQ(failures_of(&hook_as_intended), 0);
    EXPECT_EQ(hook_as_intended(printf_hook_args()), run_shell_hook(printf_hook_args()));
    for (auto [name, broken] : std::vector<std::pair<const char*, HookBuilder>>{
             {"no '\\'' for the shell", &hook_without_shell_quote_escape},
             {"no ## for tmux formats", &hook_without_hash_doubling},
             {"no \\\\ for tmux", &hook_without_backslash_escape},
             {"no \\\" for tmux", &hook_without_quote_escape},
             {"no \\$ for tmux", &hook_without_dollar_escape},
             {"no double quotes for tmux", &hook_without_tmux_quotes},
             {"double quotes for the shell", &hook_with_shell_double_quotes}}) {
        EXPECT_GT(failures_of(broken), 0) << name;
    }
}
