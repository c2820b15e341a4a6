// The pane-died hook on a real tmux (private `-L` server): the session TmuxClient::new_session
// makes carries a run_shell_hook, and when its pane ends tmux runs it through its own parser,
// its format expansion and /bin/sh. A recorder script in a hostile directory writes the argv it
// gets; every argument must arrive intact, the formats filled in, nothing executed.
#include "proc/process.hpp"
#include "support/harness.hpp"
#include "support/temp_dir.hpp"
#include "support/tmux_town.hpp"
#include "tmux/tmux.hpp"
#include "util/file.hpp"

#include <climits>
#include <csignal>
#include <cstdlib>
#include <gtest/gtest.h>
#include <sstream>
#include <string>
#include <sys/stat.h>
#include <vector>

using namespace gt;
using namespace gt::test;
using namespace std::chrono_literals;

namespace {

constexpr const char* k_session = "gt-hook-test";

/// Writes "$0" and then every argument, one per line, and renames the file into place so that
/// a reader never sees half of it.
constexpr const char* k_recorder = R"(#!/bin/sh
dir=$(dirname -- "$0")
{ printf '%s\n' "$0"; printf '%s\n' "$@"; } >"$dir/args.tmp" && mv -- "$dir/args.tmp" "$dir/args.txt"
)";

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> out;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) {
        out.push_back(line);
    }
    return out;
}

std::string real_path(const std::string& path) {
    char buf[PATH_MAX];
    return ::realpath(path.c_str(), buf) ? std::string(buf) : path;
}

/// A town whose path every layer would mangle if it were not quoted for it, a recorder script
/// in a directory whose name holds `'`, `$(id)` and spaces, and a TmuxClient on the town's
/// private tmux server.
class TmuxPaneDiedHook : public ::testing::Test {
protected:
    TmuxPaneDiedHook()
        : town(false, "town 'it' $(id) $HOME ${HOME} \"dq\" \\ #1 #S ##2 #{pane_pid} #(id) a;b ;"),
          client(runner, town.socket(), 5s) {}

    void SetUp() override {
        dir = temp.path() + "/rec 'it' $(id) `id` $HOME \"dq\" dir";
        ASSERT_TRUE(util::make_dirs(dir, 0700).ok());
        recorder = dir + "/record.sh";
        ASSERT_TRUE(util::write_file_atomic(recorder, k_recorder, 0700).ok());
        canary = canaries.path() + "/pwned";
    }

    /// The hook's arguments: Recovery's, with the gt binary replaced by the recorder, and a few
    /// more that would create `canary` if any layer executed them.
    std::vector<tmux::HookArg> hook_args() const {
        return {{recorder},
                {"--town"},
                {town.root()},
                {"daemon"},
                {"notify"},
                {"--agent"},
                {"r1/witness"},
                {"--exit-code"},
                {"#{pane_dead_status}", true},
                {"--signal"},
                {"#{pane_dead_signal}", true},
                {"--pane-pid"},
                {"#{pane_pid}", true},
                {"$(touch " + canary + ")"},
                {"`touch " + canary + "`"},
                {"#(touch " + canary + ")"},
                {"back\\slash \\n ends;"}};
    }

    /// What the recorder must have written when the pane ended with `status` and `signal`
    /// (tmux leaves the one that does not apply empty).
    std::vector<std::string> expected(const std::string& status, const std::string& signal,
                                      const std::string& pane_pid) const {
        return {recorder,
                "--town",
                town.root(),
                "daemon",
                "notify",
                "--agent",
                "r1/witness",
                "--exit-code",
                status,
                "--signal",
                signal,
                "--pane-pid",
                pane_pid,
                "$(touch " + canary + ")",
                "`touch " + canary + "`",
                "#(touch " + canary + ")",
                "back\\slash \\n ends;"};
    }

    /// Starts the session running `command` in the recorder's directory, with the hook.
    void start(const std::vector<std::string>& command) {
        tmux::SessionSpec spec;
        spec.name = k_session;
        spec.cwd = dir;
        spec.env = {{"GT_TOWN_ROOT", town.root()}};
        spec.command = command;
        spec.pane_died_hook = tmux::run_shell_hook(hook_args());
        auto reply = client.new_session(spec);
        ASSERT_TRUE(reply.ok()) << reply.message;
    }

    /// The recorder's lines once it has run (empty when it did not).
    std::vector<std::string> recorded() const {
        std::string path = dir + "/args.txt";
        auto ready = [&] { return util::path_exists(path); };
        if (!eventually(ready, 5s)) {
            // tmux 3.3a built with libutempter can lose the SIGCHLD of a pane whose pty ended
            // first (libutempter swaps in its own handler while tmux closes the pty); it reaps
            // the pane, and fires the hook, only when its next child exits. Give it one.
            town.tmux({"run-shell", "true"});
            if (!eventually(ready, 10s)) {
                return {};
            }
        }
        return lines_of(slurp(path));
    }

    /// `#{pane_pid} #{pane_dead} #{pane_dead_status} #{pane_dead_signal}` of the session.
    std::string pane_fields() const {
        auto r = town.tmux({"list-panes", "-t", tmux::exact_window(k_session), "-F",
                            "#{pane_pid} #{pane_dead} #{pane_dead_status} #{pane_dead_signal}"});
        return r.success() ? r.out : "list-panes failed: " + r.err;
    }

    TmuxTown town;
    proc::RealProcessRunner runner;
    tmux::TmuxClient client;
    TempDir temp{"gt-hook"};
    TempDir canaries{"gt-hook-canary"};
    std::string dir;
    std::string recorder;
    std::string canary;
};

} // namespace

TEST_F(TmuxPaneDiedHook, AnExitingPaneDeliversEveryArgumentIntactAndItsStatus) {
    // The pane records where it runs, then exits 7 at once: remain-on-exit and the hook are set
    // in the same tmux command as the session, so even this exit is seen.
    start({"sh", "-c", "pwd -P > cwd.txt; exit 7"});
    auto got = recorded();
    ASSERT_FALSE(got.empty()) << "the hook never ran the recorder; pane: " << pane_fields();
    ASSERT_EQ(got.size(), expected("", "", "").size()) << slurp(dir + "/args.txt");
    std::string pane_pid = got[12];
    EXPECT_EQ(got, expected("7", "", pane_pid));
    EXPECT_EQ(pane_fields(), pane_pid + " 1 7 \n");
    EXPECT_GT(std::atol(pane_pid.c_str()), 0) << pane_pid;
    EXPECT_FALSE(util::path_exists(canary)) << "an argument was executed";
    // The session's working directory, with its quotes and `$(id)`, arrived intact as well.
    EXPECT_EQ(slurp(dir + "/cwd.txt"), real_path(dir) + "\n");
}

TEST_F(TmuxPaneDiedHook, AKilledPaneDeliversItsSignal) {
    start({"sleep", "1000"});
    std::string before = pane_fields();
    long pid = std::atol(before.c_str());
    ASSERT_GT(pid, 0) << before;
    ASSERT_EQ(::kill(static_cast<pid_t>(pid), SIGKILL), 0);
    auto got = recorded();
    ASSERT_FALSE(got.empty()) << "the hook never ran the recorder; pane: " << pane_fields();
    EXPECT_EQ(got, expected("", "9", std::to_string(pid)));
    EXPECT_FALSE(util::path_exists(canary)) << "an argument was executed";
}
