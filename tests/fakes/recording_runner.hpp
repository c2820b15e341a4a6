#pragma once

#include "proc/process.hpp"
#include "util/result.hpp"

#include <cstddef>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

namespace gt::test {

/// Decides whether a rule answers a call, from the call's argv.
using ArgvMatcher = std::function<bool(const std::vector<std::string>& argv)>;

/// The first tmux subcommand of `argv`: the element after `tmux` (or a path ending in `/tmux`)
/// and an optional `-L <socket>` or `-S <path>`; for `systemd-run … -- tmux …`, that of the tmux
/// command. "" when argv does not run tmux or names no subcommand.
std::string tmux_subcommand(const std::vector<std::string>& argv);

/// Matches the calls whose first tmux subcommand is `subcommand` (`new-session`, `list-panes`…).
ArgvMatcher tmux_subcommand_is(std::string subcommand);

/// A reply that exits 0 with `out` on stdout.
proc::RunResult ok_reply(std::string out = "");
/// A reply that exits `exit_code` with `err` on stderr (tmux's "can't find session: …") and
/// `out` on stdout (what tmux printed before it stopped).
proc::RunResult failed_reply(int exit_code, std::string err, std::string out = "");
/// A reply for a call killed at its timeout.
proc::RunResult timed_out_reply();

/// A ProcessRunner that runs nothing: it records every call (argv, timeout, env, cwd) in order
/// and answers from a script of rules. The most recently added rule that matches answers; a call
/// no rule matches gets the default reply (exit 0, no output, unless set_default changed it).
/// Thread-safe.
class RecordingRunner final : public proc::ProcessRunner {
public:
    /// Answers the calls `match` accepts with `reply`, at most `times` of them (< 0: all), then
    /// the rule is spent and older rules or the default answer again.
    RecordingRunner& on(ArgvMatcher match, proc::RunResult reply, int times = -1);
    /// Answers the calls whose first tmux subcommand is `subcommand`; see on(ArgvMatcher…).
    RecordingRunner& on(const std::string& subcommand, proc::RunResult reply, int times = -1);
    /// Computes the reply of every call whose first tmux subcommand is `subcommand` from its
    /// argv (a capture that answers with the markers it was given).
    using Answer = std::function<proc::RunResult(const std::vector<std::string>& argv)>;
    RecordingRunner& on_call(const std::string& subcommand, Answer answer);
    /// The calls `match` accepts fail to start (run() returns an error, as for a missing binary).
    RecordingRunner& fail_to_start(ArgvMatcher match, std::string error, int times = -1);
    /// The reply to calls no rule matches.
    RecordingRunner& set_default(proc::RunResult reply);

    util::Result<proc::RunResult> run(const proc::RunOptions& options) override;

    /// Every call so far, oldest first.
    std::vector<proc::RunOptions> calls() const;
    /// The argv of every call so far, oldest first.
    std::vector<std::vector<std::string>> argvs() const;
    /// The calls whose first tmux subcommand is `subcommand`, oldest first.
    std::vector<proc::RunOptions> calls_of(const std::string& subcommand) const;
    /// How many calls had `subcommand` as their first tmux subcommand.
    std::size_t count(const std::string& subcommand) const;
    /// Forgets the recorded calls (the rules stay).
    void clear_calls();

private:
    struct Rule {
        ArgvMatcher match;
        util::Result<proc::RunResult> reply;
        int remaining; ///< < 0: unlimited
        Answer answer; ///< when set, computes the reply
    };

    mutable std::mutex m_mutex;
    std::vector<Rule> m_rules;
    std::vector<proc::RunOptions> m_calls;
    proc::RunResult m_default = ok_reply();
};

/// Answers a batched capture (TmuxClient::capture(): per session `capture-pane`, then
/// `display-message -p <marker>`) with `screen_of(i)` for the i-th session, each followed by its
/// marker line, as tmux prints them.
RecordingRunner::Answer capture_answer(std::function<std::string(std::size_t i)> screen_of);

} // namespace gt::test
