// The tmux argv TmuxClient builds (checked on a recording fake runner) and how it classifies
// tmux's replies.
#include "fakes/recording_runner.hpp"
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
using gt::test::failed_reply;
using gt::test::k_hostile;
using gt::test::ok_reply;
using gt::test::RecordingRunner;
using gt::test::timed_out_reply;

namespace {

using Argv = std::vector<std::string>;

/// The argv of a `new-session` for `spec`, up to (not including) the separator before
/// set-option, as TmuxClient must build it: `args` follow `--`, already escaped.
Argv new_session_head(const std::string& socket, const SessionSpec& spec, const Argv& env_args,
                      const Argv& command_args) {
    Argv argv{"tmux"};
    if (!socket.empty()) {
        argv.insert(argv.end(), {"-L", socket});
    }
    argv.insert(argv.end(), {"new-session", "-d", "-s", spec.name, "-c", spec.cwd});
    argv.insert(argv.end(), env_args.begin(), env_args.end());
    argv.push_back("--");
    argv.insert(argv.end(), command_args.begin(), command_args.end());
    return argv;
}

/// The tail every new-session carries: remain-on-exit in the same tmux invocation.
Argv remain_on_exit_tail(const std::string& session) {
    return {";", "set-option", "-w", "-t", "=" + session + ":", "remain-on-exit", "on"};
}

Argv concat(Argv a, const Argv& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
}

SessionSpec basic_spec() {
    SessionSpec spec;
    spec.name = "gt-r1-witness";
    spec.cwd = "/town/r1/witness";
    spec.env = {{"GT_ROLE", "witness"}, {"GT_RIG", "r1"}};
    spec.command = {"claude", "--resume"};
    return spec;
}

/// The one call the runner recorded; fails the test when there is not exactly one.
proc::RunOptions only_call(const RecordingRunner& runner) {
    auto calls = runner.calls();
    EXPECT_EQ(calls.size(), 1u);
    return calls.empty() ? proc::RunOptions{} : calls[0];
}

} // namespace

TEST(TmuxClient, NewSessionIsOneTmuxCallWithSocketEnvCommandRemainOnExitAndHook) {
    RecordingRunner runner;
    TmuxClient client(runner, "gt-sock", 3s);
    SessionSpec spec = basic_spec();
    spec.pane_died_hook = "run-shell -b \"'gt' 'daemon' 'notify'\"";
    ASSERT_TRUE(client.new_session(spec).ok());
    auto call = only_call(runner);
    Argv expected = new_session_head("gt-sock", spec, {"-e", "GT_ROLE=witness", "-e", "GT_RIG=r1"},
                                     {"claude", "--resume"});
    expected = concat(expected, remain_on_exit_tail("gt-r1-witness"));
    expected = concat(expected, {";", "set-hook", "-t", "=gt-r1-witness:", "pane-died",
                                 "run-shell -b \"'gt' 'daemon' 'notify'\""});
    EXPECT_EQ(call.argv, expected);
    EXPECT_EQ(call.timeout, 3s);
    EXPECT_EQ(runner.count("new-session"), 1u);
}

TEST(TmuxClient, WithoutASocketThereIsNoDashL) {
    RecordingRunner runner;
    TmuxClient client(runner, "", 1s);
    SessionSpec spec = basic_spec();
    ASSERT_TRUE(client.new_session(spec).ok());
    ASSERT_TRUE(client.kill_session("gt-x").ok());
    ASSERT_EQ(client.send_keys({"gt-x"}, {"-l", "--", "hello"}).size(), 1u);
    ASSERT_TRUE(client.snapshot().ok());
    auto argvs = runner.argvs();
    ASSERT_EQ(argvs.size(), 4u);
    EXPECT_EQ(argvs[0],
              concat(new_session_head("", spec, {"-e", "GT_ROLE=witness", "-e", "GT_RIG=r1"},
                                      {"claude", "--resume"}),
                     remain_on_exit_tail("gt-r1-witness")));
    EXPECT_EQ(argvs[1], (Argv{"tmux", "kill-session", "-t", "=gt-x"}));
    for (const auto& argv : argvs) {
        ASSERT_GE(argv.size(), 2u);
        EXPECT_EQ(argv[0], "tmux");
        EXPECT_NE(argv[1], "-L");
        EXPECT_EQ(std::count(argv.begin(), argv.end(), "-L"), 0) << argv[1];
    }
}

TEST(TmuxClient, EverySubcommandGetsTheSocketAndTheTimeout) {
    RecordingRunner runner;
    TmuxClient client(runner, "my sock", 1234ms);
    ASSERT_TRUE(client.new_session(basic_spec()).ok());
    ASSERT_TRUE(client.kill_session("gt-x").ok());
    ASSERT_EQ(client.send_keys({"gt-x"}, {"-l", "--", "hello"}).size(), 1u);
    ASSERT_TRUE(client.snapshot().ok());
    ASSERT_TRUE(client.run({"has-session", "-t", "=gt-x"}).ok());
    auto calls = runner.calls();
    ASSERT_EQ(calls.size(), 5u);
    for (const auto& c : calls) {
        ASSERT_GE(c.argv.size(), 4u);
        EXPECT_EQ((Argv{c.argv.begin(), c.argv.begin() + 3}), (Argv{"tmux", "-L", "my sock"}));
        EXPECT_EQ(c.timeout, 1234ms) << c.argv[3];
        EXPECT_FALSE(c.env.has_value()) << c.argv[3];
        EXPECT_EQ(c.cwd, "") << c.argv[3];
    }
    EXPECT_EQ(runner.count("new-session"), 1u);
    EXPECT_EQ(runner.count("kill-session"), 1u);
    EXPECT_EQ(runner.count("send-keys"), 1u);
    EXPECT_EQ(runner.count("list-panes"), 1u);
    EXPECT_EQ(runner.count("has-session"), 1u);
}

TEST(TmuxClient, TargetsAreExactNames) {
    RecordingRunner runner;
    TmuxClient client(runner, "s", 1s);
    ASSERT_TRUE(client.kill_session("gt-r1-witness").ok());
    ASSERT_EQ(client.send_keys({"gt-r1-witness"}, {"-l", "--", "gt prime"}).size(), 1u);
    SessionSpec spec = basic_spec();
    spec.pane_died_hook = "run-shell -b \"'x'\"";
    ASSERT_TRUE(client.new_session(spec).ok());
    EXPECT_EQ(runner.calls_of("kill-session").at(0).argv,
              (Argv{"tmux", "-L", "s", "kill-session", "-t", "=gt-r1-witness"}));
    EXPECT_EQ(
        runner.calls_of("send-keys").at(0).argv,
        (Argv{"tmux", "-L", "s", "send-keys", "-t", "=gt-r1-witness:", "-l", "--", "gt prime"}));
    // Every -t in new-session's command list names the session exactly.
    auto argv = runner.calls_of("new-session").at(0).argv;
    int targets = 0;
    for (std::size_t i = 0; i + 1 < argv.size(); ++i) {
        if (argv[i] == "-t") {
            EXPECT_EQ(argv[i + 1], "=gt-r1-witness:");
            ++targets;
        }
    }
    EXPECT_EQ(targets, 2); // set-option and set-hook
    EXPECT_EQ(exact("a"), "=a");
    EXPECT_EQ(exact_window("a"), "=a:");
}

TEST(TmuxClient, RemainOnExitAndTheHookAreSetInTheSameInvocationAsNewSession) {
    RecordingRunner runner;
    TmuxClient client(runner, "s", 1s);
    SessionSpec spec = basic_spec();
    spec.pane_died_hook = tmux::run_shell_hook({{"/usr/bin/gt"}, {"daemon"}, {"notify"}});
    ASSERT_TRUE(client.new_session(spec).ok());
    ASSERT_EQ(runner.calls().size(), 1u); // nothing else: no window between the commands
    auto argv = runner.calls()[0].argv;
    auto hook_at = std::find(argv.begin(), argv.end(), "set-hook");
    auto remain_at = std::find(argv.begin(), argv.end(), "set-option");
    ASSERT_NE(remain_at, argv.end());
    ASSERT_NE(hook_at, argv.end());
    EXPECT_EQ(*(remain_at - 1), ";");
    EXPECT_EQ(*(hook_at - 1), ";");
    EXPECT_EQ((Argv{hook_at, argv.end()}),
              (Argv{"set-hook", "-t", "=gt-r1-witness:", "pane-died", spec.pane_died_hook}));
    EXPECT_EQ(spec.pane_died_hook, "run-shell -b \"'/usr/bin/gt' 'daemon' 'notify'\"");
}

TEST(TmuxClient, NoHookMeansNoSetHook) {
    RecordingRunner runner;
    TmuxClient client(runner, "s", 1s);
    ASSERT_TRUE(client.new_session(basic_spec()).ok());
    auto argv = only_call(runner).argv;
    EXPECT_EQ(std::count(argv.begin(), argv.end(), "set-hook"), 0);
    EXPECT_EQ(Argv(argv.end() - 7, argv.end()), remain_on_exit_tail("gt-r1-witness"));
}

TEST(TmuxClient, OneWordCommandRunsThroughEnvSoNoShellParsesIt) {
    RecordingRunner runner;
    TmuxClient client(runner, "s", 1s);
    for (const std::string word : {"claude", "my agent; rm -rf ~", "$(id)", "a'b\"c"}) {
        runner.clear_calls();
        SessionSpec spec = basic_spec();
        spec.env.clear();
        spec.command = {word};
        ASSERT_TRUE(client.new_session(spec).ok());
        EXPECT_EQ(only_call(runner).argv,
                  concat(new_session_head("s", spec, {}, {"env", "--", word}),
                         remain_on_exit_tail("gt-r1-witness")))
            << word;
    }
}

TEST(TmuxClient, MultiWordCommandIsPassedAsSeparateArguments) {
    RecordingRunner runner;
    TmuxClient client(runner, "s", 1s);
    SessionSpec spec = basic_spec();
    spec.env.clear();
    spec.command = {"sleep", "1000"};
    ASSERT_TRUE(client.new_session(spec).ok());
    auto argv = only_call(runner).argv;
    EXPECT_EQ(argv, concat(new_session_head("s", spec, {}, {"sleep", "1000"}),
                           remain_on_exit_tail("gt-r1-witness")));
    // Not `env`-wrapped: several arguments are exec'd by tmux directly.
    EXPECT_EQ(std::count(argv.begin(), argv.end(), "env"), 0);
}

TEST(TmuxClient, EveryEnvironmentPairIsOneDashEArgument) {
    RecordingRunner runner;
    TmuxClient client(runner, "s", 1s);
    SessionSpec spec = basic_spec();
    spec.env.clear();
    Argv env_args;
    for (std::size_t i = 0; i < k_hostile.size(); ++i) {
        std::string key = "GT_V" + std::to_string(i);
        spec.env.emplace_back(key, k_hostile[i]);
        env_args.push_back("-e");
        env_args.push_back(escape_argument(key + "=" + k_hostile[i]));
    }
    ASSERT_TRUE(client.new_session(spec).ok());
    auto argv = only_call(runner).argv;
    EXPECT_EQ(argv, concat(new_session_head("s", spec, env_args, {"claude", "--resume"}),
                           remain_on_exit_tail("gt-r1-witness")));
    // One `-e` per pair: the value "-e" travels inside its "GT_V14=-e".
    EXPECT_EQ(static_cast<std::size_t>(std::count(argv.begin(), argv.end(), "-e")),
              k_hostile.size());
}

TEST(TmuxClient, HostileValuesSurviveAsSingleIntactArguments) {
    RecordingRunner runner;
    TmuxClient client(runner, "s", 1s);
    SessionSpec spec;
    spec.name = "gt-r1-witness";
    spec.cwd = "/tmp/it's a \"town\" $HOME $(id) #(id) #{pane_pid};";
    spec.env = {{"GT_TOWN_ROOT", "/tmp/it's a \"town\" $(id) `id` #{pane_pid} ;"}};
    spec.command = {"agent"};
    spec.command.insert(spec.command.end(), k_hostile.begin(), k_hostile.end());
    ASSERT_TRUE(client.new_session(spec).ok());
    auto argv = only_call(runner).argv;
    // Each value is one argument, unchanged but for a trailing `;` (tmux reads `\;` back as `;`).
    Argv command{"agent",           "it's",        "say \"hi\"", "$HOME", "$(id)",  "`id`",
                 "#{session_name}", "#(id)",       "##",         "a;b",   "a b  c", "tab\there",
                 "back\\slash",     "ends in \\;", "\\;",        "-e",    "--",     ""};
    // The start directory is the one argument tmux expands formats in: its `#` are doubled.
    Argv expected{"tmux",
                  "-L",
                  "s",
                  "new-session",
                  "-d",
                  "-s",
                  "gt-r1-witness",
                  "-c",
                  "/tmp/it's a \"town\" $HOME $(id) ##(id) ##{pane_pid}\\;",
                  "-e",
                  "GT_TOWN_ROOT=/tmp/it's a \"town\" $(id) `id` #{pane_pid} \\;",
                  "--"};
    expected = concat(concat(expected, command), remain_on_exit_tail("gt-r1-witness"));
    EXPECT_EQ(argv, expected);
    // The separators that are tmux's own are the only bare `;` arguments.
    EXPECT_EQ(std::count(argv.begin(), argv.end(), ";"), 1);
}

TEST(TmuxClient, EscapeArgumentOnlyTouchesATrailingSemicolon) {
    EXPECT_EQ(escape_argument("a;b"), "a;b");
    EXPECT_EQ(escape_argument("a;"), "a\\;");
    EXPECT_EQ(escape_argument(";"), "\\;");
    EXPECT_EQ(escape_argument(";;"), ";\\;");
    EXPECT_EQ(escape_argument(""), "");
    EXPECT_EQ(escape_argument("it's $(id) #{x}"), "it's $(id) #{x}");
}

TEST(TmuxClient, SendKeysKeepsTheTextOneLiteralArgument) {
    RecordingRunner runner;
    TmuxClient client(runner, "s", 1s);
    for (const auto& text : k_hostile) {
        // `--` first: a text starting with `-` is not taken for a flag.
        runner.clear_calls();
        ASSERT_EQ(client.send_keys({"gt-x"}, {"-l", "--", escape_argument(text)}).size(), 1u);
        EXPECT_EQ(only_call(runner).argv, (Argv{"tmux", "-L", "s", "send-keys", "-t",
                                                "=gt-x:", "-l", "--", escape_argument(text)}))
            << text;
    }
}

TEST(TmuxClient, SendKeysIsOneCallForEverySession) {
    RecordingRunner runner;
    TmuxClient client(runner, "s", 1s);
    auto typed = client.send_keys({"gt-x", "gt-y"}, {"-l", "--", escape_argument("-continue;")});
    EXPECT_EQ(typed, (std::vector<std::string>{"gt-x", "gt-y"}));
    auto calls = runner.calls_of("send-keys");
    ASSERT_EQ(calls.size(), 1u);
    EXPECT_EQ(calls[0].argv,
              (Argv{"tmux", "-L", "s", "send-keys", "-t", "=gt-x:", "-l", "--", "-continue\\;", ";",
                    "send-keys", "-t", "=gt-y:", "-l", "--", "-continue\\;"}));
}

TEST(TmuxClient, SendKeysDropsAVanishedSessionAndReachesTheRest) {
    RecordingRunner runner;
    TmuxClient client(runner, "s", 1s);
    auto names = [](const std::vector<std::string>& argv) {
        return std::count(argv.begin(), argv.end(), "=gt-gone:") > 0;
    };
    runner.on(names, failed_reply(1, "can't find session: =gt-gone\n"));
    auto typed = client.send_keys({"gt-x", "gt-gone", "gt-y"}, {"Enter"});
    EXPECT_EQ(typed, (std::vector<std::string>{"gt-x", "gt-y"}));
    // All at once (fails), then one by one.
    EXPECT_EQ(runner.calls_of("send-keys").size(), 4u);
}

TEST(TmuxClient, CaptureReadsEveryScreenInOneCall) {
    RecordingRunner runner;
    TmuxClient client(runner, "s", 1s);
    // The reply is built from the markers the call asked for.
    runner.on_call("capture-pane", gt::test::capture_answer([](std::size_t i) {
                       return "screen " + std::to_string(i) + "\nlast line\n";
                   }));
    auto screens = client.capture({"gt-a", "gt-b", "gt-c"});
    ASSERT_TRUE(screens.ok()) << screens.error();
    EXPECT_EQ(runner.count("capture-pane"), 1u);
    ASSERT_EQ(screens->size(), 3u);
    EXPECT_EQ(screens->at("gt-a"), "screen 0\nlast line\n");
    EXPECT_EQ(screens->at("gt-c"), "screen 2\nlast line\n");
    auto argv = runner.calls_of("capture-pane").at(0).argv;
    EXPECT_EQ(std::count(argv.begin(), argv.end(), "=gt-b:"), 1);
    EXPECT_EQ(std::count(argv.begin(), argv.end(), "-J"), 3);
}

namespace {

/// tmux's answer to a batched capture: each target's screen ("screen <target>") and its
/// marker, stopping at `vanished` (an error, as tmux does) or after `cap` screens (the output
/// cut short, the call a success).
gt::test::RecordingRunner::Answer capture_until(const std::string& vanished,
                                                std::size_t cap = 1000) {
    return [=](const std::vector<std::string>& argv) {
        std::string out;
        std::size_t shown = 0;
        for (std::size_t i = 0; i + 2 < argv.size(); ++i) {
            if (argv[i] != "capture-pane") {
                continue;
            }
            std::size_t t = std::find(argv.begin() + i, argv.end(), "-t") - argv.begin();
            std::size_t m =
                std::find(argv.begin() + i, argv.end(), "display-message") - argv.begin();
            const std::string& target = argv.at(t + 1);
            const std::string& marker = argv.at(m + 2);
            if (target == vanished) {
                return failed_reply(1, "can't find pane: " + target + "\n", out);
            }
            if (shown++ == cap) {
                return ok_reply(out + "screen " + target.substr(0, 3)); // cut mid-screen
            }
            out += "screen " + target + "\n" + marker + "\n";
        }
        return ok_reply(out);
    };
}

} // namespace

TEST(TmuxClient, CaptureOfAVanishedSessionSkipsItAndReadsTheRestInOneMoreCall) {
    RecordingRunner runner;
    TmuxClient client(runner, "s", 1s);
    runner.on_call("capture-pane", capture_until("=gt-b:"));
    auto screens = client.capture({"gt-a", "gt-b", "gt-c", "gt-d"});
    ASSERT_TRUE(screens.ok()) << screens.error();
    ASSERT_EQ(screens->size(), 3u);
    EXPECT_EQ(screens->at("gt-a"), "screen =gt-a:\n");
    EXPECT_EQ(screens->at("gt-c"), "screen =gt-c:\n");
    EXPECT_EQ(screens->at("gt-d"), "screen =gt-d:\n");
    EXPECT_EQ(runner.count("capture-pane"), 2u);
    runner.clear_calls();
    runner.on("capture-pane", failed_reply(1, "no server running on /tmp/tmux-0/s\n"), 1);
    EXPECT_FALSE(client.capture({"gt-a"}).ok());
}

TEST(TmuxClient, ADeadPaneIsCapturedWithTheLineTmuxScrolledAway) {
    RecordingRunner runner;
    TmuxClient client(runner, "s", 1s);
    runner.on_call("capture-pane", capture_until(""));
    ASSERT_TRUE(client.capture({"gt-a", "gt-b"}, {"gt-b"}).ok());
    auto argv = runner.calls_of("capture-pane").at(0).argv;
    auto b = std::find(argv.begin(), argv.end(), "=gt-b:");
    auto a = std::find(argv.begin(), argv.end(), "=gt-a:");
    ASSERT_NE(b, argv.end());
    EXPECT_EQ(std::vector<std::string>(b - 4, b),
              (std::vector<std::string>{"-J", "-S", "-1", "-t"}));
    EXPECT_EQ(*(a - 2), "-J"); // a live pane: its screen only
    EXPECT_EQ(std::count(argv.begin(), argv.end(), "-S"), 1);
}

TEST(TmuxClient, CaptureCutAtTheOutputCapGoesOnFromTheScreenItCut) {
    RecordingRunner runner;
    TmuxClient client(runner, "s", 1s);
    runner.on_call("capture-pane", capture_until("", 2)); // two whole screens a call
    std::vector<std::string> sessions;
    for (char c = 'a'; c <= 'g'; ++c) {
        sessions.push_back(std::string("gt-") + c);
    }
    auto screens = client.capture(sessions);
    ASSERT_TRUE(screens.ok()) << screens.error();
    ASSERT_EQ(screens->size(), sessions.size());
    for (const auto& s : sessions) {
        EXPECT_EQ(screens->at(s), "screen =" + s + ":\n");
    }
    EXPECT_EQ(runner.count("capture-pane"), 4u); // 2 + 2 + 2 + 1
}

TEST(TmuxClient, KillSessionOfAGoneSessionOrServerIsSuccess) {
    RecordingRunner runner;
    TmuxClient client(runner, "s", 1s);
    runner.on("kill-session", failed_reply(1, "can't find session: =gt-x\n"), 1);
    EXPECT_TRUE(client.kill_session("gt-x").ok());
    runner.on("kill-session", failed_reply(1, "no server running on /tmp/tmux-0/s\n"), 1);
    EXPECT_TRUE(client.kill_session("gt-x").ok());
    runner.on("kill-session", failed_reply(1, "permission denied\n"), 1);
    auto r = client.kill_session("gt-x");
    EXPECT_FALSE(r.ok());
    EXPECT_EQ(r.error, ErrorKind::other);
    EXPECT_EQ(r.message, "permission denied");
    runner.on("kill-session", timed_out_reply(), 1);
    EXPECT_EQ(client.kill_session("gt-x").error, ErrorKind::timeout);
    EXPECT_EQ(runner.count("kill-session"), 4u);
}

TEST(TmuxClient, RepliesAreClassified) {
    RecordingRunner runner;
    TmuxClient client(runner, "s", 1s);
    struct Case {
        proc::RunResult reply;
        ErrorKind error;
        std::string message;
    };
    proc::RunResult killed;
    killed.signal = 9;
    proc::RunResult silent_failure;
    silent_failure.exit_code = 1;
    for (const auto& c : std::vector<Case>{
             {ok_reply("out\n"), ErrorKind::none, ""},
             {failed_reply(1, "no server running on /tmp/tmux-1000/s\n"), ErrorKind::no_server,
              "no server running on /tmp/tmux-1000/s"},
             {failed_reply(1, "error connecting to /tmp/tmux-1000/s (No such file or directory)\n"),
              ErrorKind::no_server,
              "error connecting to /tmp/tmux-1000/s (No such file or directory)"},
             {failed_reply(1, "can't find session: =gt-x\n"), ErrorKind::session_not_found,
              "can't find session: =gt-x"},
             {failed_reply(1, "can't find window: =gt-x:\n"), ErrorKind::session_not_found,
              "can't find window: =gt-x:"},
             {failed_reply(1, "can't find pane: =gt-x:\n"), ErrorKind::session_not_found,
              "can't find pane: =gt-x:"},
             {failed_reply(1, "duplicate session: gt-x\n\n"), ErrorKind::duplicate_session,
              "duplicate session: gt-x"},
             {failed_reply(1, "unknown option -- z\n"), ErrorKind::other, "unknown option -- z"},
             {silent_failure, ErrorKind::other, "exit 1"},
             {killed, ErrorKind::other, "signal 9"},
             {timed_out_reply(), ErrorKind::timeout, "tmux timed out"},
         }) {
        runner.on("has-session", c.reply, 1);
        auto r = client.run({"has-session", "-t", "=gt-x"});
        EXPECT_EQ(r.error, c.error) << c.message;
        EXPECT_EQ(r.message, c.message);
        EXPECT_EQ(r.ok(), c.error == ErrorKind::none) << c.message;
    }
    runner.fail_to_start(test::tmux_subcommand_is("has-session"), "cannot run tmux: No such file",
                         1);
    auto r = client.run({"has-session"});
    EXPECT_EQ(r.error, ErrorKind::other);
    EXPECT_EQ(r.message, "cannot run tmux: No such file");
}

TEST(TmuxClient, OutputIsKeptEvenWhenTheCallFails) {
    RecordingRunner runner;
    TmuxClient client(runner, "s", 1s);
    auto reply = failed_reply(1, "can't find session: =x\n");
    reply.out = "partial\n";
    runner.on("show-options", reply);
    auto r = client.run({"show-options", "-t", "=x"});
    EXPECT_EQ(r.error, ErrorKind::session_not_found);
    EXPECT_EQ(r.out, "partial\n");
}

TEST(TmuxClient, SnapshotIsOneListPanesCallParsed) {
    RecordingRunner runner;
    TmuxClient client(runner, "s", 1s);
    runner.on("list-panes", ok_reply("gt-deacon\t0\t123\t0\t\t\t1795492487\t42\t/t\tclaude\n"
                                     "gt-r1-witness\t0\t200\t1\t7\t\t1795492480\t42\t/t\tnode\n"));
    auto snap = client.snapshot();
    ASSERT_TRUE(snap.ok()) << snap.error();
    EXPECT_TRUE(snap->tmux_available);
    ASSERT_EQ(snap->sessions.size(), 2u);
    EXPECT_EQ(snap->sessions.at("gt-deacon").pid, 123);
    EXPECT_TRUE(snap->sessions.at("gt-r1-witness").dead);
    EXPECT_EQ(snap->sessions.at("gt-r1-witness").dead_status, 7);
    auto calls = runner.calls_of("list-panes");
    ASSERT_EQ(calls.size(), 1u);
    EXPECT_EQ(calls[0].argv, (Argv{"tmux", "-L", "s", "list-panes", "-a", "-F",
                                   "#{session_name}\t#{pane_index}\t#{pane_pid}\t#{pane_dead}\t"
                                   "#{pane_dead_status}\t#{pane_dead_signal}\t#{window_activity}\t"
                                   "#{pid}\t#{@gt_town}\t#{pane_current_command}"}));
    EXPECT_EQ(snap->server_pid, 42);
}

TEST(TmuxClient, SnapshotWithoutServerIsEmptyAndWithoutTmuxIsUnavailable) {
    RecordingRunner runner;
    TmuxClient client(runner, "s", 1s);
    runner.on("list-panes", failed_reply(1, "no server running on /tmp/tmux-0/s\n"), 1);
    auto none = client.snapshot();
    ASSERT_TRUE(none.ok()) << none.error();
    EXPECT_TRUE(none->tmux_available);
    EXPECT_TRUE(none->sessions.empty());

    runner.fail_to_start(test::tmux_subcommand_is("list-panes"),
                         "cannot run tmux: No such file or directory", 1);
    auto missing = client.snapshot();
    ASSERT_TRUE(missing.ok()) << missing.error();
    EXPECT_FALSE(missing->tmux_available);

    runner.on("list-panes", failed_reply(1, "server exited unexpectedly\n"), 1);
    auto broken = client.snapshot();
    ASSERT_FALSE(broken.ok());
    EXPECT_EQ(broken.error(), "tmux list-panes: server exited unexpectedly");

    runner.on("list-panes", timed_out_reply(), 1);
    auto slow = client.snapshot();
    ASSERT_FALSE(slow.ok());
    EXPECT_EQ(slow.error(), "tmux list-panes: tmux timed out");
}

/// The bytes of a command's arguments after `tmux -L s`, as tmux sends them to its server.
static std::size_t command_bytes(const std::vector<std::string>& argv) {
    std::size_t n = 0;
    for (std::size_t i = 3; i < argv.size(); ++i) {
        n += argv[i].size() + 1;
    }
    return n;
}

TEST(TmuxClient, ACaptureOfManySessionsIsSplitUnderTmuxsCommandSizeLimit) {
    RecordingRunner runner;
    TmuxClient client(runner, "s", 1s);
    runner.on_call("capture-pane", capture_until(""));
    std::vector<std::string> sessions;
    for (int i = 0; i < 1000; ++i) {
        sessions.push_back("gt-rig-with-a-long-name-" + std::to_string(i) + "-witness");
    }
    auto screens = client.capture(sessions);
    ASSERT_TRUE(screens.ok()) << screens.error();
    EXPECT_EQ(screens->size(), sessions.size());
    auto calls = runner.calls_of("capture-pane");
    // tmux refuses a command over 16 KiB: ~120 bytes a session makes ~100 a call.
    EXPECT_GE(calls.size(), 8u);
    EXPECT_LE(calls.size(), 12u);
    for (const auto& c : calls) {
        EXPECT_LE(command_bytes(c.argv), 12u * 1024);
    }
}

TEST(TmuxClient, TypingIntoManySessionsIsSplitUnderTmuxsCommandSizeLimit) {
    RecordingRunner runner;
    TmuxClient client(runner, "s", 1s);
    std::vector<std::string> sessions;
    for (int i = 0; i < 500; ++i) {
        sessions.push_back("gt-rig-with-a-long-name-" + std::to_string(i) + "-witness");
    }
    auto typed = client.send_keys(sessions, {"-l", "--", std::string(200, 'x')});
    EXPECT_EQ(typed, sessions);
    auto calls = runner.calls_of("send-keys");
    EXPECT_GT(calls.size(), 1u);
    std::size_t targets = 0;
    for (const auto& c : calls) {
        EXPECT_LE(command_bytes(c.argv), 12u * 1024);
        targets += std::count(c.argv.begin(), c.argv.end(), "-t");
    }
    EXPECT_EQ(targets, sessions.size()); // each session once
}
